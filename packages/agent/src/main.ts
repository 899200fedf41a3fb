import {
  BanList,
  type Clock,
  connectFleet,
  type FleetbanConfig,
  HostRecords,
  interfaceAddresses,
  type Logger,
  onReconnect,
  serverAddresses,
  settlesWithin,
  systemClock,
  unlessAborted,
} from '@fleetban/shared';
import { BanFollower } from './decisions/ban-follower.js';
import { BanListOpener } from './decisions/ban-list-opener.js';
import { FleetAddresses } from './decisions/fleet-addresses.js';
import { hostGuard } from './decisions/host-guard.js';
import { createEnforcer } from './enforce/create.js';
import { runner as execRunner } from './enforce/exec.js';
import { LocalFallback } from './fallback/local-fallback.js';
import { JailRunner } from './jail/jail-runner.js';
import { FailureReporter } from './report/failure-reporter.js';
import { HeartbeatSender } from './report/heartbeat.js';
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
const STOP_STEP_MS = 1000;

/** A running agent. */
export interface Agent {
  /** Stops reading, following and heartbeating; leaves the firewall as `on_stop` says. */
  stop(): Promise<void>;
}

/** Dependencies an agent is given. */
export interface AgentDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Aborts a start still waiting for NATS (the agent then stops as `on_stop` says). */
  readonly signal?: AbortSignal;
}

/**
 * Wires one host: enabled jails (tail → filter → report, and → fallback), the ban list follower
 * (watch → enforce) and the heartbeat. The firewall is set up before NATS is reached and before
 * any log is read. The ban list is opened without creating it: while the controller has not
 * created it yet, the follower waits in the background and the host protects itself locally
 * (fallback/), as it does whenever the fleet is unreachable.
 */
export async function runAgent(config: FleetbanConfig, deps: AgentDeps): Promise<Agent> {
  const clock = deps.clock ?? systemClock;
  const log = deps.logger;
  const host = config.fleet.host;
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

  const nc = await unlessAborted(connectFleet(config.fleet, { name: `fleetban-agent-${host}`, role: 'agent', logger: log, waitOnFirstConnect: true }), deps.signal);
  if (nc === null) {
    await enforcer.stop(config.agent.onStop);
    log.info({ onStop: config.agent.onStop }, 'agent stopped before NATS was reached');
    return { stop: async () => undefined };
  }
  const undo: (() => unknown)[] = [];
  try {
    const reporter = new FailureReporter(nc, { buffer: config.agent.buffer, stateDir: config.fleet.stateDir, spoolBytes: config.agent.spoolBytes }, log.child({ stage: 'report' }));
    // a recidive jail is the controller's policy over its ban history: there is no log to read for it
    const enabled = config.jails.filter((j) => j.enabled && j.policy !== 'recidive');
    const fallback: LocalFallback = new LocalFallback({
      jails: enabled,
      enforcer,
      clock,
      logger: log.child({ stage: 'fallback' }),
      guard,
      clockSkewMs: config.controller.maxClockSkewMs,
      fleetBanned: (ip, nowMs): boolean => follower.has(ip, nowMs),
      ignoreip: config.controller.ignoreip,
    });
    const follower: BanFollower = new BanFollower(enforcer, clock, log.child({ stage: 'decisions' }), fallback, { host, guard });
    fallback.start(nc);
    undo.push(() => fallback.stop());
    const jails = enabled.map((j) => new JailRunner(j, host, (e) => {
      reporter.report(e);
      fallback.observe(e);
    }, log.child({ jail: j.name }), { stateDir: config.fleet.stateDir, pollMs: config.agent.pollMs, logger: log, clock, maxLineBytes: config.agent.maxLineBytes, gate: reporter.gate }));

    undo.push(() => follower.stop(), () => fleetAddresses.stop());
    // the controller creates the hosts bucket before the ban list: once the list is there, both are
    const opener = new BanListOpener(async () => [await BanList.open(nc, false), await HostRecords.open(nc, false)] as const, log.child({ stage: 'decisions' }));
    undo.push(() => opener.stop());
    const follow = async ([list, records]: readonly [BanList, HostRecords]): Promise<void> => {
      await fleetAddresses.follow(records);
      await follower.start(list, config.agent.reconcileMs);
    };
    const opened = await opener.tryOnce();
    if (opened) await follow(opened);
    else {
      void opener.wait().then((o) => (o ? follow(o) : undefined)).catch((err: unknown) => log.error({ err }, 'cannot follow the ban list'));
    }
    onReconnect(nc, () => {
      void reporter.flush();
      void follower.reconcile('reconnect');
    });

    const heartbeat = new HeartbeatSender(
      nc,
      () => ({
        host,
        addresses: ownAddresses(),
        jails: jails.map((j) => j.jail.name),
        backend: enforcer.name,
        firewall: detected.summary,
        banned: follower.size,
        version: AGENT_VERSION,
        ...readingCounters(jails),
        failures: reporter.counters.published,
        buffered: reporter.counters.buffered,
        spoolBytes: reporter.counters.spoolBytes,
        drift: enforcer.report().drift,
        enforceFailed: enforcer.report().failed,
        ...fallback.status(),
        refused: follower.refused,
      }),
      clock,
      log.child({ stage: 'heartbeat' }),
    );
    heartbeat.start(config.agent.heartbeatMs);
    undo.push(() => heartbeat.stop(), () => Promise.all(jails.map((j) => j.stop())), () => reporter.stop());
    await Promise.all(jails.map((j) => j.start()));
    log.info({ host, jails: jails.map((j) => j.jail.name), servers: config.fleet.servers }, 'agent ready');
    return {
      // every step that waits on NATS is bounded: a stop ends in every state (connected, cut off,
      // reconnecting, with a backlog); what is not sent goes to the spool for the next start
      async stop() {
        heartbeat.stop();
        opener.stop();
        fleetAddresses.stop();
        fallback.stop();
        await Promise.all(jails.map((j) => j.stop()));
        await settlesWithin(reporter.flush(), STOP_STEP_MS);
        reporter.stop();
        await follower.stop();
        if (!(await settlesWithin(nc.drain(), STOP_STEP_MS))) await nc.close().catch(() => undefined);
        await enforcer.stop(config.agent.onStop);
        log.info({ onStop: config.agent.onStop }, 'agent stopped');
      },
    };
  } catch (err) {
    for (const u of undo.reverse()) {
      try {
        await u();
      } catch {
        // already failing: the first error is the one reported
      }
    }
    await nc.close().catch(() => undefined);
    throw err;
  }
}
