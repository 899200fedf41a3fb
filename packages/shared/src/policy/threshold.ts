/**
 * fail2ban's threshold rule, written once for the controller's decider and the agent's local
 * decider: allowlist (the guard) → time (stale, future) → already banned → dealt with → count →
 * maxretry. Across hosts it adds two limits on forged logs: what one host may contribute
 * (`maxretry_per_host`) and how many distinct hosts a fleet-wide ban needs (`min_hosts`); below
 * that, a ban holds only on the hosts that saw maxretry failures on their own, as fail2ban on
 * that host would have banned. Synchronous; the only state it changes is the window it counts into.
 */
import type { FailureWindow, Tracked } from './failure-window.js';
import type { Refusal } from './guards.js';

/** A jail's thresholds. */
export interface ThresholdRule {
  readonly maxretry: number;
  readonly findtimeMs: number;
  /** Failures one host may contribute to a fleet-wide count; 0 = no cap (fail2ban's meaning). */
  readonly maxretryPerHost: number;
  /** Distinct reporting hosts a fleet-wide ban needs; 1 = fail2ban's meaning. */
  readonly minHosts: number;
}

/** One failure, as the rule needs it. */
export interface FailureFacts {
  readonly ip: string;
  readonly host: string;
  readonly timeMs: number;
  readonly line: string;
}

/** What the rule is told about the moment of a failure. */
export interface ThresholdContext {
  readonly nowMs: number;
  /** How far in the future an event's time may lie (clock skew between hosts). */
  readonly clockSkewMs: number;
  /** The guard's refusal of a ban of this address (the allowlist step), or null. */
  readonly refused: Refusal | null;
  /** Where the address is banned already: null = nowhere, [] = every host, else those hosts. */
  readonly bannedOn: readonly string[] | null;
  /** Failures at or before this time were dealt with by an earlier ban; 0 = none. */
  readonly clearedAtMs: number;
}

/** What became of one failure. */
export type ThresholdVerdict =
  | { readonly kind: 'refused'; readonly refusal: Refusal }
  /** stale: older than findtime; future: later than now + clock skew (both rejected inputs). */
  | { readonly kind: 'ignored'; readonly why: 'stale' | 'future' | 'banned' | 'dealt-with' }
  /** Counted; `failures` is the fleet-wide count (per-host caps applied), `hosts` the distinct reporters. */
  | { readonly kind: 'counted'; readonly failures: number; readonly hosts: number }
  /**
   * Ban (or widen a ban): `scope` [] = every host, else the hosts that enforce it. `tracked` is the
   * address's window (failure times, hosts, evidence) at the decision.
   */
  | { readonly kind: 'ban'; readonly scope: readonly string[]; readonly tracked: Tracked; readonly failures: number };

/** Applies the rule to one failure, counting it into `window` when it counts. */
export function judgeFailure(window: FailureWindow, rule: ThresholdRule, f: FailureFacts, ctx: ThresholdContext): ThresholdVerdict {
  if (ctx.refused) return { kind: 'refused', refusal: ctx.refused };
  if (f.timeMs <= ctx.nowMs - rule.findtimeMs) return { kind: 'ignored', why: 'stale' };
  if (f.timeMs > ctx.nowMs + ctx.clockSkewMs) return { kind: 'ignored', why: 'future' };
  if (ctx.bannedOn !== null && ctx.bannedOn.length === 0) return { kind: 'ignored', why: 'banned' };
  if (f.timeMs <= ctx.clearedAtMs) return { kind: 'ignored', why: 'dealt-with' };
  const tracked = window.add(f.ip, f.timeMs, f.host, f.line);
  if (rule.maxretryPerHost <= 0 && rule.minHosts <= 1) {
    // fail2ban's own rule (no per-host cap, one host is enough): the count is the window's length
    const failures = tracked.times.length;
    if (failures >= rule.maxretry) return { kind: 'ban', scope: [], tracked, failures };
    return { kind: 'counted', failures, hosts: distinct(tracked.sources) };
  }
  const perHost = new Map<string, number>();
  for (const h of tracked.sources) perHost.set(h, (perHost.get(h) ?? 0) + 1);
  const cap = rule.maxretryPerHost > 0 ? rule.maxretryPerHost : Infinity;
  let failures = 0;
  for (const n of perHost.values()) failures += Math.min(n, cap);
  if (failures >= rule.maxretry && perHost.size >= rule.minHosts) return { kind: 'ban', scope: [], tracked, failures };
  const alone = [...perHost].filter(([, n]) => n >= rule.maxretry).map(([h]) => h);
  const before = ctx.bannedOn ?? [];
  const scope = [...new Set([...before, ...alone])].sort();
  if (scope.length > before.length) return { kind: 'ban', scope, tracked, failures };
  return { kind: 'counted', failures, hosts: perHost.size };
}

/** True when a ban with `scope` ([] = every host) is enforced on `host`. */
export function scopeIncludes(scope: readonly string[], host: string): boolean {
  return scope.length === 0 || scope.includes(host);
}

/** How many distinct values `list` holds (usually one: a single host reporting). */
function distinct(list: readonly string[]): number {
  if (list.length > 16) return new Set(list).size;
  // a window's few hosts compared in place: no Set per failure
  let n = 0;
  for (let i = 0; i < list.length; i++) {
    let seen = false;
    for (let k = 0; k < i && !seen; k++) seen = list[k] === list[i];
    if (!seen) n++;
  }
  return n;
}
