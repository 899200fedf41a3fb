/**
 * A window's addresses as a snapshot decodes them (any version), in typed columns, until the new
 * window takes them back: an IPv4 address stays its 32-bit value from the snapshot to the window's
 * slots (version 4 holds it so), and a row is copied into the window without an object per
 * address ({@link WindowCapture.eachCopy}).
 */
import { LineArena, RowCopy, type RowVisit, v4Text, WindowCapture } from '@fleetban/shared';

/** Failure times per address kept in a decoded window's row (more: in a spill of their own). */
const INLINE = 2;

/** Window addresses decoded a slice at a time; {@link capture} makes them a {@link WindowCapture}. */
export class WindowRows {
  #rows = 0;
  /** Per row: its address's IPv4 value, or -(the place of its text in `#texts` + 1). */
  #key = new Float64Array(1024);
  /** Per row: failures held. */
  #count = new Uint32Array(1024);
  /** {@link INLINE} times and hosts per row (when its count is at most INLINE). */
  #times = new Float64Array(1024 * INLINE);
  readonly #sources: string[] = [];
  readonly #texts: string[] = [];
  readonly #spill = new Map<number, { times: number[]; sources: string[] }>();
  /** Per row: the handle of its lines in `#arena` (0: none). */
  readonly #lines: number[] = [];
  readonly #arena = new LineArena();
  /** What {@link #row} copies a row into before making its arrays. */
  readonly #scratch = new RowCopy();

  /**
   * Appends an address, its IPv4 value `v4` or (when `text` is given) its text: its `held`
   * failures are `times` and `sources` from `at` on (copied: they may be reused), its lines the
   * record `lines` (line-arena.ts; copied).
   */
  push(v4: number, text: string | undefined, held: number, times: ArrayLike<number>, sources: ArrayLike<string>, at: number, lines: Buffer | undefined): void {
    this.#push(v4, text, held, times, sources, at, lines === undefined ? 0 : this.#arena.put(lines));
  }

  /** {@link push} with the lines as text (snapshot versions 2 and 3). */
  pushLines(v4: number, text: string | undefined, held: number, times: ArrayLike<number>, sources: ArrayLike<string>, at: number, lines: readonly string[]): void {
    this.#push(v4, text, held, times, sources, at, this.#arena.putLines(lines));
  }

  /** {@link push} with the handle of the row's lines in `#arena`. */
  #push(v4: number, text: string | undefined, held: number, times: ArrayLike<number>, sources: ArrayLike<string>, at: number, lines: number): void {
    const row = this.#rows++;
    if (row === this.#count.length) this.#grow();
    this.#key[row] = text === undefined ? v4 : -this.#texts.push(text);
    this.#count[row] = held;
    if (held > INLINE) {
      const spill = { times: [] as number[], sources: [] as string[] };
      for (let k = 0; k < held; k++) (spill.times.push(times[at + k] as number), spill.sources.push(sources[at + k] as string));
      this.#spill.set(row, spill);
    }
    for (let k = 0; k < INLINE; k++) {
      const inline = k < held && held <= INLINE;
      this.#times[row * INLINE + k] = inline ? (times[at + k] as number) : 0;
      this.#sources.push(inline ? (sources[at + k] as string) : '');
    }
    this.#lines.push(lines);
  }

  /** The addresses decoded, in their order. */
  capture(): WindowCapture {
    const slots = new Int32Array(this.#rows);
    for (let i = 0; i < slots.length; i++) slots[i] = i;
    return new WindowCapture({ slots, row: (slot, visit) => this.#row(slot, visit), copy: (slot, into) => this.#copy(slot, into) });
  }

  #grow(): void {
    const n = this.#count.length * 2;
    const key = new Float64Array(n);
    key.set(this.#key);
    this.#key = key;
    const count = new Uint32Array(n);
    count.set(this.#count);
    this.#count = count;
    const times = new Float64Array(n * INLINE);
    times.set(this.#times);
    this.#times = times;
  }

  /** Calls `visit` with the decoded row `slot`: its failures in new arrays (read through {@link #copy}). */
  #row(slot: number, visit: RowVisit): void {
    const r = this.#scratch;
    this.#copy(slot, r);
    visit(r.text ?? v4Text(r.v4), Array.from(r.times.subarray(0, r.count)), r.sources.slice(0, r.count), this.#arena.lines(this.#lines[slot] as number));
  }

  /** Copies the decoded row `slot` into `into`. */
  #copy(slot: number, into: RowCopy): void {
    const key = this.#key[slot] as number;
    into.text = key >= 0 ? undefined : (this.#texts[-key - 1] as string);
    into.v4 = key >= 0 ? key : 0;
    const held = this.#count[slot] as number;
    into.room(held);
    into.count = held;
    this.#arena.view(this.#lines[slot] as number, into);
    const spill = held > INLINE ? this.#spill.get(slot) : undefined;
    for (let k = 0; k < held; k++) {
      into.times[k] = spill ? (spill.times[k] as number) : (this.#times[slot * INLINE + k] as number);
      into.sources[k] = spill ? (spill.sources[k] as string) : (this.#sources[slot * INLINE + k] as string);
    }
  }
}
