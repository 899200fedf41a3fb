import { joined } from './failure-window-lines.js';
import { grownInto } from './grown.js';

/** Failures a row holds in the columns; with more, they move to a {@link Spill}. */
const INLINE = 2;

/** The failures of a row with more than {@link INLINE}: parallel arrays, oldest first. */
interface Spill {
  readonly times: number[];
  readonly sources: string[];
}

/**
 * Host names held once each (a fleet has at most a few thousand): past this many, or twice as many
 * as the rows used when the table was last made, the table is made again from the names the rows
 * hold, so names no row holds any more (a flood of made-up names) are let go.
 */
const HOST_NAMES_AT_FIRST = 65_536;

/**
 * The failures of a window's addresses, one row per slot: each row holds up to {@link INLINE}
 * failure times (a Float64Array) and their hosts (each a 32-bit place in a table of host names,
 * not a reference: 8 bytes less per row, none for the collector to walk); a row with more keeps
 * them in a {@link Spill}, as strings (one per host name, shared). Sorted oldest first. The window
 * owns which slot is whose.
 */
export class FailureRows {
  /** Failures held by each row. */
  #count = new Uint32Array(0);
  /** {@link INLINE} failure times per row, oldest first, when `#count` is at most INLINE. */
  #times = new Float64Array(0);
  /** The hosts of `#times` ({@link INLINE} per row): places in `#names`. */
  #hostOf = new Uint32Array(0);
  /** The failures of the rows holding more than {@link INLINE}. */
  readonly #spill = new Map<number, Spill>();
  /** Each host name's one string, and its place in `#names`. */
  #names: string[] = [];
  #places = new Map<string, number>();
  /** Names past which the table is made again; and how many times it was. */
  #remakeAt = HOST_NAMES_AT_FIRST;
  #made = 0;
  /** The name {@link #placeOf} gave last and its place (-1: none): a failure's host is looked up in `add` and again in `store`. */
  #lastName = '';
  #lastPlace = -1;
  /** The places of the hosts {@link store} writes (made before any is written). */
  readonly #storing = new Uint32Array(INLINE);

  /** Rows there is room for. */
  get rows(): number {
    return this.#count.length;
  }

  /** Makes room for `rows` rows, keeping those held. */
  grow(rows: number): void {
    this.#count = grownInto(this.#count, new Uint32Array(rows));
    this.#times = grownInto(this.#times, new Float64Array(rows * INLINE));
    this.#hostOf = grownInto(this.#hostOf, new Uint32Array(rows * INLINE));
  }

  /** Failures the row holds. */
  held(row: number): number {
    return this.#count[row] as number;
  }

