import { FailureWindow, FleetbanError, type JailConfig } from '@fleetban/shared';

/** One jail's failure window and fail2ban's running totals. */
export class JailTracker {
  readonly window: FailureWindow;
  totalFailed = 0;
  totalBanned = 0;
  constructor(readonly jail: JailConfig, maxTracked: number) {
    this.window = new FailureWindow({ findtimeMs: jail.findtimeMs, maxmatches: jail.maxmatches, maxTracked });
  }
}

/**
 * Every jail's tracker; a jail the controller has no section for uses the defaults it is given.
 * Jail names come from agents (any host may name any jail on its own subjects), so at most
 * `maxUnconfigured` jails without a section are tracked: a flood of invented names cannot grow
 * the controller's state or its status reply without bound.
 */
export class JailTrackers {
  readonly #byName = new Map<string, JailTracker>();
  #unconfigured = 0;
  constructor(
    jails: readonly JailConfig[],
    private readonly fallback: (name: string) => JailConfig,
    private readonly maxTracked: number,
    private readonly maxUnconfigured = 256,
  ) {
    for (const j of jails) this.#byName.set(j.name, new JailTracker(j, maxTracked));
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

  /** Every tracker, configured jails first, in order. */
  all(): JailTracker[] {
    return [...this.#byName.values()];
  }

  /** Drops windows that have fully aged out. */
  prune(nowMs: number): void {
    for (const t of this.#byName.values()) t.window.prune(nowMs);
  }
}
