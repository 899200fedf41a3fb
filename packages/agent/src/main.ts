import {
  buildActions,
  checkFleetCredentials,
  type Clock,
  connectFleet,
  type FleetbanConfig,
  interfaceAddresses,
  type Logger,
  logOutput,
  type LogOutput,
  type NatsConnection,
  serverAddresses,
  settlesWithin,
  systemClock,
  DEFAULT_ACTION_PATH,
} from '@fleetban/shared';
import { HostActions } from './actions/host-actions.js';
import { FirewallWriter } from './decisions/firewall-writer.js';
import { FleetAddresses } from './decisions/fleet-addresses.js';
import { hostGuard } from './decisions/host-guard.js';
import { createEnforcer } from './enforce/create.js';
import { runner as execRunner } from './enforce/exec.js';
import { LocalFallback } from './fallback/local-fallback.js';
import { type FleetSession, joinFleet } from './fleet-session.js';
import { JailRunner } from './jail/jail-runner.js';
import { FailureReporter } from './report/failure-reporter.js';
import { LogGate } from './report/log-gate.js';
import { anyGate } from './report/read-gate.js';
import { StartGarbage } from './start-garbage.js';
import { AGENT_VERSION } from './version.js';
/** Lines read, skipped, undecodable, matched and bytes behind, over every jail. */
function readingCounters(jails: readonly JailRunner[]) {
  const total = { lines: 0, skipped: 0, undecodable: 0, matched: 0, bytesBehind: 0 };
  for (const j of jails) {
    const c = j.sourceCounters();
    total.lines += c.lines;
    total.skipped += c.skipped;
    total.undecodable += c.undecodable;
    total.bytesBehind += c.bytesBehind;
    total.matched += j.counters.matched + j.counters.allowlisted;
  }
  return total;
}


/** The longest a stop waits for one step that needs NATS (flushing failures, draining the connection). */
const STOP_STEP_MS = 500;

/** How often an agent pings its NATS server: two unanswered pings (about 2 s) count as a disconnect. */
const PING_MS = 1000;

/** A running agent. */
export interface Agent {
  /** Stops reading, following and heartbeating; leaves the firewall as `on_stop` says. */
  stop(): Promise<void>;
}

/** Dependencies an agent is given. */
export interface AgentDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The logger's output, whose backlog holds reading back (default: the process's, shared/log). */
  readonly logOutput?: LogOutput;
}

/**
 * Wires one host. Everything the host does on its own starts first and needs no NATS: the
 * firewall, the bans saved by the last run (fleet list and local bans, decisions/firewall-writer.ts),
 * the jails (tail → filter → report, and → fallback, which bans locally while the fleet is
 * unreachable). The connection to the fleet is made in the background; once there, the host joins
 * (fleet-session.ts): failures waiting are sent, the ban list is followed, heartbeats start.
 */
