import {
  Allowlist,
  banDuration,
  banExpiry,
  type BanDecision,
  type FailureEvent,
  historyKey,
  hostsOf,
  isActive,
  tryParseAddress,
  type Offence,
} from '@fleetban/shared';
import type { JailTrackers } from '../aggregate/jail-tracker.js';
import type { HostRegistry } from '../fleet/host-registry.js';

/** What became of one failure. */
export type Verdict =
  | { readonly kind: 'ignored'; readonly why: 'invalid' | 'allowlisted' | 'fleet-host' | 'stale' | 'banned' | 'dealt-with' }
  | { readonly kind: 'counted'; readonly failures: number }
  | { readonly kind: 'ban'; readonly decision: BanDecision };

/** What the decider reads of the world (all in memory, synchronous). */
export interface DeciderState {
  readonly trackers: JailTrackers;
  readonly hosts: HostRegistry;
  /** Active bans by target. */
  readonly bans: ReadonlyMap<string, BanDecision>;
  /** Ban history by `historyKey(jail, target)`. */
  readonly offences: ReadonlyMap<string, Offence>;
  /** ignoreip of the [controller] section. */
  readonly globalAllow: Allowlist;
}

/**
 * Turns one failure into a verdict: fail2ban's rules applied across the fleet. Pure except for the
 * window it counts into. A failure is not counted when the address is allowlisted or a fleet host,
 * when it is older than findtime, when the address is already banned, or when it happened before or
 * during the address's last ban in this jail (those failures were already dealt with).
 */
export class BanDecider {
  readonly #allow = new Map<string, Allowlist>();
  constructor(private readonly s: DeciderState) {}

  /** Decides on `e` at `nowMs`. */
  decide(e: FailureEvent, nowMs: number): Verdict {
    if (tryParseAddress(e.ip)?.text !== e.ip || e.ip.includes('/')) return { kind: 'ignored', why: 'invalid' };
    const tracker = this.s.trackers.get(e.jail);
    const jail = tracker.jail;
    if (this.s.globalAllow.has(e.ip) || this.allowOf(e.jail, jail.ignoreip).has(e.ip)) return { kind: 'ignored', why: 'allowlisted' };
    if (this.s.hosts.isFleetAddress(e.ip)) return { kind: 'ignored', why: 'fleet-host' };
    if (e.timeMs <= nowMs - jail.findtimeMs) return { kind: 'ignored', why: 'stale' };
    const active = this.s.bans.get(e.ip);
    if (active && isActive(active, nowMs)) return { kind: 'ignored', why: 'banned' };
    const offenceKey = historyKey(e.jail, e.ip);
    const offence = this.s.offences.get(offenceKey);
    if (offence && e.timeMs <= offence.clearedAtMs) return { kind: 'ignored', why: 'dealt-with' };
    const t = tracker.count(e.ip, e.timeMs, e.host, e.line);
    if (t.times.length < jail.maxretry) return { kind: 'counted', failures: t.times.length };
    const previous = offence?.count ?? 0;
    const at = Math.max(nowMs, e.timeMs);
    const decision: BanDecision = {
      ip: e.ip,
      jail: e.jail,
      atMs: at,
      expiresMs: banExpiry(at, banDuration(jail, previous)),
      reason: 'threshold',
      banCount: previous + 1,
      hosts: hostsOf(t),
      matches: [...t.matches],
      failures: t.times.length,
    };
    tracker.window.reset(e.ip);
    tracker.totalBanned++;
    return { kind: 'ban', decision };
  }

  private allowOf(name: string, ignoreip: readonly string[]): Allowlist {
    let a = this.#allow.get(name);
    if (!a) {
      a = new Allowlist(ignoreip);
      this.#allow.set(name, a);
    }
    return a;
  }
}
