/**
 * The lines a failure window keeps per address (the evidence of a ban), held outside the
 * JavaScript heap: each address's lines as one record of bytes in pooled pages, named by a number.
 *
 * A record is what a version 4 snapshot holds for a row's lines, so a snapshot copies it as it is:
 * ```
 * u32 count m, then m × (u32 byte length + UTF-8), little-endian
 * ```
 * Held as strings, every tracked address's line was an object of the old generation (it outlives
 * a young collection or two), and a spray of new addresses evicts old ones all the time: the
 * collector copied each line between young spaces, promoted it, and walked every kept one in each
 * major collection. At 1,000,000 tracked addresses a process held 335 MB of RSS with the lines as
 * strings and 182 MB with them here, and spent a tenth of the time in young collections
 * (docs/design.md, "Kept lines outside the heap").
 *
 * Records are placed by size class (multiples of 8 bytes up to 256, of 128 up to 4 KiB, then powers
 * of two), each class in pages of 64 KiB. A record takes the first free place of the lowest page
 * with one, and a page whose last record is freed is given up: under a spray (the oldest address
 * evicted for each new one) the upper pages empty, and a class no longer used (lines of another
 * length) does not keep its pages. A stack of free places, reused last-in first-out, kept every
 * page of every class ever used about a third full: 2–4 times the bytes held.
 *
 * A page given up is kept as a spare for the next page any class needs, up to an eighth of the
 * pages in use; past that it is let go. Under a spray pages empty and are needed again all the time
 * (a window of 100,000 addresses emptied 125–160 of its 100 pages for every 250,000 new ones), and
 * each page let go was 64 KiB for the collector to find before malloc got it back: the process's
 * array buffers swung between 14 and 32 MB for 6.5 MB of pages, and its malloc heap, where blocks
 * of this size come from, grew to 36 MB and stayed.
 */

/** Bytes per page of a class (a record larger than this has a page of its own). */
const PAGE_BYTES = 64 * 1024;

/** Spare pages kept at least (more while more are in use: an eighth of them). */
const MIN_SPARES = 2;

/** No page (before the first place is taken). */
const EMPTY = Buffer.alloc(0);

/** Places per class a handle can name. */
const PLACES = 1 << 24;

/** The size class of a record of `bytes`. */
function classOf(bytes: number): number {
  if (bytes <= 256) return Math.max(1, Math.ceil(bytes / 8)) - 1; // 0–31
  if (bytes <= 4096) return 30 + Math.ceil(bytes / 128); // 33–62
  return 50 + Math.ceil(Math.log2(bytes)); // 63 (8 KiB) and up
}

/** The bytes of a place of class `c`. */
function sizeOf(c: number): number {
  if (c < 32) return (c + 1) * 8;
  if (c < 63) return (c - 30) * 128;
  return 2 ** (c - 50);
}

/** One size class: its pages, which of their places are used, and where a free one may be. */
interface SizeClass {
  readonly size: number;
  /** Places per page. */
  readonly perPage: number;
  /** Each page (undefined: given back), its places used (a bit each, 1 = used) and how many. */
  readonly pages: (Buffer | undefined)[];
  readonly used: (Uint32Array | undefined)[];
  live: Int32Array;
  /** No page below this one has a free place. */
  lowest: number;
}

/** Writes UTF-8 without the checks of `Buffer.write` (present in every node release, not in its typings). */
interface Utf8Writable {
  utf8Write(s: string, at: number): number;
}

/** Encodes `lines` as a record into `scratch` (grown when short); returns the record (a view of it) and the scratch. */
export function encodeLines(lines: readonly string[], scratch: Buffer = Buffer.allocUnsafe(256)): { record: Buffer; scratch: Buffer } {
  let room = 4;
  for (const l of lines) room += 4 + l.length * 3;
  if (scratch.length < room) scratch = Buffer.allocUnsafe(Math.max(room, scratch.length * 2));
  scratch.writeUInt32LE(lines.length, 0);
  let at = 4;
  for (const l of lines) {
    const n = (scratch as Buffer & Utf8Writable).utf8Write(l, at + 4);
    scratch.writeUInt32LE(n, at);
    at += 4 + n;
  }
  return { record: scratch.subarray(0, at), scratch };
}

/** The lines of `record` (a well-formed record: see {@link recordLength}), in a new array. */
export function decodeLines(record: Buffer): string[] {
  return decodeAt(record, 0);
}

