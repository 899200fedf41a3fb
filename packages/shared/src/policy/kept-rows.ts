import { v4Text } from '../ip/v4-number.js';
import type { AddressSlots } from './address-slots.js';
import { grownInto } from './grown.js';
import type { RowCopy, RowVisit } from './failure-window-capture.js';
import type { FailureRows } from './failure-rows.js';
import type { LineArena } from './line-arena.js';

/**
 * Kept rows whose columns are reused by the next capture; when a capture kept more, its columns are
 * let go once it ends. While a snapshot is written during an intake of 100,000 events/s nearly
 * every row changes: a window's columns grew to 131,072 rows (4.6 MB with their failure times and
 * hosts) and were held from then on for the few rows a capture keeps at a calmer rate.
 */
const ROWS_REUSED = 4096;

/** The columns' first sizes, in rows and in failures (made again at these when let go). */
const FIRST_ROWS = 64;
const FIRST_FAILURES = 256;

/**
 * The rows a window changed while a capture of it was live, as they were when it was made: what
 * the capture reads instead of the window's own. Kept in columns reused from one capture to the
 * next, not as an object per row.
 *
 * A spray of new addresses evicts old ones all the time, and a snapshot's capture stays live while
 * it is written (about a second for 100,000 addresses). An object per evicted row (its address
 * text, two arrays and a Map entry, about 200 bytes) outlived a young-generation collection or two
 * and died in the old generation: a sampling profile of such a spray found 40 MB of the 100 MB that
 * reached the old generation was these. Here a row costs a few entries of typed arrays, a
 * reference to its hosts and the handle of its lines, whose record the window does not free while
 * the capture is live.
 */
export class KeptRows {
  /** The capture now live (0: none); a slot is kept for it when its `#genOf` is this. */
  #gen = 0;
  #genOf = new Uint32Array(0);
  /** Each kept slot's place in the columns below. */
  #at = new Int32Array(0);
  /** Per kept row: its address's IPv4 value, or the place of its text in `#texts` + 1 (negated). */
  #key = new Float64Array(FIRST_ROWS);
  /** Per kept row: where its failures start in `#times` and `#sources`, and how many. */
  #start = new Int32Array(FIRST_ROWS);
  #count = new Int32Array(FIRST_ROWS);
  /** Per kept row: the handle of its lines in the window's {@link LineArena}. */
  #lines = new Int32Array(FIRST_ROWS);
  #texts: string[] = [];
  #times = new Float64Array(FIRST_FAILURES);
  /** Reused from one capture to the next, as `#times` is (hosts are a few shared names). */
  readonly #sources: string[] = [];
  #rows = 0;
  #failures = 0;

  constructor(private readonly arena: LineArena) {}

  /** Starts keeping for a new capture of a window with `slots` slots (those kept before are forgotten). */
  begin(slots: number): void {
    this.end();
    this.#gen = (this.#gen + 1) >>> 0 || 1;
    if (this.#genOf.length < slots) {
      this.#genOf = new Uint32Array(slots);
      this.#at = new Int32Array(slots);
    }
  }

  /** Forgets the rows kept (the capture was released): their lines are freed by the window. */
  end(): void {
    this.#gen = (this.#gen + 1) >>> 0 || 1;
    this.#rows = 0;
    this.#failures = 0;
    this.#texts = [];
    if (this.#key.length > ROWS_REUSED) {
      this.#key = new Float64Array(FIRST_ROWS);
      this.#start = new Int32Array(FIRST_ROWS);
      this.#count = new Int32Array(FIRST_ROWS);
      this.#lines = new Int32Array(FIRST_ROWS);
    }
    if (this.#times.length > 4 * ROWS_REUSED) {
      this.#times = new Float64Array(FIRST_FAILURES);
      this.#sources.length = 0;
    }
  }

  /** Whether slot `slot` was kept for the live capture. */
  has(slot: number): boolean {
    return slot < this.#genOf.length && this.#genOf[slot] === this.#gen;
  }

  /** Whether slot `slot` was kept for the live capture with the lines of handle `lines`. */
  keepsLines(slot: number, lines: number): boolean {
    return this.has(slot) && this.#lines[this.#at[slot] as number] === lines;
  }

  /**
   * Keeps slot `slot` of the live capture as it is now (`lines`: the handle of its lines), unless
   * it is kept already or the capture does not hold it (a slot made after it).
   */
  keep(slot: number, keys: AddressSlots, rows: FailureRows, lines: number): void {
    if (slot >= this.#genOf.length || this.#genOf[slot] === this.#gen) return;
    const i = this.#rows++;
    if (i === this.#key.length) this.#growRows();
    const n = rows.held(slot);
    if (this.#failures + n > this.#times.length) this.#growTimes(this.#failures + n);
    const text = keys.textAt(slot);
    this.#key[i] = text === undefined ? keys.v4At(slot) : -this.#texts.push(text);
    this.#start[i] = this.#failures;
    this.#count[i] = rows.copyTo(slot, this.#times, this.#sources, this.#failures);
    this.#failures += n;
    this.#lines[i] = lines;
    this.#genOf[slot] = this.#gen;
    this.#at[slot] = i;
  }

  /** Calls `visit` with the kept row of slot `slot` ({@link has} says there is one). */
  read(slot: number, visit: RowVisit): void {
    const i = this.#at[slot] as number;
    const key = this.#key[i] as number;
    const start = this.#start[i] as number;
    const n = this.#count[i] as number;
    const times: number[] = [];
    const sources = new Array<string>(n);
    for (let k = 0; k < n; k++) {
      times.push(this.#times[start + k] as number);
      sources[k] = this.#sources[start + k] as string;
    }
    visit(key >= 0 ? v4Text(key) : (this.#texts[-key - 1] as string), times, sources, this.arena.lines(this.#lines[i] as number));
  }

  /** Copies the kept row of slot `slot` ({@link has} says there is one) into `into`. */
  copy(slot: number, into: RowCopy): void {
    const i = this.#at[slot] as number;
    const key = this.#key[i] as number;
    const start = this.#start[i] as number;
    const n = this.#count[i] as number;
    into.text = key >= 0 ? undefined : (this.#texts[-key - 1] as string);
    into.v4 = key >= 0 ? key : 0;
    into.room(n);
    into.count = n;
    for (let k = 0; k < n; k++) {
      into.times[k] = this.#times[start + k] as number;
      into.sources[k] = this.#sources[start + k] as string;
    }
    this.arena.view(this.#lines[i] as number, into);
  }

  #growRows(): void {
    const n = this.#key.length * 2;
    this.#key = grownInto(this.#key, new Float64Array(n));
    this.#start = grownInto(this.#start, new Int32Array(n));
    this.#count = grownInto(this.#count, new Int32Array(n));
    this.#lines = grownInto(this.#lines, new Int32Array(n));
  }

  #growTimes(need: number): void {
    let n = this.#times.length * 2;
    while (n < need) n *= 2;
    this.#times = grownInto(this.#times, new Float64Array(n));
  }
}
