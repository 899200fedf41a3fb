import { AddressSlots } from './address-slots.js';
import { type CapturedAddress, type CaptureStamp, type RowVisit, WindowCapture } from './failure-window-capture.js';
import { joined, keptLines, linesOf, withLine, type KeptLines } from './failure-window-lines.js';

/**
 * One address's failures inside a jail's window, as {@link FailureWindow.add} returns it: a view
 * built for that call, to read right away (later failures do not change it) and not to change
 * (its `matches` may be the window's own list).
 */
export interface Tracked {
  /** Failure times (ms), oldest first, only those inside findtime of the newest. */
  readonly times: number[];
  /** The host that reported each failure, parallel to `times`. */
  readonly sources: string[];
  /**
   * The newest matched lines, at most maxmatches and at most {@link MAX_MATCH_BYTES} bytes of
   * UTF-8 (oldest dropped first; kept across the window, as fail2ban does).
   */
  readonly matches: string[];
}

/**
 * Matched lines kept per address in bytes (UTF-8, all lines together), on top of maxmatches, so a
 * ban's value in the KV bucket stays small whatever maxmatches says. The newest line is always
 * kept (a log line is at most `WIRE_LIMITS.lineChars` characters).
 */
export const MAX_MATCH_BYTES = 16 * 1024;

export type { CapturedAddress } from './failure-window-capture.js';

/** The distinct hosts whose failures are inside the window, sorted. */
export function hostsOf(t: Tracked): string[] {
  return [...new Set(t.sources)].sort();
}

/** Options of {@link FailureWindow}. */
export interface WindowOptions {
  readonly findtimeMs: number;
  readonly maxmatches: number;
  /** Addresses tracked at most; the least recently failing is dropped first. */
  readonly maxTracked: number;
}

/** Failures an address keeps in its slot's row; with more, they move to a {@link Spill}. */
const INLINE = 2;

/** The failures of an address with more than {@link INLINE}: parallel arrays, oldest first. */
interface Spill {
  readonly times: number[];
  readonly sources: string[];
}

/** A row as it was when a capture was made, kept because the window changed it since. */
interface KeptRow {
  readonly ip: string;
  readonly times: readonly number[];
  readonly sources: readonly string[];
  readonly kept: KeptLines;
}

/** Host names held once each (a fleet has at most a few thousand); more, and the table starts over. */
const MAX_HOST_NAMES = 65_536;

/**
 * Failures per address within findtime, for one jail: fail2ban's failmanager. Pure and synchronous;
 * windows use the events' own times. Memory is bounded by `maxTracked` addresses, each holding at
 * most `maxTimes` failure times; when full, the least recently failing sixteenth is dropped.
 *
 * Laid out for a spray of distinct addresses (about 130 bytes each with one failure and one line,
 * the line included): each address has a slot ({@link AddressSlots}: an IPv4 address is a number
 * there, not a string), a row across columns that holds up to {@link INLINE} failure times (a
 * Float64Array) and their hosts (one string per host name, shared); an address with more keeps
 * them in a {@link Spill}. Its lines are one string for one line, an array for more.
 */
export class FailureWindow {
  /** Address → slot, least recently failing first. */
  readonly #slots: AddressSlots;
  /** Failures held by each slot. */
  #count = new Uint32Array(0);
  /** {@link INLINE} failure times per slot, oldest first, when `#count` is at most INLINE. */
  #times = new Float64Array(0);
  /** The hosts of `#times` ({@link INLINE} per slot). */
  #sources: string[] = [];
  /** The failures of the slots holding more than {@link INLINE}. */
  readonly #spill = new Map<number, Spill>();
  /** Each slot's matched lines. */
  #matches: KeptLines[] = [];
  /** Each host name's one string. */
  #hosts = new Map<string, string>();
  #dropped = 0;
  #opts: WindowOptions;
  /** The latest capture's stamp, and the rows changed since it was made, as they were (while it is live). */
  #stamp: CaptureStamp = { live: false };
  #before: Map<number, KeptRow> | undefined;
  constructor(
    opts: WindowOptions,
    private readonly maxTimes = 1000,
    private readonly maxMatchBytes = MAX_MATCH_BYTES,
  ) {
    this.#opts = opts;
    this.#slots = new AddressSlots(opts.maxTracked + 1);
  }

  /**
   * Takes a jail's new findtime and maxmatches (`fleetban set`, a reload) keeping every address's
   * failures: a shorter findtime drops older failures at the next add or prune, a longer one lets
   * those still held count longer; fewer maxmatches trims the evidence at the next add.
   */
  retune(o: Pick<WindowOptions, 'findtimeMs' | 'maxmatches'>): void {
    this.#opts = { ...this.#opts, findtimeMs: o.findtimeMs, maxmatches: o.maxmatches };
  }

