/** Who may connect to the fleet's NATS servers, as the controller host's members file lists them. */

import { MembershipError } from '../errors.js';
import { checkToken } from '../subjects.js';

/**
 * A member's role: a `host` runs an agent and gets {@link hostPermissions}; the `controller` and
 * an `admin` (the operator's identity for `fleetban ban/unban/status`) may do anything.
 */
export type MemberRole = 'host' | 'controller' | 'admin';

/** Every role, in the order `fleetban enroll --list` prints them. */
export const MEMBER_ROLES: readonly MemberRole[] = ['controller', 'admin', 'host'];

/** One member of the fleet: its name, role and nkey public key (`U...`). The server keeps only this. */
export interface Member {
  readonly name: string;
  readonly role: MemberRole;
  readonly publicKey: string;
}

/** Name of the controller's member (its seed: `<state_dir>/credentials/controller.nk`). */
export const CONTROLLER_MEMBER = 'controller';
/** Name of the default admin member (its seed: `<state_dir>/credentials/admin.nk`). */
export const ADMIN_MEMBER = 'admin';

const USER_PUBLIC_KEY = /^U[A-Z2-7]{55}$/;

/** True when `s` looks like an nkey user public key (`U` and 55 base32 characters). */
export function isUserPublicKey(s: string): boolean {
  return USER_PUBLIC_KEY.test(s);
}

/**
 * Checks a new member's name against its role: a name is a subject token (a host's name is in its
 * subjects, and names its seed file); `controller` and `admin` are reserved for their roles, so a
 * host cannot be enrolled under them. Throws {@link MembershipError}.
 */
export function checkMemberName(name: string, role: MemberRole): string {
  try {
    checkToken('host', name);
  } catch (err) {
    throw new MembershipError(`cannot enroll ${JSON.stringify(name)}: a name is 1 to 64 letters, digits, '_' or '-'`, { cause: err });
  }
  if (role !== 'controller' && name === CONTROLLER_MEMBER) throw new MembershipError(`the name ${name} is reserved for the controller`);
  if (role === 'host' && name === ADMIN_MEMBER) throw new MembershipError(`the name ${name} is reserved for the admin`);
  return name;
}
