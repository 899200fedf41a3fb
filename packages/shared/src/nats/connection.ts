import { accessSync, constants, readFileSync } from 'node:fs';
import { checkServerIdentity, type ConnectionOptions as TlsConnectOptions, type PeerCertificate } from 'node:tls';
import type { Authenticator, NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { CredentialsError, NatsError } from '../errors.js';
import type { FleetConfig } from '../config/types.js';
import { readSeedFile } from '../credentials/seed-file.js';
import type { Logger } from '../log/logger.js';
import { type ClientAuth, clientAuth, type ClientRole } from './client-auth.js';

export type { NatsConnection, Msg, Subscription } from '@nats-io/transport-node';

/** Options of {@link connectFleet}. */
export interface ConnectOptions {
  /** Client name shown by the server (`fleetban-agent-web-1`). */
  readonly name: string;
  /** Which client this is: decides its credentials and inbox prefix ({@link clientAuth}). */
  readonly role: ClientRole;
  /**
   * Keep retrying the first connection instead of failing (agents: a host keeps protecting itself
   * while the fleet's server is away). Default true.
   */
  readonly waitOnFirstConnect?: boolean;
  /**
   * How often the server is pinged, in ms; two unanswered pings count as a disconnect. Default:
   * the client's own (2 minutes). Agents ping every second, so a cut link is noticed in about 2 s.
   */
  readonly pingIntervalMs?: number;
  readonly logger: Logger;
}

/** What a client connects with, its files read. */
interface Credentials {
  readonly auth: ClientAuth;
  readonly seed?: Uint8Array;
  readonly creds?: Uint8Array;
}

/** Reads the seed, creds and TLS files `role` connects with: one missing or unreadable is a {@link CredentialsError} naming it. */
function readCredentials(fleet: FleetConfig, role: ClientRole): Credentials {
  const auth = clientAuth(fleet, role);
  for (const file of [auth.tlsCa, auth.tlsCert, auth.tlsKey]) if (file) checkReadable(file, 'TLS');
  return {
    auth,
    ...(auth.nkeyFile ? { seed: readSeedFile(auth.nkeyFile) } : {}),
    ...(auth.creds ? { creds: readCredsFile(auth.creds) } : {}),
  };
}

/**
 * Reads the credentials and TLS files `role` would connect with, without connecting: a missing or
 * unreadable file is a {@link CredentialsError} naming it. For a client that connects in the
 * background (the agent) but must not start at all with broken credentials.
 */
export function checkFleetCredentials(fleet: FleetConfig, role: ClientRole): void {
  readCredentials(fleet, role);
}

/**
 * Connects to the fleet's NATS servers as `opts.role`, with the credentials, TLS files and inbox
 * prefix {@link clientAuth} picks from the `[fleetban]` section, reconnecting forever. A missing
 * or unreadable seed or creds file is a {@link CredentialsError} naming it; connection state
 * changes are logged; a foreign failure becomes {@link NatsError}.
 */
export async function connectFleet(fleet: FleetConfig, opts: ConnectOptions): Promise<NatsConnection> {
  const { auth, seed, creds } = readCredentials(fleet, opts.role);
  // The NATS client is imported here, at the first connection, not with this module: tools that
  // import the shared door without talking to NATS (`fleetban regex`) do not pay for loading it.
  const { connect, credsAuthenticator, nkeyAuthenticator } = await import('@nats-io/transport-node');
  const authenticator: Authenticator[] = [];
  if (seed) authenticator.push(nkeyAuthenticator(seed));
  if (creds) authenticator.push(credsAuthenticator(creds));
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: [...fleet.servers],
      name: opts.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: opts.waitOnFirstConnect ?? true,
      // without it the client makes an Error (a captured stack) up front for every request, and every
      // JetStream publish and KV put is one: 79 of 1,567 ms of the controller's CPU at 10,000 failures
      // a second, in each ban's own path; a failed request still says what failed
      noAsyncTraces: true,
      ...(opts.pingIntervalMs !== undefined ? { pingInterval: opts.pingIntervalMs, maxPingOut: 2 } : {}),
      inboxPrefix: auth.inboxPrefix,
      ...(auth.user ? { user: auth.user, pass: auth.password } : {}),
      ...(auth.token ? { token: auth.token } : {}),
      ...(authenticator.length > 0 ? { authenticator } : {}),
      ...tlsOptions(auth, fleet.servers),
    });
  } catch (cause) {
    const why = cause instanceof Error ? `: ${cause.message}` : '';
    throw new NatsError(`cannot connect to ${fleet.servers.join(', ')}${why}`, { cause });
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

/**
 * TLS options of the client: the CA to trust and the client certificate, when configured. The
 * server's certificate must name one of the configured servers' hosts: nats.js upgrades its socket
 * without telling Node which address it dialled, so Node alone would check an IP address server
 * (`nats://10.0.0.1:4222`, the common case) against "localhost".
 */
function tlsOptions(auth: ClientAuth, servers: readonly string[]): Pick<NodeConnectionOptions, 'tls'> {
  if (!auth.tlsCa && !auth.tlsCert) return {};
  const hosts = servers.map((s) => new URL(s).hostname.replace(/^\[|\]$/g, ''));
  // nats.js hands the options it does not know (checkServerIdentity) on to Node's tls.connect
  const tls: NonNullable<NodeConnectionOptions['tls']> & Pick<TlsConnectOptions, 'checkServerIdentity'> = {
    ...(auth.tlsCa ? { caFile: auth.tlsCa } : {}),
    ...(auth.tlsCert ? { certFile: auth.tlsCert, keyFile: auth.tlsKey } : {}),
    checkServerIdentity: (host: string, cert: PeerCertificate) => serverIdentityError(host, cert, hosts),
  };
  return { tls };
}

/** undefined when `cert` names `host` (Node's idea of the peer, unless its "localhost" fallback) or a configured server host. */
function serverIdentityError(host: string, cert: PeerCertificate, configured: readonly string[]): Error | undefined {
  const names = host === 'localhost' && !configured.includes('localhost') ? configured : [host, ...configured];
  let first: Error | undefined;
  for (const name of names) {
    const err = checkServerIdentity(name, cert);
    if (err === undefined) return undefined;
    first ??= err;
  }
  return first ?? new Error('no server host to check the certificate against');
}

function checkReadable(file: string, what: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CredentialsError(file, `cannot read the ${what} file (${code})`, { cause: err });
  }
}

function readCredsFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new CredentialsError(file, `cannot read the NATS creds file (${code})`, { cause: err });
  }
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