  /** Adds a failure and returns the address's failures inside the window, including this one (a new view). */
  add(ip: string, timeMs: number, host: string, line: string): Tracked {
    const slot = this.#take(ip);
    const held = this.#count[slot] as number;
    const spill = held > INLINE ? (this.#spill.get(slot) as Spill) : undefined;
    // the failures held, with room for this one: the spill's own arrays, or new ones from the row
    const times = spill ? spill.times : this.#rowTimes(slot, held, 1);
    const sources = spill ? spill.sources : this.#rowSources(slot, held, 1);
    insertSorted(times, sources, held, timeMs, this.#intern(host));
    const newest = times[times.length - 1] as number;
    let cut = 0;
    while (cut < times.length && (times[cut] as number) <= newest - this.#opts.findtimeMs) cut++;
    if (times.length - cut > this.maxTimes) cut = times.length - this.maxTimes;
    if (cut > 0) {
      times.splice(0, cut);
      sources.splice(0, cut);
    }
    this.#store(slot, times, sources, spill);
    let matches: string[];
    if (this.#opts.maxmatches > 0) {
      matches = withLine(this.#matches[slot], line, this.#opts.maxmatches, this.maxMatchBytes);
      this.#matches[slot] = keptLines(matches);
    } else matches = linesOf(this.#matches[slot]);
    const kept = times.length > INLINE; // the arrays are the spill's now: the view gets copies
    const view: Tracked = { times: kept ? times.slice() : times, sources: kept ? sources.slice() : sources, matches };
    this.#evictOverCap();
    return view;
  }

  /** When more than maxTracked addresses are held, drops the least recently failing sixteenth. */
  #evictOverCap(): void {
    if (this.#slots.size > this.#opts.maxTracked) {
      const keep = this.#opts.maxTracked - Math.floor(this.#opts.maxTracked / 16);
      while (this.#slots.size > keep) {
        this.#clear(this.#slots.oldest());
        this.#dropped++;
      }
    }
  }

  /**
   * Every address's window as it is now, least recently failing first (the eviction order), as
   * later failures do not change it, readable until the next capture or its release. A controller's
   * snapshot is made of these.
   *
   * Only the order is copied at once. A row is read from the window's columns when asked for,
   * unless the window changed it since: before changing a row while a capture is live, the window
   * keeps it as it was ({@link keep}). Copying every column into new arrays took 20–30 ms for
   * 100,000 addresses, nearly all of it the kernel handing out fresh pages, and deciding waited.
   */
  capture(): WindowCapture {
    this.#stamp.live = false;
    const stamp: CaptureStamp = { live: true };
    this.#stamp = stamp;
    this.#before = new Map();
    const release = () => {
      if (!stamp.live) return;
      stamp.live = false;
      this.#before = undefined;
    };
    return new WindowCapture({ slots: this.#slots.order(), row: (slot, visit) => this.#readRow(slot, visit), stamp, release });
  }

  /** Calls `visit` with the slot's row as the live capture saw it. */
  #readRow(slot: number, visit: RowVisit): void {
    const was = this.#before?.get(slot);
    if (was) visit(was.ip, was.times.slice(), was.sources.slice(), was.kept);
    else visit(this.#slots.keyOf(slot), this.#timesOf(slot), this.#sourcesOf(slot), this.#matches[slot]);
  }

  /** Keeps the held slot's row as it is, for the live capture, before the window changes it. */
  #keep(slot: number): void {
    const before = this.#before;
    if (before === undefined || before.has(slot)) return;
    if (!this.#stamp.live) {
      this.#before = undefined;
      return;
    }
    before.set(slot, { ip: this.#slots.keyOf(slot), times: this.#timesOf(slot), sources: this.#sourcesOf(slot), kept: this.#matches[slot] });
  }

  /** The slot's failure times, in a new array. */
  #timesOf(slot: number): number[] {
    const n = this.#count[slot] as number;
    return n > INLINE ? (this.#spill.get(slot) as Spill).times.slice() : this.#rowTimes(slot, n, 0);
  }

  /** The hosts of the slot's failures, in a new array. */
  #sourcesOf(slot: number): string[] {
    const n = this.#count[slot] as number;
    return n > INLINE ? (this.#spill.get(slot) as Spill).sources.slice() : this.#rowSources(slot, n, 0);
  }

  /**
   * Takes back what {@link capture} returned (after a restart), in its order, after what is held
   * already: each address's failures as they were, without re-deciding them. The cap holds:
   * the least recently failing are dropped first (counted as {@link dropped}). `sources` is read
   * parallel to `times`, newest last; a time without a host gets the host ''.
   */
  restore(captured: Iterable<CapturedAddress>): void {
    if (captured instanceof WindowCapture) captured.each((ip, times, sources, kept) => this.#restoreOne(ip, times, sources, kept));
    else for (const c of captured) this.#restoreOne(c.ip, c.times.slice(), c.sources, keptLines(c.matches.map(joined)));
    this.#evictOverCap();
  }

  /** Takes back one address's failures (`times` becomes the window's own) and kept lines. */
  #restoreOne(ip: string, times: number[], sources: readonly string[], kept: KeptLines): void {
    if (times.length > this.maxTimes) times = times.slice(-this.maxTimes);
    if (times.length === 0) return;
    this.reset(ip);
    const slot = this.#take(ip);
    const missing = times.length - sources.length;
    const hosts = new Array<string>(times.length);
    for (let i = 0; i < times.length; i++) hosts[i] = this.#intern(sources[i - missing] ?? '');
    this.#store(slot, times, hosts, undefined);
    this.#matches[slot] = kept;
  }

  /** Forgets an address (after a ban, or an unban). */
  reset(ip: string): void {
    const slot = this.#slots.slotOf(ip);
    if (slot >= 0) this.#clear(slot);
  }

  /** Empties the held slot `slot` and gives it back. */
  #clear(slot: number): void {
    this.#keep(slot);
    if ((this.#count[slot] as number) > INLINE) this.#spill.delete(slot);
    this.#count[slot] = 0;
    this.#matches[slot] = undefined;
    this.#slots.remove(slot);
  }

  /** Drops addresses whose newest failure is older than findtime before `nowMs`. */
  prune(nowMs: number): void {
    for (let slot = this.#slots.oldest(); slot >= 0; ) {
      const next = this.#slots.newerThan(slot);
      if (this.#newest(slot) <= nowMs - this.#opts.findtimeMs) this.#clear(slot);
      slot = next;
    }
  }

  /** Addresses currently tracked (fail2ban's "currently failed"). */
  get size(): number {
    return this.#slots.size;
  }

  /** Addresses dropped because the table was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * The slot of `ip`, made the newest (the eviction order); a new slot gets an empty row, the
   * columns growing to maxTracked + 1 rows at first (the cap), then doubling.
   */
  #take(ip: string): number {
    const slot = this.#slots.take(ip);
    if (!this.#slots.fresh) {
      this.#keep(slot);
      return slot;
    }
    const rows = this.#count.length;
    if (slot >= rows) {
      const capped = Math.min(Math.max(16, rows * 2), this.#opts.maxTracked + 1);
      this.#grow(capped > rows ? capped : rows * 2);
    }
    this.#count[slot] = 0;
    return slot;
  }

  #grow(rows: number): void {
    const count = new Uint32Array(rows);
    count.set(this.#count);
    this.#count = count;
    const times = new Float64Array(rows * INLINE);
    times.set(this.#times);
    this.#times = times;
    // made at their size (pushed one by one, an array's room grows by half again: 2 MB for 200,000)
    this.#sources = grownList(this.#sources, rows * INLINE, '');
    this.#matches = grownList<KeptLines>(this.#matches, rows, undefined);
  }

  /** Keeps `times` and `sources` (sorted, parallel) as the slot's failures: in its row, or as its spill. */
  #store(slot: number, times: number[], sources: string[], spill: Spill | undefined): void {
    const n = times.length;
    this.#count[slot] = n;
    if (n > INLINE) {
      if (spill === undefined) this.#spill.set(slot, { times, sources });
      return;
    }
    if (spill !== undefined) this.#spill.delete(slot);
    for (let k = 0; k < n; k++) {
      this.#times[slot * INLINE + k] = times[k] as number;
      this.#sources[slot * INLINE + k] = sources[k] as string;
    }
  }

  /** The `n` failure times in the slot's row, in a new array with `room` (0 or 1) more places. */
  #rowTimes(slot: number, n: number, room: number): number[] {
    const at = slot * INLINE;
    const t = this.#times;
    // literals hold doubles from the start: an array grown from [] or made by `new Array(n)` changes its store
    if (room === 1 && n <= 2) return n === 0 ? [0] : n === 1 ? [t[at] as number, 0] : [t[at] as number, t[at + 1] as number, 0];
    const out: number[] = [];
    for (let k = 0; k < n; k++) out.push(t[at + k] as number);
    if (room === 1) out.push(0);
    return out;
  }

  /** The `n` hosts in the slot's row, in a new array with `room` more places. */
  #rowSources(slot: number, n: number, room: number): string[] {
    const out = new Array<string>(n + room);
    for (let k = 0; k < n; k++) out[k] = this.#sources[slot * INLINE + k] as string;
    return out;
  }

  /** The one string of host name `name` (so that failures share it). */
  #intern(name: string): string {
    const held = this.#hosts.get(name);
    if (held !== undefined) return held;
    if (this.#hosts.size >= MAX_HOST_NAMES) this.#hosts = new Map(); // what is held keeps its strings
    const one = joined(name);
    this.#hosts.set(one, one);
    return one;
  }

  /** The slot's newest failure time, 0 when it holds none. */
  #newest(slot: number): number {
    const n = this.#count[slot] as number;
    if (n === 0) return 0;
    if (n > INLINE) return (this.#spill.get(slot) as Spill).times[n - 1] as number;
    return this.#times[slot * INLINE + n - 1] as number;
  }
}

/** `from`'s items in a new array of `n`, the rest `fill`. */
function grownList<T>(from: readonly T[], n: number, fill: T): T[] {
  // a loop, not Array.from with a function (which took about 0.3 s to grow two windows to 100,000)
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = i < from.length ? (from[i] as T) : fill;
  return out;
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
