/** Distinct label sets one counter keeps a breakdown for; later ones are counted under {@link OTHER}. */
export const MAX_BREAKDOWN = 4096;

/** The label value a count is kept under once its counter's breakdown is full. */
export const OTHER = '_other';

/** One line of a counter's breakdown: its label values (as given to {@link CounterSet.add}) and count. */
export interface BreakdownRow {
  readonly labels: readonly string[];
  readonly value: number;
}

/**
 * The controller's input counters by name: every message received, and every one rejected, by
 * kind (`events.malformed`, `events.rejected.future`, ...). The admin service reports them whole,
 * so a test or an operator can account for every input. A count may also carry label values
 * (jail and host, jail and reason): the counter then keeps a breakdown beside its total, which the
 * Prometheus metrics read (metrics/prometheus.ts). Label values come from bounded sets (configured
 * or tracked jails, fleet hosts, ban reasons); the breakdown is capped at {@link MAX_BREAKDOWN}
 * rows per counter anyway, so invented names cannot grow it without bound.
 */
export class CounterSet {
  readonly #values = new Map<string, number>();
  readonly #breakdowns = new Map<string, Map<string, number>>();

  /** Adds `n` (default 1) to `name`, and to its breakdown row `labels` when given. */
  add(name: string, n = 1, labels?: readonly string[]): void {
    this.#values.set(name, (this.#values.get(name) ?? 0) + n);
    if (labels === undefined) return;
    let rows = this.#breakdowns.get(name);
    if (!rows) this.#breakdowns.set(name, (rows = new Map()));
    let key = labels.join('\n');
    if (!rows.has(key) && rows.size >= MAX_BREAKDOWN) key = labels.map(() => OTHER).join('\n');
    rows.set(key, (rows.get(key) ?? 0) + n);
  }

  /** The value of `name` (0 when never counted). */
  get(name: string): number {
    return this.#values.get(name) ?? 0;
  }

  /** Sum of every counter whose name starts with `prefix`. */
  sum(prefix: string): number {
    let n = 0;
    for (const [k, v] of this.#values) if (k.startsWith(prefix)) n += v;
    return n;
  }

  /** Every counter, sorted by name. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#values].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** The breakdown of `name`: one row per label set counted (none when never counted with labels). */
  breakdown(name: string): BreakdownRow[] {
    return [...(this.#breakdowns.get(name) ?? [])].map(([k, value]) => ({ labels: k.split('\n'), value }));
  }

  /** Names of the counters that have a breakdown. */
  labelledNames(): string[] {
    return [...this.#breakdowns.keys()];
  }
}
