/**
 * The nats-server `authorization { users: [...] }` block rendered from the members: one nkey user
 * per member, hosts confined to {@link hostPermissions}, the controller and admins unconfined.
 * nats-server.conf `include`s it; it holds public keys only.
 */

import { createUser } from '@nats-io/nkeys';
import { CONTROLLER_PERMISSIONS, hostPermissions, type NatsPermissions } from '../subjects.js';
import type { Member } from './member.js';

/** The permissions a member gets on the server. */
export function memberPermissions(m: Member): NatsPermissions {
  return m.role === 'host' ? hostPermissions(m.name) : CONTROLLER_PERMISSIONS;
}

const q = (s: string): string => JSON.stringify(s);
const list = (xs: readonly string[]): string => `[${xs.map(q).join(', ')}]`;

/** One member's line in the users list. */
export function authorizationUser(m: Member): string {
  const p = memberPermissions(m);
  return `    # ${m.name} (${m.role})\n    { nkey: ${q(m.publicKey)}, permissions: { publish: { allow: ${list(p.publish)} }, subscribe: { allow: ${list(p.subscribe)} } } }`;
}

/**
 * nats-server configuration text: `authorization { users: [...] }` for `members`. An empty users
 * list would let anyone in, so with no member the block names one key nobody holds (its seed is
 * discarded here), allowed nothing: the server stays closed.
 */
export function renderAuthorization(members: readonly Member[]): string {
  const users = members.map(authorizationUser);
  if (users.length === 0) {
    users.push(`    # no member yet: a key nobody holds keeps the server closed\n    { nkey: ${q(createUser().getPublicKey())}, permissions: { publish: { deny: [">"] }, subscribe: { deny: [">"] } } }`);
  }
  return [
    '# written by fleetban from <state_dir>/credentials/members.json; `fleetban enroll` changes it',
    'authorization {',
    '  users: [',
    ...users,
    '  ]',
    '}',
    '',
  ].join('\n');
}
