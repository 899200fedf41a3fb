import { type KeptLines, linesOf } from './failure-window-lines.js';

/** One address's window as {@link FailureWindow.capture} returns it and {@link FailureWindow.restore} takes it. */
export interface CapturedAddress {
  readonly ip: string;
  readonly times: readonly number[];
  readonly sources: readonly string[];
  readonly matches: readonly string[];
}

/** Whether a capture may still be read: false once its window captured again, or it was released. */
export interface CaptureStamp {
  live: boolean;
}

/**
 * The columns a window copies itself into, kept from one capture to the next. Copied into new
 * arrays, a capture of 100,000 addresses took 20–30 ms, nearly all of it the kernel handing out
 * fresh pages (a new 1.6 MB Float64Array copy: 4.8 ms; into pages used before: 0.2 ms), and a
 * capture pauses deciding. So a window's capture is readable until its next one (or its release);
 * reading it later throws.
 */
export class CaptureCopies {
  count = new Uint32Array(0);
  times = new Float64Array(0);
  sources: string[] = [];
  matches: KeptLines[] = [];
  #stamp: CaptureStamp = { live: false };

  /** Starts a capture: the one before can no longer be read. */
  renew(): CaptureStamp {
    this.#stamp.live = false;
    this.#stamp = { live: true };
    return this.#stamp;
  }

  /** Ends the capture stamped `stamp` (if it is the latest): its references to lines are dropped. */
  release(stamp: CaptureStamp): void {
    if (stamp !== this.#stamp || !stamp.live) return;
    stamp.live = false;
    this.sources.fill('');
    this.matches.fill(undefined);
  }
}

/** `from`'s first `n` items in `kept` (a new array of room for them when `kept` is shorter): what to keep next. */
export function typedCopy<T extends Uint32Array | Int32Array | Float64Array>(kept: T, from: T, n: number, make: (n: number) => T): T {
  const into = kept.length >= n ? kept : make(n);
  into.set(from.subarray(0, n) as never);
  return into;
}

/** `from`'s first `n` items written over `kept`'s (a new array when `kept` is shorter, made at once): what to keep next. */
export function listCopy<T>(kept: T[], from: readonly T[], n: number): T[] {
  const into = kept.length >= n ? kept : (Array.from({ length: n }) as T[]);
  for (let i = 0; i < n; i++) into[i] = from[i] as T;
  return into;
}

/** The columns of a window, copied at one instant (what {@link WindowCapture} reads from). */
export interface CapturedColumns {
  /** The slots of the addresses, least recently failing first. */
  readonly slots: Int32Array;
  /** The address of a slot. */
  readonly ipOf: (slot: number) => string;
  readonly count: Uint32Array;
  /** `inline` times and sources per slot. */
  readonly inline: number;
  readonly times: Float64Array;
  readonly sources: readonly string[];
  /** Slots with more failures than `inline`: their own copies. */
  readonly spill: ReadonlyMap<number, { readonly times: readonly number[]; readonly sources: readonly string[] }>;
  /** Kept lines by slot (never changed once stored: shared, not copied). */
  readonly matches: readonly KeptLines[];
  /** Whether the columns still hold this capture (absent: always). */
  readonly stamp?: CaptureStamp;
  /** Ends the capture (absent: nothing to do). */
  readonly release?: () => void;
}

/**
 * A window as it was at one instant: its columns copied at once (a few copies of typed arrays
 * and arrays of references, ms for 100,000 addresses), each address's {@link CapturedAddress}
 * made only when read, so a controller's snapshot pauses decisions for the copy only.
 */
export class WindowCapture {
  constructor(private readonly c: CapturedColumns) {}

  /**
   * Says the capture will not be read again: a window's copies drop their references to lines
   * (those it has dropped since would otherwise live until its next capture).
   */
  release(): void {
    this.c.release?.();
  }

  /** Addresses captured. */
  get length(): number {
    return this.c.slots.length;
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
    if (c.stamp && !c.stamp.live) throw new Error('a window capture was read after its window captured again or it was released: captures are read one at a time');
    const slot = c.slots[i] as number;
    const spill = c.spill.get(slot);
    if (spill) {
      visit(c.ipOf(slot), spill.times.slice(), spill.sources.slice(), c.matches[slot]);
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
    visit(c.ipOf(slot), times, sources, c.matches[slot]);
  }

  [Symbol.iterator](): Iterator<CapturedAddress> {
    return this.slice()[Symbol.iterator]();
  }
}
