import { BanList, type BanGuard, type Clock, type Heartbeat, HostRecords, type Logger, type NatsConnection, onReconnect } from '@fleetban/shared';
import { BanFollower } from './decisions/ban-follower.js';
import { BanListOpener } from './decisions/ban-list-opener.js';
import type { FleetAddresses } from './decisions/fleet-addresses.js';
import type { FirewallWriter } from './decisions/firewall-writer.js';
import type { LocalFallback } from './fallback/local-fallback.js';
import type { FailureReporter } from './report/failure-reporter.js';
import { HeartbeatSender } from './report/heartbeat.js';

/** The parts of a running agent that work without NATS and take the connection once it is there. */
export interface LocalParts {
  readonly host: string;
  readonly reporter: FailureReporter;
  readonly fallback: LocalFallback;
  readonly writer: FirewallWriter;
  readonly fleetAddresses: FleetAddresses;
  readonly guard: BanGuard;
  readonly clock: Clock;
  readonly heartbeatMs: number;
  readonly logger: Logger;
}

/** The agent's life in the fleet, from its first connection on. */
export interface FleetSession {
  /** Stops following and heartbeating (the connection is the caller's to drain). */
  stop(): Promise<void>;
}

/**
 * Joins the fleet over `nc`, once connected: failures waiting in memory and in the spool are
 * sent, the fallback hears the controller's liveness, the ban list (once the controller has
 * created it) and the fleet's addresses are followed, and the heartbeat starts. `ready` is called
 * once the current ban list is in the firewall, or when the list is not there yet. Everything a host
 * does on its own — reading logs, local bans, the saved lists — has been running before this.
 */
export function joinFleet(nc: NatsConnection, parts: LocalParts, info: () => Omit<Heartbeat, 'timeMs' | 'refused'>, ready: () => void): FleetSession {
  const log = parts.logger.child({ stage: 'decisions' });
  parts.reporter.attach(nc);
  parts.fallback.attach(nc);
  const follower = new BanFollower(parts.writer, log, { host: parts.host, guard: parts.guard });
  // the controller creates the hosts bucket before the ban list: once the list is there, both are
  const opener = new BanListOpener(async () => [await BanList.open(nc, false), await HostRecords.open(nc, false)] as const, log);
  const follow = async ([list, records]: readonly [BanList, HostRecords]): Promise<void> => {
    await parts.fleetAddresses.follow(records);
    await follower.start(list);
  };
  // ready once the ban list is followed, or at once when the controller has not created it yet
  void opener.tryOnce().then(async (opened) => {
    if (opened) await follow(opened);
    ready();
    if (!opened) {
      const later = await opener.wait();
      if (later) await follow(later);
    }
  }).catch((err: unknown) => log.error({ err }, 'cannot follow the ban list'));
  onReconnect(nc, () => {
    void parts.reporter.flush();
    void parts.writer.reconcile('reconnect');
  });
  const heartbeat = new HeartbeatSender(nc, () => ({ ...info(), refused: follower.refused }), parts.clock, parts.logger.child({ stage: 'heartbeat' }));
  heartbeat.start(parts.heartbeatMs);
  return {
    async stop() {
      heartbeat.stop();
      opener.stop();
      parts.fleetAddresses.stop();
      follower.stop();
    },
  };
}
