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
  readonly #breakdowns = new Map<string, Breakdown>();

  /** Adds `n` (default 1) to `name`, and to its breakdown row `labels` when given. */
  add(name: string, n = 1, labels?: readonly string[]): void {
    this.#values.set(name, (this.#values.get(name) ?? 0) + n);
    if (labels === undefined) return;
    let rows = this.#breakdowns.get(name);
    if (!rows) this.#breakdowns.set(name, (rows = new Breakdown()));
    rows.row(labels).value += n;
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
    return (this.#breakdowns.get(name)?.rows ?? []).map((r) => ({ labels: r.labels, value: r.value }));
  }

  /** Names of the counters that have a breakdown. */
  labelledNames(): string[] {
    return [...this.#breakdowns.keys()];
  }
}

/** A breakdown row as counted. */
interface Row {
  readonly labels: readonly string[];
  value: number;
}

/** A step of a breakdown's lookup: the rows below one label value, and the row that ends there. */
interface LabelNode {
  next?: Map<string, LabelNode>;
  row?: Row;
}

/**
 * One counter's breakdown: its rows in the order first counted, each found by walking its label
 * values one map at a time (a count joins no strings: the failures' counters are added to for
 * every event), at most {@link MAX_BREAKDOWN} of them.
 */
class Breakdown {
  readonly rows: Row[] = [];
  readonly #root: LabelNode = {};

  /** The row of `labels`, made when new and there is room, else the {@link OTHER} row. */
  row(labels: readonly string[]): Row {
    const found = this.#find(labels, false);
    if (found) return found;
    return this.#find(this.rows.length < MAX_BREAKDOWN ? labels : labels.map(() => OTHER), true) as Row;
  }

  #find(labels: readonly string[], make: boolean): Row | undefined {
    let node = this.#root;
    for (const value of labels) {
      let next = node.next?.get(value);
      if (!next) {
        if (!make) return undefined;
        (node.next ??= new Map()).set(value, (next = {}));
      }
      node = next;
    }
    if (!node.row && make) this.rows.push((node.row = { labels: [...labels], value: 0 }));
    return node.row;
  }
}
