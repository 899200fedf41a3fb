import { encodeLines } from './line-arena.js';

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
 * Calls `visit` with one address's window: its failure times, their hosts and its kept lines (new
 * arrays, the caller's).
 */
export type RowVisit = (ip: string, times: number[], sources: string[], matches: string[]) => void;

/**
 * One address's row copied into storage reused from one row to the next
 * ({@link WindowCapture.eachCopy}): what a snapshot's encoder reads, without an address string or
 * arrays per row. Valid until the next row is copied into it.
 */
export class RowCopy {
  /** The address's IPv4 value, when {@link text} is undefined. */
  v4 = 0;
  /** The address when it is not canonical dotted IPv4, else undefined. */
  text: string | undefined = undefined;
  /** Failures copied: the first `count` of {@link times} and {@link sources}, oldest first. */
  count = 0;
  times = new Float64Array(16);
  sources: string[] = [];
  /**
   * The kept lines as a record (line-arena.ts: what a version 4 snapshot holds): its
   * `linesLength` bytes from `linesAt` in `lines` (undefined for none), the window's own storage
   * or {@link scratch}, not to be changed.
   */
  lines: Buffer | undefined = undefined;
  linesAt = 0;
  linesLength = 0;
  /** What {@link copyRow} encodes lines into. */
  scratch: Buffer | undefined = undefined;

  /** Makes room for `n` failures in {@link times}. */
  room(n: number): void {
    if (this.times.length < n) this.times = new Float64Array(Math.max(n, this.times.length * 2));
  }
}

/**
 * Copies an address's row into `into` (its key as text, its lines encoded), its hosts parallel to
 * its times, newest last: a time without a host gets the host ''.
 */
export function copyRow(ip: string, times: readonly number[], sources: readonly string[], matches: readonly string[], into: RowCopy): RowCopy {
  const missing = times.length - sources.length;
  into.text = ip;
  into.room(times.length);
  into.count = times.length;
  for (let k = 0; k < times.length; k++) (into.times[k] = times[k] as number, into.sources[k] = sources[k - missing] ?? '');
  if (matches.length === 0) into.lines = undefined;
  else {
    const { record, scratch } = encodeLines(matches, into.scratch);
    into.scratch = scratch;
    into.lines = scratch;
    into.linesAt = 0;
    into.linesLength = record.length;
  }
  return into;
}

/** What a {@link WindowCapture} reads from. */
export interface CapturedColumns {
  /** The slots of the addresses, least recently failing first. */
  readonly slots: Int32Array;
  /** Reads the row of a slot, as it was when the capture was made. */
  readonly row: (slot: number, visit: RowVisit) => void;
  /** Copies the row of a slot, as it was when the capture was made (absent: read through {@link row}). */
  readonly copy?: (slot: number, into: RowCopy) => void;
  /** Whether the capture can still be read (absent: always). */
  readonly stamp?: CaptureStamp;
  /** Ends the capture (absent: nothing to do). */
  readonly release?: () => void;
  /** Says the rows before `end` will not be read again (absent: nothing to do). */
  readonly passed?: (end: number) => void;
}

/**
 * A window as it was at one instant: the order of its addresses copied at once, each address's
 * row read when asked for (a window keeps the rows it changes meanwhile as they were), its
 * {@link CapturedAddress} made only then, so a controller's snapshot pauses decisions for the
 * order's copy only.
 */
export class WindowCapture {
  /** Rows before this one are not read again ({@link passed}). */
  #passed = 0;
  constructor(private readonly c: CapturedColumns) {}

  /**
   * Says the rows before `end` will not be read again (a snapshot's writer, which reads them once
   * in order): a window need not keep them as they were when it changes them, and reading one
   * throws.
   */
  passed(end: number): void {
    if (end <= this.#passed) return;
    this.#passed = end;
    this.c.passed?.(end);
  }

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
    this.each((ip, times, sources, matches) => void out.push({ ip, times, sources, matches }), start, end);
    return out;
  }

  /**
   * Calls `visit` with each address from `start` to `end` (exclusive; default all), least recently
   * failing first, without making its {@link CapturedAddress}: its failure times, their hosts and
   * its kept lines (new arrays, the caller's).
   */
  each(visit: RowVisit, start = 0, end = this.length): void {
    for (let i = Math.max(0, start); i < Math.min(end, this.length); i++) this.#row(i, visit);
  }

  /**
   * Copies each address from `start` to `end` (exclusive; default all) into `into`, least recently
   * failing first, and calls `visit` with it: a row costs no new object when the window copies
   * its rows itself (a decoded snapshot's rows are read through {@link each}).
   */
  eachCopy(into: RowCopy, visit: (row: RowCopy) => void, start = 0, end = this.length): void {
    const c = this.c;
    const copy = c.copy;
    if (!copy) {
      this.each((ip, times, sources, matches) => {
        copyRow(ip, times, sources, matches, into);
        visit(into);
      }, start, end);
      return;
    }
    for (let i = Math.max(0, start); i < Math.min(end, this.length); i++) {
      this.#check(i);
      copy(c.slots[i] as number, into);
      visit(into);
    }
  }

  /** Calls `visit` with the `i`-th address. */
  #row(i: number, visit: RowVisit): void {
    this.#check(i);
    this.c.row(this.c.slots[i] as number, visit);
  }

  /** Throws when the capture may no longer be read, or row `i` was {@link passed}. */
  #check(i: number): void {
    if (this.c.stamp && !this.c.stamp.live) throw new Error('a window capture was read after its window captured again or it was released: captures are read one at a time');
    if (i < this.#passed) throw new Error(`a window capture's row ${i} was read after the rows before ${this.#passed} were passed`);
  }

  [Symbol.iterator](): Iterator<CapturedAddress> {
    return this.slice()[Symbol.iterator]();
  }
}
