import { readFileSync } from 'node:fs';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsError } from '../errors.js';
import type { FleetConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';

export type { NatsConnection, Msg, Subscription } from '@nats-io/transport-node';

/** Options of {@link connectFleet}. */
export interface ConnectOptions {
  /** Client name shown by the server (`fleetban-agent-web-1`). */
  readonly name: string;
  /**
   * Keep retrying the first connection instead of failing (agents: a host keeps protecting itself
   * while the fleet's server is away). Default true.
   */
  readonly waitOnFirstConnect?: boolean;
  readonly logger: Logger;
}

/**
 * Connects to the fleet's NATS servers with the credentials of the `[fleetban]` section, reconnecting
 * forever. Connection state changes are logged; a foreign failure becomes {@link NatsError}.
 */
export async function connectFleet(fleet: FleetConfig, opts: ConnectOptions): Promise<NatsConnection> {
  // The NATS client is imported here, at the first connection, not with this module: tools that
  // import the shared door without talking to NATS (`fleetban regex`) do not pay for loading it.
  const { connect, credsAuthenticator } = await import('@nats-io/transport-node');
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: [...fleet.servers],
      name: opts.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: opts.waitOnFirstConnect ?? true,
      ...(fleet.user ? { user: fleet.user, pass: fleet.password } : {}),
      ...(fleet.token ? { token: fleet.token } : {}),
      ...(fleet.creds ? { authenticator: credsAuthenticator(readFileSync(fleet.creds)) } : {}),
    });
  } catch (cause) {
    throw new NatsError(`cannot connect to ${fleet.servers.join(', ')}`, { cause });
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') {
        opts.logger.info({ nats: s.type, server: s.server }, `nats ${s.type}`);
      } else if (s.type === 'error') {
        // the server's text (e.g. a permissions violation) is the only trace of it
        opts.logger.warn({ nats: s.type, err: s.error.message }, 'nats error');
      }
    }
  })();
  return nc;
}

/** Runs `fn` on every disconnect and every reconnect of `nc`: `true` once connected again. */
export function onConnectionChange(nc: NatsConnection, fn: (connected: boolean) => void): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') fn(false);
      else if (s.type === 'reconnect') fn(true);
    }
  })();
}

/** Runs `fn` on every reconnect of `nc` (not on the first connect). */
export function onReconnect(nc: NatsConnection, fn: () => void): void {
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'reconnect') fn();
  })();
}
