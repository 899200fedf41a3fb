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

/** How long a command waits for its connection to close before it ends anyway, in ms. */
const CLOSE_WAIT_MS = 2_000;

/**
 * Closes a command's connection, waiting at most {@link CLOSE_WAIT_MS}: the reply is printed by
 * then, and a close that does not finish (a server gone mid-way, the client reconnecting) must not
 * keep the command from exiting.
 */
export async function closeAdmin(nc: NatsConnection): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([nc.close().catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
  clearTimeout(timer);
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
