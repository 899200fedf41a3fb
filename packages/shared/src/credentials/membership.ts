/**
 * The fleet's membership on the controller host: the members file, the seeds created there and
 * the rendered authorization file, kept in step. `fleetban enroll` and `fleetban up` change the
 * fleet only through this class; it is the one writer of `<state_dir>/credentials/`.
 */

import { existsSync, mkdirSync, writeFileSync, rmSync, renameSync } from 'node:fs';
import { MembershipError } from '../errors.js';
import { checkMemberName, type Member, type MemberRole } from './member.js';
import { readMembersFile, writeMembersFile } from './members-file.js';
import { authorizationFile, credentialsDir, membersFile, natsDir, seedFile } from './locations.js';
import { createSeedFile } from './seed-file.js';
import { renderAuthorization } from './authorization-file.js';

/** What {@link Membership.enroll} did. */
export interface Enrolled {
  readonly member: Member;
  /** The seed file written on this host. */
  readonly seedFile: string;
  /** True when an existing member got a new key (`--rotate`). */
  readonly rotated: boolean;
}

/** The members of one state directory. */
export class Membership {
  #members: Member[];

  private constructor(readonly stateDir: string) {
    this.#members = readMembersFile(membersFile(stateDir));
  }

  /** Reads `<stateDir>/credentials/members.json` (none yet: no member). Throws CredentialsError. */
  static open(stateDir: string): Membership {
    return new Membership(stateDir);
  }

  /** The members, in the file's order. */
  get members(): readonly Member[] {
    return this.#members;
  }

  /** The member called `name`, if any. */
  find(name: string): Member | undefined {
    return this.#members.find((m) => m.name === name);
  }

  /**
   * Adds `name` with a new key pair (its seed written to `<state_dir>/credentials/<name>.nk`, mode
   * 0600), or with `rotate` gives an existing member a new one (its role kept), then saves the
   * members and re-renders the authorization file. Throws {@link MembershipError} for a name
   * already enrolled without `rotate`, or not enrolled with it.
   */
  enroll(name: string, role: MemberRole, opts: { rotate?: boolean } = {}): Enrolled {
    const existing = this.find(name);
    checkMemberName(name, existing?.role ?? role);
    if (existing && !opts.rotate) throw new MembershipError(`${name} is already enrolled (${existing.role}); --rotate gives it a new key`);
    if (!existing && opts.rotate) throw new MembershipError(`${name} is not enrolled: nothing to rotate`);
    this.#prepareDirs();
    const file = seedFile(this.stateDir, name);
    const member: Member = { name, role: existing?.role ?? role, publicKey: createSeedFile(file) };
    this.#members = existing ? this.#members.map((m) => (m.name === name ? member : m)) : [...this.#members, member];
    this.#save();
    return { member, seedFile: file, rotated: existing !== undefined };
  }

  /**
   * Makes sure `name` is a member with `role` whose seed is on this host (for `fleetban up`'s
   * own members): creates it once, reuses it after; a member whose seed file is gone gets a new
   * key. Returns the member and whether anything changed.
   */
  ensure(name: string, role: MemberRole): { member: Member; changed: boolean } {
    const existing = this.find(name);
    if (existing && existing.role === role && existsSync(seedFile(this.stateDir, name))) return { member: existing, changed: false };
    if (existing && existing.role !== role) throw new MembershipError(`${name} is enrolled as ${existing.role}, not ${role}`);
    return { member: this.enroll(name, role, { rotate: existing !== undefined }).member, changed: true };
  }

  /**
   * Revokes `name`: removes it from the members (and its seed file on this host, if any), then
   * re-renders the authorization file. Throws {@link MembershipError} when it is not a member.
   */
  remove(name: string): Member {
    const existing = this.find(name);
    if (!existing) throw new MembershipError(`${name} is not enrolled`);
    this.#members = this.#members.filter((m) => m !== existing);
    this.#save();
    rmSync(seedFile(this.stateDir, name), { force: true });
    return existing;
  }

  /** Writes the authorization file from the current members (also when nothing changed). */
  writeAuthorization(): string {
    this.#prepareDirs();
    const file = authorizationFile(this.stateDir);
    writeFileSync(`${file}.tmp`, renderAuthorization(this.#members), { mode: 0o644 });
    renameSync(`${file}.tmp`, file);
    return file;
  }

  #prepareDirs(): void {
    mkdirSync(credentialsDir(this.stateDir), { recursive: true, mode: 0o700 });
    mkdirSync(natsDir(this.stateDir), { recursive: true });
  }

  #save(): void {
    this.#prepareDirs();
    writeMembersFile(membersFile(this.stateDir), this.#members);
    this.writeAuthorization();
  }
}
