import { AddressSlots } from './address-slots.js';
import { FailureRows } from './failure-rows.js';
import { type CapturedAddress, type CaptureStamp, copyRow, RowCopy, type RowVisit, WindowCapture } from './failure-window-capture.js';
import { withLine } from './failure-window-lines.js';
import { grownInto } from './grown.js';
import { KeptRows } from './kept-rows.js';
import { LineArena } from './line-arena.js';

/**
 * One address's failures inside a jail's window, as {@link FailureWindow.add} returns it: a view
 * built for that call (new arrays: later failures do not change it).
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

/**
 * Failures per address within findtime, for one jail: fail2ban's failmanager. Pure and synchronous;
 * windows use the events' own times. Memory is bounded by `maxTracked` addresses, each holding at
 * most `maxTimes` failure times; when full, the least recently failing address is dropped.
 *
 * Laid out for a spray of distinct addresses: each address has a slot ({@link AddressSlots}: an
 * IPv4 address is a number there, not a string), a row of {@link FailureRows} (its failure times
 * and their hosts, in typed columns while they are few), and its lines, a record of a
 * {@link LineArena} outside the heap.
 */
export class FailureWindow {
  /** Address → slot, least recently failing first. */
  readonly #slots: AddressSlots;
  /** Each slot's failures. */
  readonly #rows = new FailureRows();
  /** Each slot's matched lines: a handle of `#arena` (0: none). */
  #lines = new Int32Array(0);
  readonly #arena = new LineArena();
  /** Each slot's place in the live capture's order, and how many of its rows were passed (not read again). */
  #posOf = new Int32Array(0);
  #passed = 0;
  /** Handles given up while the live capture's kept rows hold them: freed once it ends. */
  #unfreed: number[] = [];
  #dropped = 0;
  #opts: WindowOptions;
  /** The latest capture's stamp, and the rows changed since it was made, as they were (while it is live). */
  #stamp: CaptureStamp = { live: false };
  readonly #before = new KeptRows(this.#arena);
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
    const { times, sources } = this.#rows.add(slot, timeMs, host, this.#opts.findtimeMs, this.maxTimes);
    const held = this.#lines[slot] as number;
    let matches = this.#arena.lines(held);
    if (this.#opts.maxmatches > 0 && held === 0) {
      // a new address's one line (a spray's every failure): written as it is
      matches = [line];
      this.#lines[slot] = this.#arena.putLine(line);
    } else if (this.#opts.maxmatches > 0) {
      matches = withLine(matches, line, this.#opts.maxmatches, this.maxMatchBytes);
      this.#lines[slot] = this.#arena.putLines(matches);
      this.#free(slot, held);
    }
    const view: Tracked = { times, sources, matches };
    this.#evictOverCap();
    return view;
  }

