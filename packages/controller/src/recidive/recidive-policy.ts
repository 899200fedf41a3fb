import {
  type BanDecision,
  banDuration,
  banId,
  banExpiry,
  type BanGuard,
  bansInWindow,
  historyKey,
  isActive,
  isRecidive,
  type JailConfig,
  PERMANENT,
  type Refusal,
} from '@fleetban/shared';
import { JailSpaces } from '../decide/fleet-guard.js';
import type { OffenceBook } from '../store/offence-book.js';

/** What recidive made of one ban. */
export type RecidiveVerdict =
  | { readonly kind: 'ban'; readonly decision: BanDecision }
  /** The count was reached, but the guard (or the recidive jail's ignoreip) refuses the address. */
  | { readonly kind: 'refused'; readonly jail: string; readonly refusal: Refusal };

/** What the policy reads of the world (the store's maps, in memory). */
export interface RecidiveState {
  /** Active bans by target. */
  readonly bans: ReadonlyMap<string, BanDecision>;
  readonly offences: OffenceBook;
  readonly guard: BanGuard;
}

/**
 * fail2ban's `[recidive]` as a controller policy over the fleet's ban history: after a ban is
 * stored, each enabled `policy = recidive` jail counts the address's fleet-wide threshold bans in
 * every other jail within its findtime (bans it has answered already do not count again); at its
 * maxretry it bans the address for its bantime (with its own bantime.increment), reason
 * `recidive`, on every host, with id `recidive:<that ban's id>:<recidive jail>`. A recidive ban
 * never shortens the ban in force. Synchronous.
 */
export class RecidivePolicy {
  readonly jails: readonly JailConfig[];
  readonly #names: ReadonlySet<string>;
  readonly #spaces = new JailSpaces();

  constructor(jails: readonly JailConfig[], private readonly s: RecidiveState) {
    this.jails = jails.filter((j) => j.enabled && j.policy === 'recidive');
    this.#names = new Set(jails.filter((j) => j.policy === 'recidive').map((j) => j.name));
  }

  /** The recidive bans (or refusals) `ban`, just stored, leads to at `nowMs`, in jail order. */
  after(ban: BanDecision, nowMs: number): RecidiveVerdict[] {
    if (ban.reason !== 'threshold' || ban.scope.length > 0 || this.jails.length === 0) return [];
    const at = Math.max(nowMs, ban.atMs);
    const out: RecidiveVerdict[] = [];
    let current: BanDecision | undefined = this.s.bans.get(ban.ip);
    for (const r of this.jails) {
      if (current && current.jail === r.name && isActive(current, at)) continue;
      if (current && current.expiresMs === 0 && isActive(current, at)) continue; // permanent already
      const own = this.s.offences.get(historyKey(r.name, ban.ip));
      const history = [...this.s.offences.ofTarget(ban.ip)].map(([jail, o]) => ({ jail, times: o.banTimesMs }));
      const bans = bansInWindow(history, this.#names, r.findtimeMs, at, own?.lastBanMs ?? 0);
      if (!isRecidive(bans.length, r.maxretry)) continue;
      const refusal = this.s.guard.check(ban.ip, { extra: [this.#spaces.of(r)] });
      if (refusal) {
        out.push({ kind: 'refused', jail: r.name, refusal });
        continue;
      }
      const previous = r.increment.overalljails ? this.s.offences.countAllJails(ban.ip) : (own?.count ?? 0);
      let duration = banDuration(r, previous);
      const max = this.s.guard.limits.maxBantimeMs;
      if (max > 0 && duration !== PERMANENT) duration = Math.min(duration, max);
      let expiresMs = banExpiry(at, duration);
      if (expiresMs !== 0 && current && isActive(current, at)) expiresMs = current.expiresMs === 0 ? 0 : Math.max(expiresMs, current.expiresMs);
      const decision: BanDecision = {
        ip: ban.ip,
        jail: r.name,
        atMs: at,
        expiresMs,
        reason: 'recidive',
        banCount: previous + 1,
        hosts: ban.hosts,
        matches: ban.matches,
        failures: bans.length,
        scope: [],
        id: `recidive:${banId(ban)}:${r.name}`,
        ...(ban.user ? { user: ban.user } : {}),
      };
      out.push({ kind: 'ban', decision });
      current = decision;
    }
    return out;
  }
}
