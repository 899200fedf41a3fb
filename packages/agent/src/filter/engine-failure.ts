/**
 * A failregex match made a failure, as fail2ban's findFailure does it: the line's `<F-MLFID>`
 * session merged in (mlfid-cache.ts), then the failure id chosen: the address (`ip4`, `ip6`,
 * `dns`), else `<F-ID>`, else the regex's first failure-id group; `<F-ID>` with an address keeps
 * the address beside it.
 */

import type { Fields, FilterRegex, TupleLine } from './fail-regex.js';
import type { EngineFailure } from './filter-spec.js';
import { type MlfidCache, mergeFailure } from './mlfid-cache.js';

/** The engine's `<F-MLFID>` sessions and what a merge needs to know. */
export interface Sessions {
  readonly cache: MlfidCache;
  /** The clock's time for the line being processed. */
  nowMs: number;
  /** Every failregex is tried (fail2ban-regex), rather than the first match winning. */
  readonly checkAll: boolean;
}

/**
 * Turns the fields of failregex `i`'s match into a failure (mlfid sessions merged) and adds it to
 * `out`; true when the search of this buffer stops here (first match wins, or a helper line).
 */
export function addFailure(
  out: EngineFailure[],
  i: number,
  fr: FilterRegex,
  m: RegExpExecArray,
  fail: Fields,
  matched: readonly TupleLine[],
  date: number | null,
  sessions: Sessions,
): boolean {
  const mlfid = fail.mlfid as string | undefined;
  const session = mlfid !== undefined && mlfid !== null;
  if (session) {
    fail = mergeFailure(sessions.cache, mlfid, fail, matched, sessions.nowMs);
    if (fail.nofail && !sessions.checkAll) return true;
  } else fail.matches = fail.matches == null ? [...matched] : [...(fail.matches as TupleLine[]), ...matched];
  let fid = fail.fid as string | undefined;
  let kind: EngineFailure['kind'] = 'id';
  let ip = fail.ip4 as string | undefined;
  if (ip !== undefined) kind = 'ip4';
  else if ((ip = fail.ip6 as string | undefined) !== undefined) kind = 'ip6';
  else if ((ip = fail.dns as string | undefined) !== undefined) kind = 'dns';
  else {
    if (fid === undefined && !session) {
      fid = fr.failureId(m);
      if (fid === undefined) return false; // fail2ban logs "No group found" and goes on
    }
    ip = fid;
  }
  if (ip === undefined) {
    fail.mlfpending = 1;
    if (!sessions.checkAll) return true;
    out.push({ regex: i, fid: null, kind: null, ip: undefined, time: date, fields: { ...fail } });
    return false;
  }
  let addr: string | undefined;
  if (fid === undefined || fid === ip) fid = ip;
  else {
    addr = ip;
    if (kind !== 'id') fail.ip = ip;
  }
  out.push({ regex: i, fid, kind: fid === ip ? kind : 'id', ip: addr, time: date, fields: session ? { ...fail } : fail });
  return !sessions.checkAll;
}
