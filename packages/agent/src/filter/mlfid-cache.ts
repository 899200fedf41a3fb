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

  /** Copies the set (not undefined, not null) fields of `from` into `to`. */
  readonly assign: (to: Fields, from: Fields) => void;

  /**
   * `keys`: every field name a failure of the filter can have (all its failures share that
   * shape, and no failure has a field outside it); the merge of a line into its session then
   * reads and writes named fields only.
   */
  constructor(private readonly now: () => number, keys?: readonly string[]) {
    this.assign = keys === undefined || keys.includes('__proto__') ? assignSet : fieldCopier(keys);
  }

  /** The session of `k` (`now`: the clock's time, when the caller has it). */
  get(k: string, now = this.now()): Fields | undefined {
    const e = this.map.get(k);
    if (!e) return undefined;
    if (e.until > now) return e.v;
    this.map.delete(k);
    return undefined;
  }

  /** Starts or renews the session of `k`. */
  set(k: string, v: Fields, t = this.now()): void {
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

function assignSet(to: Fields, from: Fields): void {
  for (const k in from) {
    const v = from[k];
    if (v !== undefined && v !== null) to[k] = v;
  }
}

function fieldCopier(keys: readonly string[]): (to: Fields, from: Fields) => void {
  const body = keys.map((k) => `v = from[${JSON.stringify(k)}]; if (v !== undefined && v !== null) to[${JSON.stringify(k)}] = v;`).join('\n');
  return new Function('to', 'from', `let v;\n${body}`) as (to: Fields, from: Fields) => void;
}

// A removed field is set to undefined rather than deleted: every reader treats both alike, and
// objects keep their fast (non-dictionary) representation. Each field is read and cleared by
// name (not through one function taking the name), so that every access stays monomorphic.

function updateUsers(f: Fields, user: unknown): Set<unknown> | undefined {
  let users = f.users as Set<unknown> | undefined;
  if (user) {
    if (!users) f.users = users = new Set();
    users.add(user);
  }
  return users;
}

/** Merges a match carrying an mlfid with what the session said before; returns the fields to use. */
export function mergeFailure(cache: MlfidCache, mlfid: string, fail: Fields, matched: readonly TupleLine[], now?: number): Fields {
  const known = cache.get(mlfid, now);
  let users: Set<unknown> | undefined;
  let flags = 0;
  if (fail.mlfgained) {
    flags |= 8 | 1;
    if (!fail.nofail) fail.nofail = fail.mlfgained;
  } else if (fail.nofail) flags |= 1;
  if (fail.mlfforget !== undefined) {
    if (fail.mlfforget) flags |= 2;
    fail.mlfforget = undefined;
  }
  if (known) {
    users = updateUsers(known, fail.user);
    if (known.nofail !== undefined) {
      if (known.nofail) flags |= 4;
      known.nofail = undefined;
    }
    if (known.mlfgained !== undefined) {
      if (known.mlfgained) flags |= 4;
      known.mlfgained = undefined;
    }
    if (flags & 8) known.mlfpending = undefined;
    if ((flags & 4) === 0 && !known.mlfpending) known.matches = undefined;
    cache.assign(known, fail);
    fail = known;
    if (flags & 2) cache.unset(mlfid);
  } else if (!(flags & 2)) {
    users = updateUsers(fail, fail.user);
    cache.set(mlfid, fail, now);
  }
  const pending = fail.mlfpending;
  if (pending !== undefined) fail.mlfpending = undefined;
  if (pending || (users && users.size > 1)) {
    fail.nofail = undefined;
    fail.mlfgained = undefined;
    flags &= ~(8 | 1);
  }
  if ((flags & 1) === 0) {
    const earlier = fail['nofail-matches'] as TupleLine[] | undefined;
    if (earlier !== undefined) fail['nofail-matches'] = undefined;
    const m = [...(earlier ?? []), ...((fail.matches as TupleLine[] | undefined) ?? [])];
    if ((flags & 8) === 0) m.push(...matched);
    fail.matches = m;
  } else if ((flags & 3) === 1) {
    fail['nofail-matches'] = [...((fail['nofail-matches'] as TupleLine[] | undefined) ?? []), ...matched];
  }
  return fail;
}
