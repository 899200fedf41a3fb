import type { JailConfig } from '../config/types.js';
import { PERMANENT } from '../time/duration.js';
import { compiledFormula, DEFAULT_BANTIME_FORMULA } from './bantime-formula.js';

/**
 * Ban duration for an address banned `previous` times before (in this jail, or in every jail with
 * `bantime.overalljails`), exactly as fail2ban 1.0's ObserverThread computes it (`Jail.
 * setBanTimeExtra` builds the lambda, `ObserverThread.incrBanTime` applies it):
 *
 * - without bantime.increment, or on a first ban (`previous` 0), the jail's bantime: fail2ban
 *   applies its formula only when the address was banned before;
 * - with bantime.multipliers: `bantime × factor × multipliers[min(previous, last index)]`;
 * - otherwise `max(bantime, formula)`, the formula (default fail2ban's
 *   `ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor`) evaluated with `ban.Time`
 *   in seconds and `ban.Count = previous`;
 * - then capped by bantime.maxtime (when set), then plus `random() × bantime.rndtime`.
 *
 * A formula that fails at run time (division by zero, a non-finite result) leaves the jail's
 * bantime, as fail2ban does when its lambda raises. Returns ms (rounded) or {@link PERMANENT}.
 */
export function banDuration(jail: JailConfig, previous: number, random: () => number = Math.random): number {
  const base = jail.bantimeMs;
  if (base === PERMANENT) return PERMANENT;
  const inc = jail.increment;
  if (!inc.enabled || !(previous > 0)) return base;
  let ms: number;
  if (inc.multipliers.length > 0) {
    const m = inc.multipliers[Math.min(previous, inc.multipliers.length - 1)] as number;
    ms = base * inc.factor * m;
  } else {
    ms = Math.max(base, formulaMs(inc.formula ?? DEFAULT_BANTIME_FORMULA, base, previous, inc.factor));
  }
  if (inc.maxtimeMs > 0) ms = Math.min(ms, inc.maxtimeMs);
  ms = Math.round(ms);
  if (inc.rndtimeMs > 0) ms += Math.floor(random() * inc.rndtimeMs);
  return ms;
}

/** The formula's value in ms, or `base` when it cannot be computed. */
function formulaMs(text: string, base: number, count: number, factor: number): number {
  try {
    const s = compiledFormula(text)({ time: base / 1000, count, factor }) * 1000;
    return Number.isFinite(s) ? s : base;
  } catch {
    return base;
  }
}

/** Expiry (ms since the epoch, 0 = permanent) of a ban starting at `atMs` for `durationMs`. */
export function banExpiry(atMs: number, durationMs: number): number {
  return durationMs === PERMANENT ? 0 : atMs + durationMs;
}
