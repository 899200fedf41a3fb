/**
 * Where credentials and the local nats-server's files live under `state_dir`, named once for the
 * CLI (`enroll`, `up`) and the clients' default seed lookup.
 */

import { join } from 'node:path';

/** `<state_dir>/credentials`: the members file and the seeds created on this host (mode 0700). */
export function credentialsDir(stateDir: string): string {
  return join(stateDir, 'credentials');
}

/** `<state_dir>/credentials/members.json`: the fleet's members (names, roles, public keys). */
export function membersFile(stateDir: string): string {
  return join(credentialsDir(stateDir), 'members.json');
}

/** `<state_dir>/credentials/<name>.nk`: the seed of a member created on this host (mode 0600). */
export function seedFile(stateDir: string, name: string): string {
  return join(credentialsDir(stateDir), `${name}.nk`);
}

/** `<state_dir>/nats`: the local nats-server's configuration and JetStream store. */
export function natsDir(stateDir: string): string {
  return join(stateDir, 'nats');
}

/** `<state_dir>/nats/authorization.conf`: the nkey users rendered from the members file. */
export function authorizationFile(stateDir: string): string {
  return join(natsDir(stateDir), 'authorization.conf');
}

/** `<state_dir>/nats/nats-server.pid`: the `pid_file` of the server `fleetban up` starts. */
export function natsPidFile(stateDir: string): string {
  return join(natsDir(stateDir), 'nats-server.pid');
}
