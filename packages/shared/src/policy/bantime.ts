import type { JailConfig } from '../config/types.js';
import { PERMANENT } from '../time/duration.js';

/**
 * Ban duration for an address banned `previous` times before in this jail, as fail2ban's
 * bantime.increment computes it: without increment, `bantime`; with multipliers,
 * `bantime × factor × multipliers[min(previous, last)]`; otherwise fail2ban's default formula
 * `bantime × 2^min(previous, 20) × factor`, never below bantime; capped by bantime.maxtime, plus a
 * random part up to bantime.rndtime. Returns ms or {@link PERMANENT}.
 */
export function banDuration(jail: JailConfig, previous: number, random: () => number = Math.random): number {
  const base = jail.bantimeMs;
  if (base === PERMANENT) return PERMANENT;
  const inc = jail.increment;
  if (!inc.enabled) return base;
  previous = Math.max(0, previous);
  let ms: number;
  if (inc.multipliers.length > 0) {
    const m = inc.multipliers[Math.min(previous, inc.multipliers.length - 1)] as number;
    ms = base * inc.factor * m;
  } else {
    ms = Math.max(base, base * inc.factor * 2 ** Math.min(previous, 20));
  }
  if (inc.maxtimeMs > 0) ms = Math.min(ms, inc.maxtimeMs);
  if (inc.rndtimeMs > 0) ms += Math.floor(random() * inc.rndtimeMs);
  return Math.round(ms);
}

/** Expiry (ms since the epoch, 0 = permanent) of a ban starting at `atMs` for `durationMs`. */
export function banExpiry(atMs: number, durationMs: number): number {
  return durationMs === PERMANENT ? 0 : atMs + durationMs;
}