export async function runAgent(config: FleetbanConfig, deps: AgentDeps): Promise<Agent> {
  const clock = deps.clock ?? systemClock;
  const log = deps.logger;
  const host = config.fleet.host;
  checkFleetCredentials(config.fleet, 'agent');
  const { enforcer, detected } = await createEnforcer(config.agent.enforcer, {
    runner: execRunner, clock, logger: log.child({ stage: 'enforce' }), blockType: config.agent.blockType, jails: config.jails,
  });
  await enforcer.start();
  log.info({ backend: enforcer.name, firewall: detected.summary }, `firewall: ${detected.summary}`);

  const ownAddresses = (): string[] => [...new Set([...interfaceAddresses(), ...config.fleet.addresses])].sort();
  const natsServers = await serverAddresses(config.fleet.servers, (name, err) => log.warn({ host: name, err }, 'cannot resolve a NATS server name: its addresses are not protected'));
  const fleetAddresses = new FleetAddresses(config.fleet.stateDir, log.child({ stage: 'decisions' }));
  fleetAddresses.load();
  const guard = hostGuard({ own: ownAddresses, natsServers, clock, fleet: () => fleetAddresses.current() });
  log.info({ own: ownAddresses(), natsServers }, 'this host never bans its own or its NATS servers\' addresses');

  // the Prometheus registry (prom-client and its process collectors) is made, and loaded, only
  // when [agent] metrics is set: an agent without it does not carry them
  const metricsAt = config.agent.metrics;
  const metrics = metricsAt ? new (await import('./metrics/prometheus.js')).AgentMetrics() : undefined;
  const actionLog = log.child({ stage: 'actions' });
  // host_action = ...: action.d files searched in /etc/fail2ban/action.d (a bad action is a config error here)
  const hostActions = new HostActions(config.jails.filter((j) => j.enabled).flatMap((j) => buildActions(j, 'host', { actionPath: [...config.fleet.actionPath, ...DEFAULT_ACTION_PATH], logger: actionLog })), actionLog);
  await hostActions.start();
  const writer = new FirewallWriter(enforcer, clock, log.child({ stage: 'decisions' }), {
    stateDir: config.fleet.stateDir, reconcileMs: config.agent.reconcileMs, admit: (target) => guard.check(target) === null, ...(metrics ? { enforced: metrics.enforced } : {}),
    host, ...(hostActions.any ? { banEvents: hostActions.tell } : {}),
  });
  await writer.restore();
  const reporter = new FailureReporter({ buffer: config.agent.buffer, stateDir: config.fleet.stateDir, spoolBytes: config.agent.spoolBytes }, log.child({ stage: 'report' }));
  // a recidive jail is the controller's policy over its ban history: there is no log to read for it
  const enabled = config.jails.filter((j) => j.enabled && j.policy !== 'recidive');
  // reading waits for the stream (reporter) and for the agent's own log reader (a failure is a log line)
  const logGate = new LogGate(deps.logOutput ?? logOutput);
  const gate = anyGate([reporter.gate, logGate]);
  const fallback = new LocalFallback({
    jails: enabled, sink: writer, clock, logger: log.child({ stage: 'fallback' }), guard,
    clockSkewMs: config.controller.maxClockSkewMs, ignoreip: config.controller.ignoreip,
  });
  fallback.start();
  const jails = enabled.map((j) => new JailRunner(j, host, (e) => {
    reporter.report(e);
    fallback.observe(e);
  }, log.child({ jail: j.name }), { stateDir: config.fleet.stateDir, pollMs: config.agent.pollMs, logger: log, clock, maxLineBytes: config.agent.maxLineBytes, gate }));
  try {
    await Promise.all(jails.map((j) => j.start()));
  } catch (err) {
    await Promise.all(jails.map((j) => j.stop().catch(() => undefined)));
    fallback.stop();
    reporter.stop();
    await writer.stop();
    await hostActions.stop();
    throw err;
  }

  const parts = { host, reporter, fallback, writer, fleetAddresses, guard, clock, heartbeatMs: config.agent.heartbeatMs, logger: log };
  const heartbeat = () => ({
    host,
    addresses: ownAddresses(),
    jails: jails.map((j) => j.jail.name),
    backend: enforcer.name,
    firewall: detected.summary,
    banned: writer.fleetSize,
    version: AGENT_VERSION,
    ...readingCounters(jails),
    failures: reporter.counters.published,
    buffered: reporter.counters.buffered,
    spoolBytes: reporter.counters.spoolBytes,
    drift: enforcer.report().drift,
    enforceFailed: enforcer.report().failed,
    ...fallback.status(),
  });
  if (metrics && metricsAt) await metrics.start(metricsAt, { jails, reporter, logGate, writer, enforcer, fallback, clock }, log.child({ stage: 'metrics' }));
  let stopping = false;
  const startGarbage = new StartGarbage(log);
  let nc: NatsConnection | undefined;
  let session: FleetSession | undefined;
  void connectFleet(config.fleet, { name: `fleetban-agent-${host}`, role: 'agent', logger: log, waitOnFirstConnect: true, pingIntervalMs: PING_MS }).then(
    (c) => {
      if (stopping) return void c.close().catch(() => undefined);
      nc = c;
      session = joinFleet(c, parts, heartbeat, () => {
        if (stopping) return;
        log.info({ host, jails: jails.map((j) => j.jail.name), servers: config.fleet.servers }, 'agent ready');
        startGarbage.soon();
      });
    },
    (err: unknown) => log.error({ err }, 'cannot connect to the fleet: protecting this host locally only'),
  );
  log.info({ host, jails: jails.map((j) => j.jail.name) }, 'agent started: protecting this host, joining the fleet');
  startGarbage.soon();
  return {
    // every step that waits on NATS is bounded: a stop ends in every state (connected, cut off,
    // reconnecting, with a backlog, never connected); what is not sent goes to the spool
    async stop() {
      stopping = true;
      startGarbage.stop();
      await metrics?.stop();
      await session?.stop();
      fallback.stop();
      await Promise.all(jails.map((j) => j.stop()));
      if (nc) await settlesWithin(reporter.flush(), STOP_STEP_MS);
      reporter.stop();
      await writer.stop();
      await hostActions.stop();
      if (nc && !(await settlesWithin(nc.drain(), STOP_STEP_MS))) await nc.close().catch(() => undefined);
      await enforcer.stop(config.agent.onStop);
      log.info({ onStop: config.agent.onStop, joined: nc !== undefined }, 'agent stopped');
    },
  };
}
