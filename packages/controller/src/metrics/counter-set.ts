/**
 * The controller's input counters by name: every message received, and every one rejected, by
 * kind (`events.malformed`, `events.rejected.future`, ...). The admin service reports them whole,
 * so a test or an operator can account for every input.
 */
export class CounterSet {
  readonly #values = new Map<string, number>();

  /** Adds `n` (default 1) to `name`. */
  add(name: string, n = 1): void {
    this.#values.set(name, (this.#values.get(name) ?? 0) + n);
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
}
