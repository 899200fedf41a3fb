import type { CounterSet } from '../metrics/counter-set.js';

/** Minutes the series keeps (the chart's width). */
export const SERIES_MINUTES = 60;

/** Counters of bans made, whatever the door (threshold, recidive, manual from the CLI or the page). */
const BAN_COUNTERS = ['bans.made', 'bans.recidive', 'bans.manual'];

/** One minute of the series: failures counted towards a ban and bans made in it. */
export interface SeriesPoint {
  /** The minute's start, ms since the epoch. */
  readonly minuteMs: number;
  readonly failures: number;
  readonly bans: number;
}

/**
 * Failures and bans per minute over the last {@link SERIES_MINUTES}, kept in memory for the web
 * view's chart. It owns no count: each {@link sample} reads the controller's counters
 * (`events.counted`, bans made) and adds what they grew by since the last sample to the current
 * minute. Lost on restart, by design: the history is Prometheus's job (docs/metrics.md).
 */
export class FleetSeries {
  readonly #points: { minuteMs: number; failures: number; bans: number }[] = [];
  #lastFailures: number;
  #lastBans: number;

  constructor(private readonly counters: CounterSet) {
    this.#lastFailures = counters.get('events.counted');
    this.#lastBans = this.#bans();
  }

  /** Adds the counters' growth since the last sample to the minute of `nowMs`. */
  sample(nowMs: number): void {
    const failures = this.counters.get('events.counted');
    const bans = this.#bans();
    const minuteMs = nowMs - (nowMs % 60_000);
    let last = this.#points.at(-1);
    if (!last || last.minuteMs < minuteMs) {
      last = { minuteMs, failures: 0, bans: 0 };
      this.#points.push(last);
      while (this.#points.length > 0 && (this.#points[0] as SeriesPoint).minuteMs <= minuteMs - SERIES_MINUTES * 60_000) this.#points.shift();
    }
    last.failures += Math.max(0, failures - this.#lastFailures);
    last.bans += Math.max(0, bans - this.#lastBans);
    this.#lastFailures = failures;
    this.#lastBans = bans;
  }

  /** The minutes that saw a sample, oldest first (a minute without one is a gap the page draws as zero). */
  points(): SeriesPoint[] {
    return this.#points.map((p) => ({ ...p }));
  }

  #bans(): number {
    return BAN_COUNTERS.reduce((n, c) => n + this.counters.get(c), 0);
  }
}
