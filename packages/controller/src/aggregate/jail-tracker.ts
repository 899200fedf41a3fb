import { type CapturedAddress, FailureWindow, FleetbanError, type JailConfig, type WindowCapture } from '@fleetban/shared';

/** One jail's failure window and fail2ban's running totals. */
export class JailTracker {
  readonly window: FailureWindow;
  totalFailed = 0;
  totalBanned = 0;
  #jail: JailConfig;
  constructor(jail: JailConfig, maxTracked: number) {
    this.#jail = jail;
    this.window = new FailureWindow({ findtimeMs: jail.findtimeMs, maxmatches: jail.maxmatches, maxTracked });
  }

  /** The jail's current configuration (read anew at every decision). */
  get jail(): JailConfig {
    return this.#jail;
  }

  /** Takes the jail's new configuration (`fleetban set`, a reload), keeping its window and totals. */
  retune(jail: JailConfig): void {
    this.#jail = jail;
    this.window.retune({ findtimeMs: jail.findtimeMs, maxmatches: jail.maxmatches });
  }
}

/** Captured addresses: as a window copied them, or as a snapshot decoded them. */
export type CapturedAddresses = Pick<WindowCapture, 'length' | 'slice'> & Partial<Pick<WindowCapture, 'release'>> & Iterable<CapturedAddress>;

/** One jail's window and totals as {@link JailTrackers.capture} copies them. */
export interface CapturedJail {
  readonly name: string;
  readonly totalFailed: number;
  readonly totalBanned: number;
  /** Least recently failing first: read in slices (a copy made at once, addresses made when read). */
  readonly addresses: CapturedAddresses;
}

/** What {@link JailTrackers.reconfigure} did to the jails. */
export interface Reconfigured {
  /** Jails with a section now that had none (new trackers, or an unconfigured jail's kept). */
  readonly added: string[];
  /** Jails whose section is gone: their trackers (windows) dropped. */
  readonly removed: string[];
  /** Kept jails, with their configuration before the change. */
  readonly kept: { readonly before: JailConfig; readonly after: JailConfig }[];
}

/**
 * Every jail's tracker; a jail the controller has no section for uses the defaults it is given.
 * Jail names come from agents (any host may name any jail on its own subjects), so at most
 * `maxUnconfigured` jails without a section are tracked: a flood of invented names cannot grow
 * the controller's state or its status reply without bound.
 */
export class JailTrackers {
  readonly #byName = new Map<string, JailTracker>();
  /** Names of the jails with a section of their own. */
  readonly #configured = new Set<string>();
  #unconfigured = 0;
  constructor(
    jails: readonly JailConfig[],
    private fallback: (name: string) => JailConfig,
    private readonly maxTracked: number,
    private readonly maxUnconfigured = 256,
  ) {
    for (const j of jails) {
      this.#byName.set(j.name, new JailTracker(j, maxTracked));
      this.#configured.add(j.name);
    }
  }

  /** The jail's tracker, created on first use for a jail without a section; undefined once the cap is reached. */
  find(name: string): JailTracker | undefined {
    let t = this.#byName.get(name);
    if (!t && this.#unconfigured < this.maxUnconfigured) {
      t = new JailTracker(this.fallback(name), this.maxTracked);
      this.#byName.set(name, t);
      this.#unconfigured++;
    }
    return t;
  }

  /** The jail's tracker; throws a {@link FleetbanError} (`JAIL_LIMIT`) when it cannot be tracked (see {@link find}). */
  get(name: string): JailTracker {
    const t = this.find(name);
    if (!t) throw new FleetbanError('JAIL_LIMIT', `jail '${name}' has no section and ${this.maxUnconfigured} such jails are tracked already`);
    return t;
  }

  /** The tracker of a jail tracked now (configured, or heard of), without creating one. */
  existing(name: string): JailTracker | undefined {
    return this.#byName.get(name);
  }

  /** Every tracker, configured jails first, in order. */
  all(): JailTracker[] {
    return [...this.#byName.values()];
  }

  /**
   * Takes a new set of jail sections and defaults (a reload) without losing what is counted: a
   * kept jail keeps its window and totals under its new thresholds, a new jail starts empty (or
   * keeps the window it had while it had no section), a jail whose section is gone is dropped
   * with its window (an agent that still reports it makes it an unconfigured jail again, on the
   * defaults). Unconfigured jails take the new defaults.
   */
  reconfigure(jails: readonly JailConfig[], fallback: (name: string) => JailConfig): Reconfigured {
    const out: Reconfigured = { added: [], removed: [], kept: [] };
    const next = new Set(jails.map((j) => j.name));
    for (const name of [...this.#configured]) {
      if (next.has(name)) continue;
      this.#byName.delete(name);
      this.#configured.delete(name);
      out.removed.push(name);
    }
    this.fallback = fallback;
    const order = new Map<string, JailTracker>();
    for (const j of jails) {
      const t = this.#byName.get(j.name);
      if (t && this.#configured.has(j.name)) {
        out.kept.push({ before: t.jail, after: j });
        t.retune(j);
        order.set(j.name, t);
        continue;
      }
      if (t) {
        // heard of before it had a section: its window is kept, it no longer counts as unconfigured
        t.retune(j);
        this.#unconfigured--;
        order.set(j.name, t);
      } else order.set(j.name, new JailTracker(j, this.maxTracked));
      this.#configured.add(j.name);
      out.added.push(j.name);
    }
    for (const [name, t] of this.#byName) {
      if (order.has(name)) continue;
      t.retune(fallback(name));
      order.set(name, t);
    }
    this.#byName.clear();
    for (const [name, t] of order) this.#byName.set(name, t);
    return out;
  }

  /** Every jail's window and totals as they are now: a copy later failures do not change (a snapshot). */
  capture(): CapturedJail[] {
    return this.all().map((t) => ({ name: t.jail.name, totalFailed: t.totalFailed, totalBanned: t.totalBanned, addresses: t.window.capture() }));
  }

  /**
   * Takes back what {@link capture} returned (a start from a snapshot, before any failure): a jail
   * now without a section comes back as one without (while fewer than the cap are tracked).
   */
  restore(jails: readonly CapturedJail[]): void {
    for (const j of jails) {
      const t = this.find(j.name);
      if (!t) continue;
      t.totalFailed += j.totalFailed;
      t.totalBanned += j.totalBanned;
      t.window.restore(j.addresses);
    }
  }

  /** Drops windows that have fully aged out. */
  prune(nowMs: number): void {
    for (const t of this.#byName.values()) t.window.prune(nowMs);
  }
}
