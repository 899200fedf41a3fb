import { randomBytes } from 'node:crypto';
import {
  buildActions,
  type Clock,
  FleetbanError,
  connectFleet,
  type ConfigChange,
  type CreateOptions,
  ensureEventsStream,
  type FleetbanConfig,
  HostRecords,
  interfaceAddresses,
  type JailConfig,
  LeaseBucket,
  type Logger,
  onReconnect,
  serverAddresses,
  SnapshotStream,
  systemClock,
  DEFAULT_ACTION_PATH,
} from '@fleetban/shared';
import { holdHeapSteady } from './runtime/steady-heap.js';
import { ControllerActions } from './actions/controller-actions.js';
import { AdminService } from './admin/admin-service.js';
import { ConfigService } from './admin/config-service.js';
import { IgnoreService } from './admin/ignore-service.js';
import { JailTrackers } from './aggregate/jail-tracker.js';
import { BanDecider } from './decide/ban-decider.js';
import { FailureHandler } from './decide/failure-handler.js';
import { Allowlists, fleetGuard } from './decide/fleet-guard.js';
import { BanExpiry } from './expire/ban-expiry.js';
import { forgetAfterMs, HostRegistry } from './fleet/host-registry.js';
import { EventIntake } from './intake/event-intake.js';
import { HeartbeatIntake } from './intake/heartbeat-intake.js';
import { ControllerLease, TakeoverStartError } from './lease/controller-lease.js';
import { CounterSet } from './metrics/counter-set.js';
import { ControllerMetrics } from './metrics/prometheus.js';
import { aliveInterval, LivenessBeacon } from './publish/liveness-beacon.js';
import { RecidivePolicy } from './recidive/recidive-policy.js';
import { banAudit } from './store/ban-audit.js';
import { BanStore } from './store/ban-store.js';
import { HistoryPurge } from './store/history-purge.js';
import { restoreWindows, SnapshotKeeper } from './snapshot/snapshot-keeper.js';
import { WarmSnapshot } from './snapshot/warm-snapshot.js';
import { WebView } from './web/web-view.js';

/** A running controller. */
export interface Controller {
  /** Stops consuming and answering, releases the lease, then closes the connection. */
  stop(): Promise<void>;
  /** Resolves (with why) when the controller must stop on its own: its lease was lost. */
  readonly ended: Promise<string>;
  /** Reads the configuration file again and applies it (`fleetban reload`, SIGHUP); throws its ConfigError, changing nothing. */
  reload(by: string): ConfigChange[];
}

/** Dependencies a controller is given (tests inject a clock). */
export interface ControllerDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Aborts the wait for the lease (a standby told to stop). */
  readonly signal?: AbortSignal;
}

/**
 * Wires intake → aggregate → decide → publish, plus expiry, heartbeats, the admin service and,
 * once all of that runs, the liveness beacon agents watch. The fleet's hosts are read back from
 * their bucket, and the guard built, before any failure is decided (the replay included).
 */