/** The lines of the well-formed record at `at` in `b`, in a new array. */
function decodeAt(b: Buffer, at: number): string[] {
  const m = b.readUInt32LE(at);
  const out = new Array<string>(m);
  let p = at + 4;
  for (let k = 0; k < m; k++) {
    const n = b.readUInt32LE(p);
    out[k] = b.toString('utf8', p + 4, p + 4 + n);
    p += 4 + n;
  }
  return out;
}

/**
 * The length of the record at `at` in `b`, or -1 when it does not fit before `end` (its count or a
 * line's length runs past it).
 */
export function recordLength(b: Buffer, at: number, end = b.length): number {
  if (end - at < 4) return -1;
  const m = b.readUInt32LE(at);
  let p = at + 4;
  for (let k = 0; k < m; k++) {
    if (end - p < 4) return -1;
    const n = b.readUInt32LE(p);
    if (end - p - 4 < n) return -1;
    p += 4 + n;
  }
  return p - at;
}

/** Where a record lies: `length` bytes of `lines` from `linesAt` (`lines` undefined: no record). */
export interface RecordView {
  lines: Buffer | undefined;
  linesAt: number;
  linesLength: number;
}

/** Records of kept lines, each named by a handle (0: no lines); see the module's comment. */
export class LineArena {
  readonly #classes: SizeClass[] = [];
  /** What {@link putLines} encodes into. */
  #scratch: Buffer = Buffer.allocUnsafe(256);
  #held = 0;
  /** Pages of {@link PAGE_BYTES} given up, for the next page any class needs; and pages in use. */
  readonly #spares: Buffer[] = [];
  #pagesInUse = 0;
  #pagesMade = 0;
  /** The page and offset {@link #place} or {@link #find} last gave. */
  #page: Buffer = EMPTY;
  #at = 0;

  /** Records held. */
  get size(): number {
    return this.#held;
  }