  /**
   * When more than maxTracked addresses are held, drops the least recently failing: one for each
   * new address once full. (Dropping a sixteenth at once, 6,250 addresses of a 100,000 cap, paused
   * deciding 3–4 ms under a spray, longer while a snapshot's capture was live.)
   */
  #evictOverCap(): void {
    while (this.#slots.size > this.#opts.maxTracked) {
      this.#clear(this.#slots.oldest());
      this.#dropped++;
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
    this.#freeUnfreed();
    const stamp: CaptureStamp = { live: true };
    this.#stamp = stamp;
    this.#before.begin(this.#slots.rows);
    const release = () => {
      if (!stamp.live) return;
      stamp.live = false;
      this.#before.end();
      this.#freeUnfreed();
    };
    const copy = (slot: number, into: RowCopy) => this.#copyRow(slot, into);
    if (this.#posOf.length < this.#slots.rows) this.#posOf = new Int32Array(this.#slots.rows);
    this.#passed = 0;
    const passed = (end: number) => void (stamp.live && (this.#passed = end));
    return new WindowCapture({ slots: this.#slots.order(this.#posOf), row: (slot, visit) => this.#readRow(slot, visit), copy, stamp, release, passed });
  }

  /** Copies the slot's row as the live capture saw it into `into`. */
  #copyRow(slot: number, into: RowCopy): void {
    if (this.#before.has(slot)) {
      this.#before.copy(slot, into);
      return;
    }
    const text = this.#slots.textAt(slot);
    into.text = text;
    into.v4 = text === undefined ? this.#slots.v4At(slot) : 0;
    into.room(this.#rows.held(slot));
    into.count = this.#rows.copyTo(slot, into.times, into.sources, 0);
    this.#arena.view(this.#lines[slot] as number, into);
  }

  /** Calls `visit` with the slot's row as the live capture saw it. */
  #readRow(slot: number, visit: RowVisit): void {
    if (this.#before.has(slot)) this.#before.read(slot, visit);
    else visit(this.#slots.keyOf(slot), this.#rows.timesOf(slot), this.#rows.sourcesOf(slot), this.#arena.lines(this.#lines[slot] as number));
  }

  /**
   * Keeps the held slot's row as it is, for the live capture, before the window changes it; not
   * when the capture's reader has passed it (a spray evicts the least recently failing first, the
   * rows a snapshot writes first: most are written before they change).
   */
  #keep(slot: number): void {
    if (!this.#stamp.live) return;
    if (slot < this.#posOf.length && (this.#posOf[slot] as number) < this.#passed) return;
    this.#before.keep(slot, this.#slots, this.#rows, this.#lines[slot] as number);
  }

  /**
   * Gives back the record of handle `h`, slot `slot`'s lines until now, once the live capture
   * cannot read it (it reads the lines the slot had when it was made, kept before any change).
   */
  #free(slot: number, h: number): void {
    if (h === 0) return;
    if (this.#stamp.live && this.#before.keepsLines(slot, h)) this.#unfreed.push(h);
    else this.#arena.free(h);
  }

  #freeUnfreed(): void {
    for (const h of this.#unfreed) this.#arena.free(h);
    this.#unfreed = [];
  }

  /**
   * Takes back what {@link capture} returned (after a restart), in its order, after what is held
   * already: each address's failures as they were, without re-deciding them. The cap holds:
   * the least recently failing are dropped first (counted as {@link dropped}). `sources` is read
   * parallel to `times`, newest last; a time without a host gets the host ''.
   */
  restore(captured: Iterable<CapturedAddress>): void {
    const row = new RowCopy();
    if (captured instanceof WindowCapture) captured.eachCopy(row, (r) => this.#restoreCopy(r));
    else for (const c of captured) this.#restoreCopy(copyRow(c.ip, c.times, c.sources, c.matches, row));
    this.#evictOverCap();
  }

  /**
   * Takes back one copied row's failures and kept lines (an IPv4 address by its value: no text is
   * made or parsed for it).
   */
  #restoreCopy(r: RowCopy): void {
    const n = Math.min(r.count, this.maxTimes);
    if (n === 0) return;
    const from = r.count - n;
    const held = r.text === undefined ? this.#slots.slotOfV4(r.v4) : this.#slots.slotOf(r.text);
    if (held >= 0) this.#clear(held);
    const slot = this.#placed(r.text === undefined ? this.#slots.takeV4(r.v4) : this.#slots.take(r.text));
    const times: number[] = [];
    const hosts: string[] = [];
    for (let k = from; k < r.count; k++) (times.push(r.times[k] as number), hosts.push(this.#rows.intern(r.sources[k] as string)));
    this.#rows.store(slot, times, hosts, undefined); // a cleared row: no spill
    this.#lines[slot] = r.lines === undefined ? 0 : this.#arena.put(r.lines, r.linesAt, r.linesLength);
  }

  /** Forgets an address (after a ban, or an unban). */
  reset(ip: string): void {
    const slot = this.#slots.slotOf(ip);
    if (slot >= 0) this.#clear(slot);
  }

  /** Empties the held slot `slot` and gives it back. */
  #clear(slot: number): void {
    this.#keep(slot);
    this.#rows.clear(slot);
    this.#free(slot, this.#lines[slot] as number);
    this.#lines[slot] = 0;
    this.#slots.remove(slot);
  }

  /** Drops addresses whose newest failure is older than findtime before `nowMs`. */
  prune(nowMs: number): void {
    for (let slot = this.#slots.oldest(); slot >= 0; ) {
      const next = this.#slots.newerThan(slot);
      if (this.#rows.newest(slot) <= nowMs - this.#opts.findtimeMs) this.#clear(slot);
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
    return this.#placed(this.#slots.take(ip));
  }

  /** The slot {@link AddressSlots.take} just gave: its row kept for a live capture, or made (see {@link #take}). */
  #placed(slot: number): number {
    if (!this.#slots.fresh) {
      this.#keep(slot);
      return slot;
    }
    const rows = this.#rows.rows;
    if (slot >= rows) {
      const capped = Math.min(Math.max(16, rows * 2), this.#opts.maxTracked + 1);
      const grown = capped > rows ? capped : rows * 2;
      this.#rows.grow(grown);
      this.#lines = grownInto(this.#lines, new Int32Array(grown));
    }
    this.#rows.clear(slot);
    return slot;
  }
}
