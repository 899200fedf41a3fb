import {
  type BanDecision,
  banDuration,
  banExpiry,
  type BanGuard,
  type FailureEvent,
  historyKey,
  hostNetwork,
  hostsOf,
  isActive,
  judgeFailure,
  type Offence,
  PERMANENT,
  type Refusal,
  tryParseAddress,
  v4Of,
} from '@fleetban/shared';
import type { JailTrackers } from '../aggregate/jail-tracker.js';
import { JailSpaces } from './fleet-guard.js';

/** What became of one failure. */
export type Verdict =
  /** invalid: not a canonical address; stale/future: outside [now − findtime, now + clock skew]. */
  /** jail: a jail without a section, beyond the number of such jails tracked; policy: a recidive jail (it counts bans, not failures). */
  | { readonly kind: 'ignored'; readonly why: 'invalid' | 'jail' | 'policy' | 'stale' | 'future' | 'banned' | 'dealt-with' }
  /** The guard refuses to ban the address (a fleet host, an allowlist, special space, ...). */
  | { readonly kind: 'refused'; readonly refusal: Refusal }
  | { readonly kind: 'counted'; readonly failures: number }
  /** A new ban, or (`widened`) an existing scoped ban extended to more hosts or to every host. */
  | { readonly kind: 'ban'; readonly decision: BanDecision; readonly widened: boolean };

/** The ban history as the decider reads it. */
export interface OffenceLookup {
  get(key: string): Offence | undefined;
  /** Whether the target has an offence in any jail (when not, no history key is built). */
  hasTarget(target: string): boolean;
  /** The target's ban counts summed over every jail (`bantime.overalljails`). */
  countAllJails(target: string): number;
}

/** What the decider reads of the world (all in memory, synchronous). */
export interface DeciderState {
  readonly trackers: JailTrackers;
  /** Active bans by target. */
  readonly bans: ReadonlyMap<string, BanDecision>;
  /** Ban history by `historyKey(jail, target)`, with the count over every jail (store/offence-book.ts). */
  readonly offences: OffenceLookup;
  /** The controller's guard (fleet hosts, NATS servers, controller, ignoreip, special space). */
  readonly guard: BanGuard;
  /** How far in the future an event's time may lie; default 60 s. */
  readonly clockSkewMs?: number;
}

/**
 * Turns one failure into a verdict: fail2ban's threshold rule (shared `judgeFailure`) applied
 * across the fleet, with each jail's `maxretry_per_host` and `min_hosts`. Synchronous; changes
 * only the window it counts into and the jail's totals (a ban's effects wait for {@link commit}). A
 * threshold bantime longer than the guard's `max_bantime` is cut to it. The previous bans
 * bantime.increment counts are the jail's, or every jail's with `bantime.overalljails`. Failures
 * named for a recidive jail are ignored. A new ban's id is the id of the failure that tipped it
 * over (stable across agent restarts and replays: a controller taking over decides the same id),
 * its user that failure's user; a widened ban keeps its id.
 */
export class BanDecider {
  readonly #jailSpaces = new JailSpaces();
  constructor(private readonly s: DeciderState) {}

  /** Decides on `e` at `nowMs`. */
  decide(e: FailureEvent, nowMs: number): Verdict {
    // canonical dotted IPv4 (nearly every failure) is checked by the guard as its 32-bit value;
    // anything else is parsed once, and so is an address with history (its key needs the network)
    const v4 = v4Of(e.ip) >= 0;
    const addr = v4 ? undefined : tryParseAddress(e.ip);
    if (!v4 && addr?.text !== e.ip) return { kind: 'ignored', why: 'invalid' };
    const net = addr ? hostNetwork(addr) : undefined;
    const tracker = this.s.trackers.find(e.jail);
    if (!tracker) return { kind: 'ignored', why: 'jail' };
    const jail = tracker.jail;
    if (jail.policy === 'recidive') return { kind: 'ignored', why: 'policy' };
    const active = this.s.bans.get(e.ip);
    const live = active && isActive(active, nowMs) ? active : undefined;
    // most failures come from addresses never banned: their history key is not built
    const offence = this.s.offences.hasTarget(e.ip) ? this.s.offences.get(historyKey(e.jail, net ?? e.ip)) : undefined;
    const v = judgeFailure(tracker.window, jail, e, {
      nowMs,
      clockSkewMs: this.s.clockSkewMs ?? 60_000,
      refused: this.s.guard.check(net ?? e.ip, this.#jailSpaces.askOf(jail)),
      bannedOn: live ? live.scope : null,
      clearedAtMs: offence?.clearedAtMs ?? 0,
    });
    if (v.kind === 'refused' || v.kind === 'ignored') return v;
    tracker.totalFailed++;
    if (v.kind === 'counted') return { kind: 'counted', failures: v.failures };
    const evidence = { hosts: hostsOf(v.tracked), matches: [...v.tracked.matches], failures: v.tracked.times.length, scope: v.scope };
    if (live) return { kind: 'ban', decision: { ...live, ...evidence }, widened: true };
    const previous = jail.increment.overalljails ? this.s.offences.countAllJails(e.ip) : (offence?.count ?? 0);
    const at = Math.max(nowMs, e.timeMs);
    let duration = banDuration(jail, previous);
    const max = this.s.guard.limits.maxBantimeMs;
    if (max > 0 && duration !== PERMANENT) duration = Math.min(duration, max);
    return {
      kind: 'ban',
      widened: false,
      decision: { ip: e.ip, jail: e.jail, atMs: at, expiresMs: banExpiry(at, duration), reason: 'threshold', banCount: previous + 1, ...evidence, id: e.id, user: e.user },
    };
  }

  /**
   * Applies a ban verdict once the ban is stored: a fleet-wide ban starts the address's window
   * over, a new ban counts in the jail's total. Until then the window keeps every failure, so a
   * ban whose write failed is retried with the same evidence and nothing is lost.
   */
  commit(v: Extract<Verdict, { kind: 'ban' }>): void {
    const tracker = this.s.trackers.find(v.decision.jail);
    if (!tracker) return;
    if (v.decision.scope.length === 0) tracker.window.reset(v.decision.ip);
    if (!v.widened) tracker.totalBanned++;
  }

  /** Counts a stored recidive ban in its jail's total (a recidive jail never decides one from failures). */
  countRecidive(jail: string): void {
    const tracker = this.s.trackers.find(jail);
    if (tracker) tracker.totalBanned++;
  }
}
