import { userInfo } from 'node:os';
import { connectFleet, FleetbanError, type FleetbanConfig, type NatsConnection, silentLogger } from '@fleetban/shared';

/**
 * Connects the admin commands (`status`, `ban`, `unban`, `banned`) to the fleet's NATS with the
 * admin's credentials (or the host's, on a host). A credentials file problem says which file; a
 * refused connection says why (the server's words) and what to check.
 */
export async function connectAdmin(config: FleetbanConfig): Promise<NatsConnection> {
  return connectFleet(config.fleet, { name: `fleetban-cli-${config.fleet.host}`, role: 'admin', logger: silentLogger(), waitOnFirstConnect: false }).catch((err: unknown) => {
    if (err instanceof FleetbanError && err.code !== 'NATS_FAILED') throw err;
    const why = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new FleetbanError('NATS_FAILED', `cannot reach NATS at ${config.fleet.servers.join(', ')}${why} (is fleetban running, with this host's credentials enrolled?)`, { cause: err });
  });
}

/** Who asks, for the controller's audit log: `user@host` (this host's `[fleetban] host`). */
export function requester(config: FleetbanConfig): string {
  let user = process.env.SUDO_USER ?? '';
  try {
    user ||= userInfo().username;
  } catch {
    user ||= `uid ${process.getuid?.() ?? '?'}`;
  }
  return `${user}@${config.fleet.host}`;
}