export async function runController(config: FleetbanConfig, deps: ControllerDeps): Promise<Controller> {
  const clock = deps.clock ?? systemClock;
  const log = deps.logger;
  const c = config.controller;
  const nc = await connectFleet(config.fleet, { name: `fleetban-controller-${config.fleet.host}`, role: 'controller', logger: log, waitOnFirstConnect: true });
  const holder = `${config.fleet.host}-${process.pid}-${randomBytes(3).toString('hex')}`;
  // the stream and buckets this controller creates, with [controller] replicas copies each
  const create: CreateOptions = { replicas: c.replicas, logger: log.child({ stage: 'state' }) };
  const lease = new ControllerLease(await LeaseBucket.open(nc, create), { holder, ttlMs: c.leaseTtlMs, clock, logger: log.child({ stage: 'lease' }) });
  // a standby reads each new snapshot while it waits: taking over then starts from it at once
  const snapshots = await SnapshotStream.open(nc, create);
  const warm = new WarmSnapshot(snapshots, log.child({ stage: 'snapshot' }), c.snapshotMs);
  warm.start();
  if (!(await lease.acquire(deps.signal))) {
    await warm.stop();
    await nc.drain().catch(() => undefined);
    return { stop: async () => undefined, ended: new Promise<string>(() => undefined), reload: () => [] };
  }
  log.info({ holder }, 'controller lease held: this controller is active');
  let leaseLost = false;
  void lease.lost.then(() => (leaseLost = true));
  // what a start that fails half-way has started, stopped again in reverse before the error is
  // thrown (a standby that took the lease while NATS flapped tries again; the lease is released)
  const undo: Array<() => unknown> = [];
  try {
    await ensureEventsStream(nc, c.eventsMaxAgeMs, create);
    const snapshot = await warm.latest();
    const counters = new CounterSet();
    const hosts = new HostRegistry(await HostRecords.open(nc, true, create), log.child({ stage: 'fleet' }));
    const known = await hosts.load();
    const natsServers = await serverAddresses(config.fleet.servers, (host, err) => log.warn({ host, err }, 'cannot resolve a NATS server name: its addresses are not protected'));
    const controller = [...interfaceAddresses(), ...config.fleet.addresses];
    const limits = { minPrefixV4: c.minPrefixV4, minPrefixV6: c.minPrefixV6, maxBantimeMs: c.maxBantimeMs };
    const allowlists = new Allowlists(c.ignoreip);
    const guard = fleetGuard({ hosts, natsServers, controller, allowlists, limits });
    log.info({ hosts: known, natsServers, controller }, 'fleet addresses loaded: never banned');
    const store = await BanStore.open(nc, guard, log.child({ stage: 'store' }), create, snapshot);
    store.onEvent(banAudit(log.child({ stage: 'audit' })));
    const actionLog = log.child({ stage: 'actions' });
    // action.d files: [fleetban] action_path, then /etc/fail2ban/action.d (a bad action is a config error here)
    const runners = config.jails.filter((j) => j.enabled).flatMap((j) => buildActions(j, 'controller', { actionPath: [...config.fleet.actionPath, ...DEFAULT_ACTION_PATH], logger: actionLog }));
    // before the replay: a failure replayed without its ban stored queues that ban's actions too
    const actions = await ControllerActions.open(nc, store, runners, { counters, logger: actionLog, create });
    const fallback = config.jailDefaults;
    const trackers = new JailTrackers(config.jails, (name): JailConfig => ({ ...fallback, name }), c.maxTracked);
    const ignore = await IgnoreService.open(nc, { allowlists, store, trackers, clock, logger: log.child({ stage: 'ignore' }) }, create);
    undo.push(() => ignore.stop());
    const settings = new ConfigService({ config, trackers, allowlists, logger: log.child({ stage: 'config' }) });
    const decider = new BanDecider({ trackers, bans: store.bans, offences: store.offences, guard, clockSkewMs: c.maxClockSkewMs });
    const recidive = new RecidivePolicy(config.jails, { bans: store.bans, offences: store.offences, guard });
    const metrics = new ControllerMetrics({ counters, store, hosts, clock });
    store.onEvent(metrics.banEvent);
    const failures = new FailureHandler(decider, store, counters, clock, log.child({ stage: 'decide' }), recidive, { stored: metrics.banStored });
    undo.push(() => failures.stop());

    const heartbeats = new HeartbeatIntake(hosts, clock, counters, log.child({ stage: 'heartbeat' }));
    heartbeats.start(nc);
    undo.push(() => heartbeats.stop());
    const intake = new EventIntake(nc, (e, replay) => failures.handle(e, replay), counters, log.child({ stage: 'intake' }), lease);
    const longestFindtime = Math.max(fallback.findtimeMs, ...config.jails.filter((j) => j.policy !== 'recidive').map((j) => j.findtimeMs));
    undo.push(() => intake.stop());
    const replayFrom = await restoreWindows(snapshot, { nc, trackers, intake, logger: log.child({ stage: 'snapshot' }) }, clock() - longestFindtime);
    if (!(await intake.start(replayFrom))) throw new FleetbanError('SNAPSHOT_AHEAD', 'the snapshot counts events the consumer has not acknowledged');
    const keeper = new SnapshotKeeper(snapshots, { nc, intake, trackers, store, counters, clock, logger: log.child({ stage: 'snapshot' }) }, c.snapshotMs, 'afterSeq' in replayFrom ? snapshot : undefined);
    keeper.start(lease);
    undo.push(() => keeper.stop(false));
    const expiry = new BanExpiry(store, clock, log.child({ stage: 'expire' }));
    expiry.start(c.expireMs, lease);
    undo.push(() => expiry.stop());
    const pruner = setInterval(() => trackers.prune(clock()), 60_000);
    undo.push(() => clearInterval(pruner));
    // history is kept at least the longest findtime after a ban: replayed failures never count twice
    const purge = new HistoryPurge(store, clock, Math.max(c.dbPurgeAgeMs, longestFindtime), log.child({ stage: 'purge' }));
    purge.start(lease);
    undo.push(() => purge.stop());
    const admin = new AdminService({ store, trackers, hosts, guard, counters, clock, logger: log.child({ stage: 'admin' }), settings, ignore, forgetAfterMs: forgetAfterMs(config.agent.heartbeatMs) });
    admin.start(nc, lease);
    undo.push(() => admin.stop());
    const beacon = new LivenessBeacon(nc, config.fleet.host, aliveInterval(c.expireMs), clock, log.child({ stage: 'liveness' }), lease);
    beacon.start();
    undo.push(() => beacon.stop());
    onReconnect(nc, () => beacon.send());
    undo.push(() => actions?.stop());
    await actions?.start();
    undo.push(() => metrics.stop());
    await metrics.start(c.metrics, log.child({ stage: 'metrics' }));
    const web = await WebView.startIfSet(c, { store, trackers, hosts, guard, counters, clock, logger: log.child({ stage: 'web' }), lease });
    await nc.flush();
    log.info({ host: config.fleet.host, servers: config.fleet.servers, jails: config.jails.map((j) => j.name) }, 'controller ready');
    holdHeapSteady();

    return {
      ended: lease.lost,
      reload: (by) => settings.reload(by),
      async stop() {
        beacon.stop();
        await metrics.stop();
        await web?.stop();
        admin.stop();
        ignore.stop();
        heartbeats.stop();
        expiry.stop();
        purge.stop();
        clearInterval(pruner);
        failures.stop();
        await intake.stop();
        // the state at a clean stop: the next controller replays nothing before it (none after the
        // lease was lost: another controller may be active and saving by now)
        await keeper.stop(!leaseLost);
        await actions?.stop();
        await lease.release().catch(() => undefined);
        await nc.drain().catch(() => undefined);
        log.info('controller stopped');
      },
    };
  } catch (err) {
    for (const f of undo.reverse()) await Promise.resolve().then(f).catch(() => undefined);
    await warm.stop().catch(() => undefined); // it looks ahead until the snapshot is read
    await lease.release().catch(() => undefined);
    await nc.drain().catch(() => undefined);
    throw lease.stoodBy ? new TakeoverStartError(err) : err;
  }
}
