/**
 * The members file (`<state_dir>/credentials/members.json`): `{ "members": [{ "name", "role",
 * "publicKey" }] }`. It holds no secret. Read checks every entry; write replaces the file whole.
 */

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CredentialsError } from '../errors.js';
import { checkToken } from '../subjects.js';
import { isUserPublicKey, type Member, MEMBER_ROLES, type MemberRole } from './member.js';

/** Reads the members; a missing file is an empty fleet. Throws {@link CredentialsError}. */
export function readMembersFile(file: string): Member[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CredentialsError(file, 'cannot read the members file', { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CredentialsError(file, 'expected JSON { "members": [...] }', { cause: err });
  }
  const list = (doc as { members?: unknown } | null)?.members;
  if (!Array.isArray(list)) throw new CredentialsError(file, 'expected JSON { "members": [...] }');
  const seen = new Set<string>();
  return list.map((m: unknown, i) => {
    const member = asMember(m);
    if (member === null) throw new CredentialsError(file, `members[${i}]: expected { "name", "role" (${MEMBER_ROLES.join(', ')}), "publicKey" (U...) }`);
    if (seen.has(member.name)) throw new CredentialsError(file, `members[${i}]: ${member.name} is listed twice`);
    seen.add(member.name);
    return member;
  });
}

function asMember(m: unknown): Member | null {
  if (typeof m !== 'object' || m === null) return null;
  const { name, role, publicKey } = m as Record<string, unknown>;
  if (typeof name !== 'string' || !isToken(name)) return null;
  if (typeof role !== 'string' || !MEMBER_ROLES.includes(role as MemberRole)) return null;
  if (typeof publicKey !== 'string' || !isUserPublicKey(publicKey)) return null;
  return { name, role: role as MemberRole, publicKey };
}

function isToken(s: string): boolean {
  try {
    checkToken('host', s);
    return true;
  } catch {
    return false;
  }
}

/** Writes the members (through a temporary file and a rename, so a reader never sees half a file). */
export function writeMembersFile(file: string, members: readonly Member[]): void {
  const tmp = `${file}.tmp`;
  const doc = { members: members.map(({ name, role, publicKey }) => ({ name, role, publicKey })) };
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, file);
}
