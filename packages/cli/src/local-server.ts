import {
  ADMIN_MEMBER,
  authorizationFile,
  CONTROLLER_MEMBER,
  type FleetConfig,
  type Logger,
  Membership,
  namesCredentials,
  natsPidFile,
} from '@fleetban/shared';
import { basename } from 'node:path';

/** Where `fleetban up`'s nats-server listens and keeps its files. */
export interface LocalServer {
  readonly host: string;
  readonly port: number;
  /** `<state_dir>/nats`: its configuration, pid file, authorization file and JetStream store. */
  readonly dir: string;
}

/**
 * The configuration text of `fleetban up`'s nats-server. Authentication follows the fleet
 * config: `nats_user`/`nats_password` or `nats_token` are the server's single user as before; with
 * `nats_creds` the server is left open (creds belong to an operator-managed server); otherwise
 * (no credentials named, or `nats_nkey`) the server authenticates the fleet's nkey members
 * ({@link ensureLocalMembers}) through the rendered authorization file. It always writes a
 * `pid_file`, which `fleetban enroll` signals to reload.
 */
export function localServerConfig(fleet: FleetConfig, server: LocalServer): string {
  const listen = server.host.includes(':') ? `[${server.host}]` : server.host;
  return [
    '# written by fleetban up; edit the fleetban config instead',
    `server_name: fleetban_${fleet.host}`,
    `listen: "${listen}:${server.port}"`,
    `pid_file: "${natsPidFile(fleet.stateDir)}"`,
    serverAuth(fleet),
    `jetstream { store_dir: "${server.dir}", max_memory_store: 64MB, max_file_store: 1GB }`,
    '',
  ].join('\n');
}

/** True when `up` runs its server with the fleet's nkey members. */
export function usesMembers(fleet: FleetConfig): boolean {
  return !namesCredentials(fleet) || fleet.nkey !== '';
}

function serverAuth(f: FleetConfig): string {
  if (f.user) return `authorization { user: ${JSON.stringify(f.user)}, password: ${JSON.stringify(f.password)} }`;
  if (f.token) return `authorization { token: ${JSON.stringify(f.token)} }`;
  if (!usesMembers(f)) return '';
  // relative: nats-server 2.9 resolves every include against the including file's directory
  return `include "${basename(authorizationFile(f.stateDir))}"`;
}

/**
 * Makes sure the members `fleetban up` runs with exist, their seeds on this host: `controller`,
 * `admin` and this host (created once, reused on later runs), and renders the authorization file.
 */
export function ensureLocalMembers(fleet: FleetConfig, log: Logger): void {
  const membership = Membership.open(fleet.stateDir);
  const own: [string, 'controller' | 'admin' | 'host'][] = [[CONTROLLER_MEMBER, 'controller'], [ADMIN_MEMBER, 'admin']];
  if (fleet.host !== CONTROLLER_MEMBER && fleet.host !== ADMIN_MEMBER) own.push([fleet.host, 'host']);
  for (const [name, role] of own) {
    const { member, changed } = membership.ensure(name, role);
    if (changed) log.info({ member: name, role, publicKey: member.publicKey }, 'credentials created');
  }
  membership.writeAuthorization();
}
