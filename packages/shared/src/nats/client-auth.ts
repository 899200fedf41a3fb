/**
 * Which credentials, TLS files and inbox prefix a fleetban client uses, decided in one place for
 * the three kinds of client. {@link connectFleet} reads the files it names.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FleetConfig } from '../config/types.js';
import { ADMIN_MEMBER, CONTROLLER_MEMBER } from '../credentials/member.js';
import { seedFile } from '../credentials/locations.js';
import { hostInboxPrefix } from '../subjects.js';

/**
 * What a client is: a host's `agent`, the `controller`, or the `admin` verbs of the CLI
 * (`ban`, `unban`, `status`, `banned`).
 */
export type ClientRole = 'agent' | 'controller' | 'admin';

/** The credentials and connection options of one client (see {@link clientAuth}). */
export interface ClientAuth {
  /** Seed file of nkey authentication; '' for none. */
  readonly nkeyFile: string;
  /** nats_user / nats_password, nats_token, nats_creds as configured ('' for none). */
  readonly user: string;
  readonly password: string;
  readonly token: string;
  readonly creds: string;
  /** Client TLS files ('' for none). */
  readonly tlsCa: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** Prefix of the client's reply and delivery subjects: `_INBOX` or `_INBOX_<host>`. */
  readonly inboxPrefix: string;
}

/** The member name whose seed a role looks for by default: `controller`, `admin`, or the host. */
export function memberNameOf(fleet: FleetConfig, role: ClientRole): string {
  return role === 'controller' ? CONTROLLER_MEMBER : role === 'admin' ? ADMIN_MEMBER : fleet.host;
}

/**
 * The credentials of `role`:
 * - agent and controller: the configured ones (`nats_nkey`, or `nats_user`/`nats_token`/
 *   `nats_creds` as before); when none is configured, `<name>.nk` (name: `controller`, or the
 *   host's name) in systemd's `$CREDENTIALS_DIRECTORY` (a unit's `LoadCredential=`: how the
 *   controller, running as its own user, gets a seed only root may read), else in
 *   `<state_dir>/credentials`, if it exists there, else none;
 * - admin: `admin_nkey`, else `<state_dir>/credentials/admin.nk` if it exists, else the host's
 *   (the agent's) credentials.
 * Agents and admin clients use the inbox prefix `_INBOX_<host>` (all a host's credentials may
 * subscribe to); the controller keeps `_INBOX`. `exists` and `env` are injectable for tests.
 */
export function clientAuth(
  fleet: FleetConfig,
  role: ClientRole,
  exists: (file: string) => boolean = existsSync,
  env: NodeJS.ProcessEnv = process.env,
): ClientAuth {
  const tls = { tlsCa: fleet.tlsCa, tlsCert: fleet.tlsCert, tlsKey: fleet.tlsKey };
  const inboxPrefix = role === 'controller' ? '_INBOX' : hostInboxPrefix(fleet.host);
  if (role === 'admin') {
    const adminSeed = fleet.adminNkey || seedFile(fleet.stateDir, ADMIN_MEMBER);
    if (fleet.adminNkey || exists(adminSeed)) return { ...none(), ...tls, nkeyFile: adminSeed, inboxPrefix };
    return { ...configured(fleet, 'agent', exists, env), ...tls, inboxPrefix };
  }
  return { ...configured(fleet, role, exists, env), ...tls, inboxPrefix };
}

function none(): Pick<ClientAuth, 'nkeyFile' | 'user' | 'password' | 'token' | 'creds'> {
  return { nkeyFile: '', user: '', password: '', token: '', creds: '' };
}

function configured(
  fleet: FleetConfig,
  role: 'agent' | 'controller',
  exists: (file: string) => boolean,
  env: NodeJS.ProcessEnv,
): Pick<ClientAuth, 'nkeyFile' | 'user' | 'password' | 'token' | 'creds'> {
  const named = { nkeyFile: fleet.nkey, user: fleet.user, password: fleet.password, token: fleet.token, creds: fleet.creds };
  if (namesCredentials(fleet)) return named;
  const name = memberNameOf(fleet, role);
  const candidates = [...(env.CREDENTIALS_DIRECTORY ? [join(env.CREDENTIALS_DIRECTORY, `${name}.nk`)] : []), seedFile(fleet.stateDir, name)];
  const found = candidates.find((f) => exists(f));
  return found ? { ...named, nkeyFile: found } : named;
}

/** True when the configuration names credentials of its own (`nats_user`, `nats_token`, `nats_creds` or `nats_nkey`). */
export function namesCredentials(fleet: FleetConfig): boolean {
  return Boolean(fleet.nkey || fleet.user || fleet.token || fleet.creds);
}
