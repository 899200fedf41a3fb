import { type BanDecision, isActive, type Offence, targetOfBanKey, withBanTime } from '@fleetban/shared';

/** The end of a ban that does not end. */
const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * The offence of a ban's jail and target once `b` is stored, from the one `before` it: a threshold
 * or recidive ban counts (bantime.increment), a manual one keeps the count; a ban scoped to some
 * hosts has not dealt with the failures other hosts see (those still count); the start of a
 * fleet-wide threshold ban is kept for recidive to count (a host whose logs can be forged cannot
 * escalate its own scoped bans to a fleet-wide recidive ban).
 */
export function offenceAfter(before: Offence | undefined, b: BanDecision): Offence {
  const count = b.reason === 'manual' ? (before?.count ?? 0) : b.banCount;
  const endsMs = b.expiresMs === 0 ? NEVER : b.expiresMs;
  const clearedAtMs = b.scope.length > 0 ? (before?.clearedAtMs ?? 0) : endsMs;
  const times = before?.banTimesMs ?? [];
  const banTimesMs = b.reason === 'threshold' && b.scope.length === 0 ? withBanTime(times, b.atMs) : times;
  return { count, lastBanMs: b.atMs, clearedAtMs, endsMs, banTimesMs };
}

/**
 * The ban history in memory: offences by `historyKey(jail, target)` (a Map, as the decider reads
 * it), plus an index by target, so every jail's offence of one address is found without a scan
 * (`bantime.overalljails`, recidive). The index holds a target's history keys (the Map's own
 * strings): one key for an address banned in one jail, the usual case, an array for more; not a
 * Map per target, which cost 100,000 Maps and a fifth of a restart's time for 100,000 offences.
 */
export class OffenceBook extends Map<string, Offence> {
  readonly #byTarget = new Map<string, string | string[]>();

  /** Splits a history key `<jail>.<banKey>` into jail and target; null when it is not one. */
  static parseKey(key: string): { jail: string; target: string } | null {
    const dot = key.indexOf('.');
    // `<jail>.v4.<…>` or `<jail>.v6.<…>`, looked at character by character (a restart sets 100,000s)
    if (dot <= 0 || key[dot + 1] !== 'v' || (key[dot + 2] !== '4' && key[dot + 2] !== '6') || key[dot + 3] !== '.') return null;
    return { jail: key.slice(0, dot), target: targetOfBanKey(key.slice(dot + 1)) };
  }

  override set(key: string, o: Offence): this {
    const known = super.has(key);
    super.set(key, o);
    if (known) return this;
    const k = OffenceBook.parseKey(key);
    if (k) {
      const keys = this.#byTarget.get(k.target);
      if (keys === undefined) this.#byTarget.set(k.target, key);
      else if (typeof keys === 'string') this.#byTarget.set(k.target, [keys, key]);
      else keys.push(key);
    }
    return this;
  }

  override delete(key: string): boolean {
    if (!super.delete(key)) return false;
    const k = OffenceBook.parseKey(key);
    const keys = k ? this.#byTarget.get(k.target) : undefined;
    if (k && keys !== undefined) {
      const rest = typeof keys === 'string' ? [] : keys.filter((x) => x !== key);
      if (rest.length === 0) this.#byTarget.delete(k.target);
      else this.#byTarget.set(k.target, rest.length === 1 ? (rest[0] as string) : rest);
    }
    return true;
  }

  override clear(): void {
    this.#byTarget.clear();
    super.clear();
  }

  /** Every jail's offence of `target`, by jail name (empty when it was never banned). */
  ofTarget(target: string): ReadonlyMap<string, Offence> {
    const keys = this.#byTarget.get(target);
    if (keys === undefined) return EMPTY;
    const out = new Map<string, Offence>();
    for (const key of typeof keys === 'string' ? [keys] : keys) out.set(key.slice(0, key.indexOf('.')), this.get(key) as Offence);
    return out;
  }

  /** True when `target` (an address or network's text) has an offence in some jail: most failures' do not. */
  hasTarget(target: string): boolean {
    return this.#byTarget.has(target);
  }

  /**
   * fail2ban's `bantime.overalljails` count: the sum of the ban counts of `target` over every
   * jail (its database's `SELECT sum(bancount) ... GROUP BY ip`).
   */
  countAllJails(target: string): number {
    let n = 0;
    for (const o of this.ofTarget(target).values()) n += o.count;
    return n;
  }
}

const EMPTY: ReadonlyMap<string, Offence> = new Map();

/**
 * History keys to forget at `nowMs` (fail2ban's dbpurgeage): the offence's last ban ended more
 * than `ageMs` ago and its target holds no active ban of that jail. Permanent bans (end
 * MAX_SAFE_INTEGER) are never purged, as in fail2ban.
 */
export function purgeableKeys(offences: ReadonlyMap<string, Offence>, bans: ReadonlyMap<string, BanDecision>, nowMs: number, ageMs: number): string[] {
  const out: string[] = [];
  for (const [key, o] of offences) {
    if (o.endsMs === Number.MAX_SAFE_INTEGER || o.endsMs + ageMs >= nowMs) continue;
    const k = OffenceBook.parseKey(key);
    const ban = k ? bans.get(k.target) : undefined;
    if (ban && ban.jail === k?.jail && isActive(ban, nowMs)) continue;
    out.push(key);
  }
  return out;
}
