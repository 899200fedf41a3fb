/**
 * The recidive rule, pure: an address banned `maxretry` times (in the fleet's other jails) within
 * `findtime` is banned again, for the recidive jail's (long) bantime. fail2ban's `[recidive]` jail
 * reads those bans from fail2ban.log; fleetban counts them in the ban history, so it needs no filter.
 */

/**
 * Start times of the most recent bans kept per (jail, address) in the history; a recidive jail's
 * maxretry may not exceed it (checked when the configuration loads).
 */
export const RECENT_BANS_KEPT = 64;

/** One jail's recent ban starts of an address (ms, oldest first). */
export interface BanTimes {
  readonly jail: string;
  readonly times: readonly number[];
}

/**
 * The ban starts, over every jail but `exclude`, inside the window `(nowMs − findtimeMs, nowMs]`
 * and after `afterMs` (the address's last recidive ban: bans it already answered do not count
 * again), sorted oldest first.
 */
export function bansInWindow(all: Iterable<BanTimes>, exclude: ReadonlySet<string>, findtimeMs: number, nowMs: number, afterMs: number): number[] {
  const from = Math.max(nowMs - findtimeMs, afterMs);
  const out: number[] = [];
  for (const b of all) {
    if (exclude.has(b.jail)) continue;
    for (const t of b.times) if (t > from && t <= nowMs) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

/** True when `count` bans in the window reach the recidive jail's `maxretry`. */
export function isRecidive(count: number, maxretry: number): boolean {
  return count >= maxretry;
}

/** Appends a ban start to a jail's recent ones (unless already the newest), keeping the last {@link RECENT_BANS_KEPT}. */
export function withBanTime(times: readonly number[], atMs: number): number[] {
  if (times[times.length - 1] === atMs) return [...times];
  const out = [...times, atMs].sort((a, b) => a - b);
  return out.slice(-RECENT_BANS_KEPT);
}
