import { FailureWindow, type JailConfig, type Tracked } from '@fleetban/shared';

/** One jail's failure window and fail2ban's running totals. */
export class JailTracker {
  readonly window: FailureWindow;
  totalFailed = 0;
  totalBanned = 0;
  constructor(readonly jail: JailConfig, maxTracked: number) {
    this.window = new FailureWindow({ findtimeMs: jail.findtimeMs, maxmatches: jail.maxmatches, maxTracked });
  }

  /** Counts one failure; returns the address's failures inside findtime. */
  count(ip: string, timeMs: number, host: string, line: string): Tracked {
    this.totalFailed++;
    return this.window.add(ip, timeMs, host, line);
  }
}

/** Every jail's tracker; a jail the controller has no section for uses the defaults it is given. */
export class JailTrackers {
  readonly #byName = new Map<string, JailTracker>();
  constructor(
    jails: readonly JailConfig[],
    private readonly fallback: (name: string) => JailConfig,
    private readonly maxTracked: number,
  ) {
    for (const j of jails) this.#byName.set(j.name, new JailTracker(j, maxTracked));
  }

  /** The jail's tracker, created on first use for a jail without a section. */
  get(name: string): JailTracker {
    let t = this.#byName.get(name);
    if (!t) {
      t = new JailTracker(this.fallback(name), this.maxTracked);
      this.#byName.set(name, t);
    }
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
