/**
 * Multi-line failure ids (`<F-MLFID>`): what earlier lines of the same session (same id) said,
 * merged into the line that completes a failure, as fail2ban merges them. `<F-NOFAIL>` marks a
 * helper line (no failure by itself), `<F-MLFFORGET>` ends the session, `<F-MLFGAINED>` marks a
 * success that cancels pending helper matches. Bounded: 100 sessions, 5 minutes each.
 */

import type { Fields, TupleLine } from './fail-regex.js';

const MAX_COUNT = 100;
const MAX_AGE_MS = 300_000;

/** A small insertion-ordered cache with a time limit (fail2ban's Utils.Cache). */
export class MlfidCache {
  private readonly map = new Map<string, { v: Fields; until: number }>();

  constructor(private readonly now: () => number) {}

  get(k: string): Fields | undefined {
    const e = this.map.get(k);
    if (!e) return undefined;
    if (e.until > this.now()) return e.v;
    this.map.delete(k);
    return undefined;
  }

  set(k: string, v: Fields): void {
    const t = this.now();
    if (this.map.size >= MAX_COUNT) {
      for (const [ck, cv] of this.map) {
        this.map.delete(ck);
        if (cv.until > t && this.map.size < MAX_COUNT) break;
      }
    }
    const e = this.map.get(k);
    if (e) {
      e.v = v;
      e.until = t + MAX_AGE_MS;
    } else this.map.set(k, { v, until: t + MAX_AGE_MS });
  }

  unset(k: string): void {
    this.map.delete(k);
  }
}

// A removed key is set to undefined rather than deleted: every reader treats both alike, and
// objects keep their fast (non-dictionary) representation.
function pop(f: Fields, k: string): unknown {
  const v = f[k];
  if (v !== undefined) f[k] = undefined;
  return v;
}

function updateUsers(f: Fields, user: unknown): Set<unknown> | undefined {
  let users = f.users as Set<unknown> | undefined;
  if (user) {
    if (!users) f.users = users = new Set();
    users.add(user);
  }
  return users;
}

/** Merges a match carrying an mlfid with what the session said before; returns the fields to use. */
export function mergeFailure(cache: MlfidCache, mlfid: string, fail: Fields, matched: readonly TupleLine[]): Fields {
  const known = cache.get(mlfid);
  let users: Set<unknown> | undefined;
  let flags = 0;
  if (fail.mlfgained) {
    flags |= 8 | 1;
    if (!fail.nofail) fail.nofail = fail.mlfgained;
  } else if (fail.nofail) flags |= 1;
  if (pop(fail, 'mlfforget')) flags |= 2;
  if (known) {
    users = updateUsers(known, fail.user);
    if (pop(known, 'nofail')) flags |= 4;
    if (pop(known, 'mlfgained')) flags |= 4;
    if (flags & 8) known.mlfpending = undefined;
    if ((flags & 4) === 0 && !known.mlfpending) known.matches = undefined;
    for (const k of Object.keys(fail)) if (fail[k] !== undefined && fail[k] !== null) known[k] = fail[k];
    fail = known;
    if (flags & 2) cache.unset(mlfid);
  } else if (!(flags & 2)) {
    users = updateUsers(fail, fail.user);
    cache.set(mlfid, fail);
  }
  if (pop(fail, 'mlfpending') || (users && users.size > 1)) {
    fail.nofail = undefined;
    fail.mlfgained = undefined;
    flags &= ~(8 | 1);
  }
  if ((flags & 1) === 0) {
    const m = [...((pop(fail, 'nofail-matches') as TupleLine[] | undefined) ?? []), ...((fail.matches as TupleLine[] | undefined) ?? [])];
    if ((flags & 8) === 0) m.push(...matched);
    fail.matches = m;
  } else if ((flags & 3) === 1) {
    fail['nofail-matches'] = [...((fail['nofail-matches'] as TupleLine[] | undefined) ?? []), ...matched];
  }
  return fail;
}