  /**
   * Adds a failure to the row (sorted in by time), drops those older than `findtimeMs` before the
   * newest and the oldest beyond `maxTimes`, and returns the row's failures after it: new arrays,
   * the caller's.
   */
  add(row: number, time: number, host: string, findtimeMs: number, maxTimes: number): { times: number[]; sources: string[] } {
    const held = this.#count[row] as number;
    const spill = held > INLINE ? (this.#spill.get(row) as Spill) : undefined;
    // the failures held, with room for this one: the spill's own arrays, or new ones from the row
    const times = spill ? spill.times : this.#rowTimes(row, held, 1);
    const sources = spill ? spill.sources : this.#rowSources(row, held, 1);
    insertSorted(times, sources, held, time, this.intern(host));
    const newest = times[times.length - 1] as number;
    let cut = 0;
    while (cut < times.length && (times[cut] as number) <= newest - findtimeMs) cut++;
    if (times.length - cut > maxTimes) cut = times.length - maxTimes;
    if (cut > 0) {
      times.splice(0, cut);
      sources.splice(0, cut);
    }
    this.store(row, times, sources, spill);
    const kept = times.length > INLINE; // the arrays are the spill's now: the caller gets copies
    return { times: kept ? times.slice() : times, sources: kept ? sources.slice() : sources };
  }

  /**
   * Keeps `times` and `sources` (sorted, parallel, hosts interned) as the row's failures: in the
   * columns, or as its spill; `spill` is the row's spill when these are its own arrays.
   */
  store(row: number, times: number[], sources: string[], spill: Spill | undefined): void {
    const n = times.length;
    if (n > INLINE) {
      this.#count[row] = n;
      if (spill === undefined) this.#spill.set(row, { times, sources });
      return;
    }
    // the places first: making one may make the table again, which moves the places rows hold
    // (this row's as they were); then made again, none is (half the table is free after it)
    const made = this.#made;
    for (let k = 0; k < n; k++) this.#storing[k] = this.#placeOf(sources[k] as string);
    if (this.#made !== made) for (let k = 0; k < n; k++) this.#storing[k] = this.#placeOf(sources[k] as string);
    if (spill !== undefined) this.#spill.delete(row);
    this.#count[row] = n;
    for (let k = 0; k < n; k++) {
      this.#times[row * INLINE + k] = times[k] as number;
      this.#hostOf[row * INLINE + k] = this.#storing[k] as number;
    }
  }

  /** Empties the row. */
  clear(row: number): void {
    if ((this.#count[row] as number) > INLINE) this.#spill.delete(row);
    this.#count[row] = 0;
  }

  /** The row's failure times, in a new array. */
  timesOf(row: number): number[] {
    const n = this.#count[row] as number;
    return n > INLINE ? (this.#spill.get(row) as Spill).times.slice() : this.#rowTimes(row, n, 0);
  }

  /** The hosts of the row's failures, in a new array. */
  sourcesOf(row: number): string[] {
    const n = this.#count[row] as number;
    return n > INLINE ? (this.#spill.get(row) as Spill).sources.slice() : this.#rowSources(row, n, 0);
  }

  /**
   * Copies the row's failures to the end of `times` and `sources` from place `at` on (`times` has
   * room for them) and returns how many there are.
   */
  copyTo(row: number, times: Float64Array, sources: string[], at: number): number {
    const n = this.#count[row] as number;
    if (n > INLINE) {
      const spill = this.#spill.get(row) as Spill;
      for (let k = 0; k < n; k++) {
        times[at + k] = spill.times[k] as number;
        sources[at + k] = spill.sources[k] as string;
      }
    } else {
      for (let k = 0; k < n; k++) {
        times[at + k] = this.#times[row * INLINE + k] as number;
        sources[at + k] = this.#names[this.#hostOf[row * INLINE + k] as number] as string;
      }
    }
    return n;
  }

  /** The row's newest failure time, 0 when it holds none. */
  newest(row: number): number {
    const n = this.#count[row] as number;
    if (n === 0) return 0;
    if (n > INLINE) return (this.#spill.get(row) as Spill).times[n - 1] as number;
    return this.#times[row * INLINE + n - 1] as number;
  }

  /** The one string of host name `name` (so that failures share it). */
  intern(name: string): string {
    const place = this.#placeOf(name); // first: it may make the table (`#names`) again
    return this.#names[place] as string;
  }

  /** Host names in the table (for tests: it is bounded). */
  get hostNames(): number {
    return this.#names.length;
  }

  /** The place of host name `name` in the table, added when new. */
  #placeOf(name: string): number {
    if (name === this.#lastName && this.#lastPlace >= 0) return this.#lastPlace;
    const held = this.#places.get(name);
    if (held !== undefined) return this.#remember(name, held);
    if (this.#names.length >= this.#remakeAt) this.#remake();
    const one = joined(name);
    this.#places.set(one, this.#names.length);
    return this.#remember(one, this.#names.push(one) - 1);
  }

  #remember(name: string, place: number): number {
    this.#lastName = name;
    this.#lastPlace = place;
    return place;
  }

  /**
   * Makes the table again from the names the rows' columns hold, and moves their places to it.
   * Spilled rows hold their strings, not places. The next time is when it has twice as many.
   */
  #remake(): void {
    const names: string[] = [];
    const places = new Map<string, number>();
    const hostOf = this.#hostOf;
    for (let row = 0; row < this.#count.length; row++) {
      const n = this.#count[row] as number;
      if (n > INLINE) continue;
      for (let k = row * INLINE; k < row * INLINE + n; k++) {
        const name = this.#names[hostOf[k] as number] as string;
        let place = places.get(name);
        if (place === undefined) places.set(name, (place = names.push(name) - 1));
        hostOf[k] = place;
      }
    }
    this.#names = names;
    this.#places = places;
    this.#remakeAt = Math.max(HOST_NAMES_AT_FIRST, 2 * names.length);
    this.#lastPlace = -1;
    this.#made++;
  }

  /** The `n` failure times in the columns of the row, in a new array with `room` (0 or 1) more places. */
  #rowTimes(row: number, n: number, room: number): number[] {
    const at = row * INLINE;
    const t = this.#times;
    // literals hold doubles from the start: an array grown from [] or made by `new Array(n)` changes its store
    if (room === 1 && n <= 2) return n === 0 ? [0] : n === 1 ? [t[at] as number, 0] : [t[at] as number, t[at + 1] as number, 0];
    const out: number[] = [];
    for (let k = 0; k < n; k++) out.push(t[at + k] as number);
    if (room === 1) out.push(0);
    return out;
  }

  /** The `n` hosts in the columns of the row, in a new array with `room` more places. */
  #rowSources(row: number, n: number, room: number): string[] {
    const out = new Array<string>(n + room);
    for (let k = 0; k < n; k++) out[k] = this.#names[this.#hostOf[row * INLINE + k] as number] as string;
    return out;
  }
}


/** Puts `time` and `host` after the first `n` of the parallel `times` and `sources`, then sorts them in by time. */
function insertSorted(times: number[], sources: string[], n: number, time: number, host: string): void {
  let i = n;
  for (; i > 0 && (times[i - 1] as number) > time; i--) {
    times[i] = times[i - 1] as number;
    sources[i] = sources[i - 1] as string;
  }
  times[i] = time;
  sources[i] = host;
}
