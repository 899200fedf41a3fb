import {
  Allowlist,
  type Clock,
  connectFleet,
  ensureEventsStream,
  type FailureEvent,
  type FleetbanConfig,
  type JailConfig,
  type Logger,
  onReconnect,
  systemClock,
} from '@fleetban/shared';
import { AdminService } from './admin/admin-service.js';
import { JailTrackers } from './aggregate/jail-tracker.js';
import { BanDecider } from './decide/ban-decider.js';
import { BanExpiry } from './expire/ban-expiry.js';
import { HostRegistry } from './fleet/host-registry.js';
import { EventIntake } from './intake/event-intake.js';
import { HeartbeatIntake } from './intake/heartbeat-intake.js';
import { aliveInterval, LivenessBeacon } from './publish/liveness-beacon.js';
import { BanStore } from './store/ban-store.js';

/** A running controller. */
export interface Controller {
  /** Stops consuming and answering, then closes the connection. */
  stop(): Promise<void>;
}

/** Dependencies a controller is given (tests inject a clock). */
export interface ControllerDeps {
  readonly logger: Logger;
  readonly clock?: Clock;
}

/**
 * Wires intake → aggregate → decide → publish, plus expiry, heartbeats, the admin service and,
 * once all of that runs, the liveness beacon agents watch.
 */
export async function runController(config: FleetbanConfig, deps: ControllerDeps): Promise<Controller> {
  const clock = deps.clock ?? systemClock;
  const log = deps.logger;
  const c = config.controller;
  const nc = await connectFleet(config.fleet, { name: `fleetban-controller-${config.fleet.host}`, role: 'controller', logger: log, waitOnFirstConnect: true });
  await ensureEventsStream(nc, c.eventsMaxAgeMs);
  const store = await BanStore.open(nc, log.child({ stage: 'store' }));
  const hosts = new HostRegistry();
  const fallback = config.jailDefaults;
  const trackers = new JailTrackers(config.jails, (name): JailConfig => ({ ...fallback, name }), c.maxTracked);
  const globalAllow = new Allowlist(c.ignoreip);
  const decider = new BanDecider({ trackers, hosts, bans: store.bans, offences: store.offences, globalAllow });
  const decideLog = log.child({ stage: 'decide' });

  const onFailure = async (e: FailureEvent, replay: boolean): Promise<void> => {
    const v = decider.decide(e, clock());
    if (v.kind === 'ban') {
      await store.ban(v.decision);
      decideLog.info({ jail: e.jail, ip: e.ip, hosts: v.decision.hosts, failures: v.decision.failures, expiresMs: v.decision.expiresMs, banCount: v.decision.banCount, replay }, 'ban');
    } else if (v.kind === 'counted') {
      decideLog.debug({ jail: e.jail, ip: e.ip, host: e.host, failures: v.failures, replay }, 'failure counted');
    } else {
      decideLog.debug({ jail: e.jail, ip: e.ip, why: v.why, replay }, 'failure ignored');
    }
  };

  const heartbeats = new HeartbeatIntake(hosts, clock, log.child({ stage: 'heartbeat' }));
  heartbeats.start(nc);
  const intake = new EventIntake(nc, onFailure, log.child({ stage: 'intake' }));
  const longestFindtime = Math.max(fallback.findtimeMs, ...config.jails.map((j) => j.findtimeMs));
  await intake.start(clock() - longestFindtime);
  const expiry = new BanExpiry(store, clock, log.child({ stage: 'expire' }));
  expiry.start(c.expireMs);
  const pruner = setInterval(() => trackers.prune(clock()), 60_000);
  const admin = new AdminService({ store, trackers, hosts, globalAllow, clock, logger: log.child({ stage: 'admin' }), malformed: () => intake.malformed + heartbeats.malformed });
  admin.start(nc);
  const beacon = new LivenessBeacon(nc, config.fleet.host, aliveInterval(c.expireMs), clock, log.child({ stage: 'liveness' }));
  beacon.start();
  onReconnect(nc, () => beacon.send());
  await nc.flush();
  log.info({ host: config.fleet.host, servers: config.fleet.servers, jails: config.jails.map((j) => j.name) }, 'controller ready');

  return {
    async stop() {
      beacon.stop();
      admin.stop();
      heartbeats.stop();
      expiry.stop();
      clearInterval(pruner);
      await intake.stop();
      await nc.drain().catch(() => undefined);
      log.info('controller stopped');
    },
  };
}
