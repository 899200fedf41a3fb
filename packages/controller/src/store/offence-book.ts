import { type Offence, targetOfBanKey } from '@fleetban/shared';

/**
 * The ban history in memory: offences by `historyKey(jail, target)` (a Map, as the decider reads
 * it), plus an index by target, so every jail's offence of one address is found without a scan
 * (`bantime.overalljails`, recidive).
 */
export class OffenceBook extends Map<string, Offence> {
  readonly #byTarget = new Map<string, Map<string, Offence>>();

  /** Splits a history key `<jail>.<banKey>` into jail and target; null when it is not one. */
  static parseKey(key: string): { jail: string; target: string } | null {
    const dot = key.indexOf('.');
    if (dot <= 0 || !/^v[46]\./.test(key.slice(dot + 1))) return null;
    return { jail: key.slice(0, dot), target: targetOfBanKey(key.slice(dot + 1)) };
  }

  override set(key: string, o: Offence): this {
    super.set(key, o);
    const k = OffenceBook.parseKey(key);
    if (k) {
      let jails = this.#byTarget.get(k.target);
      if (!jails) this.#byTarget.set(k.target, (jails = new Map()));
      jails.set(k.jail, o);
    }
    return this;
  }

  override delete(key: string): boolean {
    const k = OffenceBook.parseKey(key);
    if (k) {
      const jails = this.#byTarget.get(k.target);
      jails?.delete(k.jail);
      if (jails?.size === 0) this.#byTarget.delete(k.target);
    }
    return super.delete(key);
  }

  override clear(): void {
    this.#byTarget.clear();
    super.clear();
  }

  /** Every jail's offence of `target`, by jail name (empty when it was never banned). */
  ofTarget(target: string): ReadonlyMap<string, Offence> {
    return this.#byTarget.get(target) ?? EMPTY;
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
