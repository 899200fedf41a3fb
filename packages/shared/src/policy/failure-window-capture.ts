import { type KeptLines, linesOf } from './failure-window-lines.js';

/** One address's window as {@link FailureWindow.capture} returns it and {@link FailureWindow.restore} takes it. */
export interface CapturedAddress {
  readonly ip: string;
  readonly times: readonly number[];
  readonly sources: readonly string[];
  readonly matches: readonly string[];
}

/** The columns of a window, copied at one instant (what {@link WindowCapture} reads from). */
export interface CapturedColumns {
  /** Addresses, least recently failing first, and their slots. */
  readonly ips: readonly string[];
  readonly slots: Int32Array;
  readonly count: Uint32Array;
  /** `inline` times and sources per slot. */
  readonly inline: number;
  readonly times: Float64Array;
  readonly sources: readonly string[];
  /** Slots with more failures than `inline`: their own copies. */
  readonly spill: ReadonlyMap<number, { readonly times: readonly number[]; readonly sources: readonly string[] }>;
  /** Kept lines by slot (never changed once stored: shared, not copied). */
  readonly matches: readonly KeptLines[];
}

/**
 * A window as it was at one instant: its columns copied at once (a few copies of typed arrays
 * and arrays of references, ms for 100,000 addresses), each address's {@link CapturedAddress}
 * made only when read, so a controller's snapshot pauses decisions for the copy only.
 */
export class WindowCapture {
  constructor(private readonly c: CapturedColumns) {}

  /** Addresses captured. */
  get length(): number {
    return this.c.ips.length;
  }

  /** The addresses from `start` to `end` (exclusive), least recently failing first. */
  slice(start = 0, end = this.length): CapturedAddress[] {
    const out: CapturedAddress[] = [];
    const add = (ip: string, times: number[], sources: string[], kept: KeptLines) => void out.push({ ip, times, sources, matches: linesOf(kept) });
    for (let i = Math.max(0, start); i < Math.min(end, this.length); i++) this.#row(i, add);
    return out;
  }

  /**
   * Calls `visit` with each address, least recently failing first, without making its
   * {@link CapturedAddress}: its failure times and their hosts (new arrays, the caller's), and its
   * kept lines as the window held them (not to be changed).
   */
  each(visit: (ip: string, times: number[], sources: string[], kept: KeptLines) => void): void {
    for (let i = 0; i < this.length; i++) this.#row(i, visit);
  }

  /** Calls `visit` with the `i`-th address: its failure times and hosts in new arrays, its kept lines. */
  #row(i: number, visit: (ip: string, times: number[], sources: string[], kept: KeptLines) => void): void {
    const c = this.c;
    const slot = c.slots[i] as number;
    const spill = c.spill.get(slot);
    if (spill) {
      visit(c.ips[i] as string, spill.times.slice(), spill.sources.slice(), c.matches[slot]);
      return;
    }
    const held = c.count[slot] as number;
    const at = slot * c.inline;
    const times = new Array<number>(held);
    const sources = new Array<string>(held);
    for (let k = 0; k < held; k++) {
      times[k] = c.times[at + k] as number;
      sources[k] = c.sources[at + k] as string;
    }
    visit(c.ips[i] as string, times, sources, c.matches[slot]);
  }

  [Symbol.iterator](): Iterator<CapturedAddress> {
    return this.slice()[Symbol.iterator]();
  }
}