  /** Stores `lines` as a record; returns its handle (0 for no lines). */
  putLines(lines: readonly string[]): number {
    if (lines.length === 0) return 0;
    const { record, scratch } = encodeLines(lines, this.#scratch);
    this.#scratch = scratch;
    return this.put(record);
  }

  /**
   * Stores a copy of the record of `length` bytes at `at` in `bytes` (well-formed; default all of
   * `bytes`); returns its handle (0 when it holds no line).
   */
  put(bytes: Buffer, at = 0, length = bytes.length - at): number {
    if (length < 4 || (bytes[at] === 0 && bytes[at + 1] === 0 && bytes[at + 2] === 0 && bytes[at + 3] === 0)) return 0;
    const h = this.#place(length);
    bytes.copy(this.#page, this.#at, at, at + length);
    return h;
  }

  /** Stores the one line `line` as a record (no array, no copy through a scratch buffer); returns its handle. */
  putLine(line: string): number {
    const n = Buffer.byteLength(line, 'utf8');
    const h = this.#place(8 + n);
    const page = this.#page as Buffer & Utf8Writable;
    const at = this.#at;
    page.writeUInt32LE(1, at);
    page.writeUInt32LE(n, at + 4);
    page.utf8Write(line, at + 8);
    return h;
  }

  /** Takes a place for a record of `bytes` (the first free one of the lowest page with one), sets `#page` and `#at` to it; returns its handle. */
  #place(bytes: number): number {
    const c = classOf(bytes);
    const k = (this.#classes[c] ??= newClass(sizeOf(c)));
    let p = k.lowest;
    while (p < k.pages.length && k.pages[p] !== undefined && (k.live[p] as number) === k.perPage) p++;
    if ((p + 1) * k.perPage > PLACES) throw new RangeError(`kept lines: more than ${PLACES} records of ${k.size} bytes`);
    if (p === k.pages.length || k.pages[p] === undefined) newPage(k, p, this.#newPageOf(k.size));
    k.lowest = p;
    const i = takeFree(k.used[p] as Uint32Array);
    k.live[p] = (k.live[p] as number) + 1;
    this.#page = k.pages[p] as Buffer;
    this.#at = i * k.size;
    this.#held++;
    return c * PLACES + p * k.perPage + i + 1;
  }

  /** The record of handle `h` (not 0): a view, valid until it is {@link free}d. */
  record(h: number): Buffer {
    const n = this.#find(h);
    return this.#page.subarray(this.#at, this.#at + n);
  }

  /** Says in `into` where the record of handle `h` lies (valid until it is {@link free}d), without a new object. */
  view(h: number, into: RecordView): void {
    if (h === 0) {
      into.lines = undefined;
      into.linesLength = 0;
      return;
    }
    into.linesLength = this.#find(h);
    into.lines = this.#page;
    into.linesAt = this.#at;
  }

  /** The lines of handle `h`, in a new array ([] for 0). */
  lines(h: number): string[] {
    if (h === 0) return [];
    this.#find(h);
    return decodeAt(this.#page, this.#at);
  }

  /** Sets `#page` and `#at` to where the record of handle `h` (not 0) lies; returns its length. */
  #find(h: number): number {
    const k = this.#classes[Math.floor((h - 1) / PLACES)] as SizeClass;
    const place = (h - 1) % PLACES;
    const page = k.pages[Math.floor(place / k.perPage)];
    if (page === undefined) throw new RangeError(`kept lines: no record ${h}`);
    this.#page = page;
    this.#at = (place % k.perPage) * k.size;
    return recordLength(page, this.#at, this.#at + k.size);
  }

  /** Gives back the place of handle `h` (0: nothing), and its page when that was its last record. */
  free(h: number): void {
    if (h === 0) return;
    const k = this.#classes[Math.floor((h - 1) / PLACES)] as SizeClass;
    const place = (h - 1) % PLACES;
    const p = Math.floor(place / k.perPage);
    const i = place % k.perPage;
    const used = k.used[p];
    if (used === undefined || ((used[i >>> 5] as number) & (1 << (i & 31))) === 0) throw new RangeError(`kept lines: record ${h} freed twice`);
    used[i >>> 5] = (used[i >>> 5] as number) & ~(1 << (i & 31));
    this.#held--;
    if (p < k.lowest) k.lowest = p;
    k.live[p] = (k.live[p] as number) - 1;
    if (k.live[p] !== 0) return;
    const page = k.pages[p] as Buffer;
    k.pages[p] = undefined;
    k.used[p] = undefined;
    this.#pagesInUse--;
    const spares = Math.max(MIN_SPARES, this.#pagesInUse >> 3);
    if (page.length === PAGE_BYTES && this.#spares.length < spares) this.#spares.push(page);
    while (this.#spares.length > spares) this.#spares.pop();
    while (k.pages.length > 0 && k.pages[k.pages.length - 1] === undefined) (k.pages.pop(), k.used.pop());
  }

  /** Bytes of the pages in use (for tests and measurements; spares not counted). */
  get pageBytes(): number {
    let n = 0;
    for (const k of this.#classes) if (k) for (const page of k.pages) n += page?.length ?? 0;
    return n;
  }

  /** Bytes of the spare pages (for tests and measurements). */
  get spareBytes(): number {
    return this.#spares.length * PAGE_BYTES;
  }

  /** Pages allocated so far, spares reused not counted (for tests and measurements). */
  get pagesMade(): number {
    return this.#pagesMade;
  }

  /** A page for a record of `size` bytes: a spare when it fits one, else a new one. */
  #newPageOf(size: number): Buffer {
    this.#pagesInUse++;
    if (size <= PAGE_BYTES) {
      const spare = this.#spares.pop();
      if (spare) return spare;
    }
    this.#pagesMade++;
    return Buffer.allocUnsafeSlow(Math.max(size, PAGE_BYTES));
  }
}

function newClass(size: number): SizeClass {
  return { size, perPage: Math.max(1, Math.floor(PAGE_BYTES / size)), pages: [], used: [], live: new Int32Array(16), lowest: 0 };
}

/** Makes `page` page `p` of `k` (a new one at the end, or one given up before). */
function newPage(k: SizeClass, p: number, page: Buffer): void {
  k.pages[p] = page;
  const used = new Uint32Array(Math.ceil(k.perPage / 32));
  // the places past the last of the page are marked used: never given
  if (k.perPage % 32 !== 0) used[used.length - 1] = ~((1 << (k.perPage % 32)) - 1);
  k.used[p] = used;
  if (p >= k.live.length) {
    const grown = new Int32Array(k.live.length * 2);
    grown.set(k.live);
    k.live = grown;
  }
  k.live[p] = 0;
}

/** Marks the first free place of a page's bitmap used and returns it (the page has one). */
function takeFree(used: Uint32Array): number {
  for (let w = 0; w < used.length; w++) {
    const bits = used[w] as number;
    if (bits === 0xffffffff) continue;
    const lowest = ~bits & (bits + 1); // the lowest bit not set
    used[w] = bits | lowest;
    return w * 32 + 31 - Math.clz32(lowest);
  }
  throw new Error('kept lines: a page counted as not full has no free place');
}
