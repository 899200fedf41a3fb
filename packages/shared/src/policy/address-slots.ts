import { randomInt } from 'node:crypto';
import { fmix32, fnv1a } from '../hash.js';
import { v4Of, v4Text } from '../ip/v4-number.js';
import { grownInto, grownList } from './grown.js';

/** Marks "no slot" in the order's links and in lookups. */
const NONE = -1;

/**
 * Addresses → slots (the row numbers of a {@link FailureWindow}'s columns), in the order they
 * last failed: the window's key table, outside the JS heap.
 *
 * A `Map<string, number>` did this before, at about 105 bytes of heap per address (its entry, and
 * the address string it kept alive). Used as an LRU (each failure deletes and sets again), the Map
 * also held its deleted entries until it rehashed: at 100,000 addresses its table had room for
 * 524,288 (7.3 MB). Here a canonical dotted IPv4 address is its 32-bit value, the order is a
 * doubly linked list of slots, and the lookup an open-addressing table (linear probing, at most
 * half full): 24 bytes per address in typed arrays the collector does not walk. Any other key (an
 * IPv6 address, any text) is kept as its string; keys are compared as strings are, so `1.2.3.4`
 * and `::ffff:1.2.3.4` are two keys, as they were in the Map.
 *
 * Hashes are seeded per table (random), so no one can choose addresses that all land on one place.
 */
export class AddressSlots {
  /** Each slot's IPv4 value (when its `#text` is undefined). */
  #v4 = new Uint32Array(0);
  /**
   * Each slot's key when it is not canonical dotted IPv4; undefined for IPv4 (and free slots). Hashing
   * reads every character, which joins a string protobufjs decoded in pieces before it is kept.
   * Made with the first such key (a fleet attacked over IPv4 only never needs it).
   */
  #text: Array<string | undefined> | undefined;
  /** The order, least recently failing first: each slot's older and newer neighbour, or NONE. */
  #older = new Int32Array(0);
  #newer = new Int32Array(0);
  #oldest = NONE;
  #newest = NONE;
  /** Slot + 1 of each key at its hashed place or after it; 0 = empty. */
  #table = new Int32Array(16);
  readonly #free: number[] = [];
  #rows = 0;
  #size = 0;
  #fresh = false;
  /** What {@link order} copies into, kept from one call to the next (fresh pages cost). */
  #orderCopy = new Int32Array(0);
  readonly #seed = randomInt(2 ** 32) >>> 0;

  /** @param rowsFirst rows to grow to at first (the window's cap), then doubling. */
  constructor(private readonly rowsFirst = 16) {}

  /** Keys held. */
  get size(): number {
    return this.#size;
  }

  /** Slots handed out so far, held or free: every slot is below this. */
  get rows(): number {
    return this.#rows;
  }

  /** Whether the last {@link take} made a new slot. */
  get fresh(): boolean {
    return this.#fresh;
  }

  /** The slot of `key`, or -1. */
  slotOf(key: string): number {
    return this.#slotOf(v4Of(key), key);
  }

  /** The slot of the IPv4 address of value `v` (as {@link slotOf} its dotted text), or -1. */
  slotOfV4(v: number): number {
    return this.#slotOf(v, '');
  }

  /** The slot of the key whose IPv4 value is `v`, or whose text is `key` when `v` is -1. */
  #slotOf(v: number, key: string): number {
    const mask = this.#table.length - 1;
    for (let at = this.#hashOf(v, key) & mask; ; at = (at + 1) & mask) {
      const e = this.#table[at] as number;
      if (e === 0) return NONE;
      if (this.#is(e - 1, v, key)) return e - 1;
    }
  }

  /**
   * The slot of `key`, made the newest: its own when held, else a new one ({@link fresh} says
   * which). A new slot's columns are the caller's to clear.
   */
  take(key: string): number {
    return this.#take(v4Of(key), key);
  }

  /** {@link take} for the IPv4 address of value `v` (without its dotted text). */
  takeV4(v: number): number {
    return this.#take(v, '');
  }

  #take(v: number, key: string): number {
    const mask = this.#table.length - 1;
    let at = this.#hashOf(v, key) & mask;
    for (; ; at = (at + 1) & mask) {
      const e = this.#table[at] as number;
      if (e === 0) break;
      if (this.#is(e - 1, v, key)) {
        this.#fresh = false;
        this.#unlink(e - 1);
        this.#link(e - 1);
        return e - 1;
      }
    }
    const slot = this.#allocate();
    if (v >= 0) this.#v4[slot] = v;
    else (this.#text ??= grownList<string | undefined>([], this.#v4.length, undefined))[slot] = key;
    this.#table[at] = slot + 1;
    this.#link(slot);
    this.#size++;
    this.#fresh = true;
    if (this.#size * 2 > this.#table.length) this.#rehash(this.#table.length * 2);
    return slot;
  }

  /** Forgets the held slot `slot` (it is handed out again later). */
  remove(slot: number): void {
    const table = this.#table;
    const mask = table.length - 1;
    let at = this.#hashOfSlot(slot) & mask;
    while (table[at] !== slot + 1) at = (at + 1) & mask;
    // backward-shift deletion: later entries of the run move up unless their home is after the hole
    let hole = at;
    for (let j = (at + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = this.#hashOfSlot((table[j] as number) - 1) & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      table[hole] = table[j] as number;
      hole = j;
    }
    table[hole] = 0;
    this.#unlink(slot);
    if (this.#text) this.#text[slot] = undefined;
    this.#free.push(slot);
    this.#size--;
  }

  /** The least recently failing slot, or -1 when none is held. */
  oldest(): number {
    return this.#oldest;
  }

  /** The slot that failed next after `slot`, or -1 after the newest. */
  newerThan(slot: number): number {
    return this.#newer[slot] as number;
  }

  /** The key of the held slot `slot`. */
  keyOf(slot: number): string {
    return this.#text?.[slot] ?? v4Text(this.#v4[slot] as number);
  }

  /** The key of the held slot `slot` when it is not canonical dotted IPv4, else undefined (see {@link v4At}). */
  textAt(slot: number): string | undefined {
    return this.#text?.[slot];
  }

  /** The IPv4 value of the held slot `slot` (its key when {@link textAt} is undefined). */
  v4At(slot: number): number {
    return this.#v4[slot] as number;
  }

  /**
   * The held slots, least recently failing first: a copy, overwritten by the next call; with
   * `positions` (at least {@link rows} long), each held slot's place in it there too.
   */
  order(positions?: Int32Array): Int32Array {
    if (this.#orderCopy.length < this.#size) this.#orderCopy = new Int32Array(this.#older.length);
    const out = this.#orderCopy;
    let i = 0;
    if (positions) for (let s = this.#oldest; s !== NONE; s = this.#newer[s] as number) (positions[s] = i, out[i++] = s);
    else for (let s = this.#oldest; s !== NONE; s = this.#newer[s] as number) out[i++] = s;
    return out.subarray(0, i);
  }

  #is(slot: number, v: number, key: string): boolean {
    return v >= 0 ? this.#text?.[slot] === undefined && this.#v4[slot] === v : this.#text?.[slot] === key;
  }

  #hashOfSlot(slot: number): number {
    const text = this.#text?.[slot];
    return text === undefined ? fmix32((this.#v4[slot] as number) ^ this.#seed) : this.#hashOf(NONE, text);
  }

  /** The hash of a key: of its IPv4 value `v`, or of its text when `v` is -1. */
  #hashOf(v: number, key: string): number {
    return fmix32(v >= 0 ? v ^ this.#seed : fnv1a(key, this.#seed ^ 0x811c9dc5));
  }

  #allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    if (this.#rows === this.#v4.length) {
      const rows = this.#v4.length;
      const capped = Math.min(Math.max(16, rows * 2), this.rowsFirst);
      const next = capped > rows ? capped : rows * 2;
      this.#v4 = grownInto(this.#v4, new Uint32Array(next));
      this.#older = grownInto(this.#older, new Int32Array(next));
      this.#newer = grownInto(this.#newer, new Int32Array(next));
      if (this.#text) this.#text = grownList(this.#text, next, undefined);
    }
    return this.#rows++;
  }

  #rehash(size: number): void {
    const table = new Int32Array(size);
    const mask = size - 1;
    for (let s = this.#oldest; s !== NONE; s = this.#newer[s] as number) {
      let at = this.#hashOfSlot(s) & mask;
      while (table[at] !== 0) at = (at + 1) & mask;
      table[at] = s + 1;
    }
    this.#table = table;
  }

  /** Puts `slot` at the newest end of the order. */
  #link(slot: number): void {
    this.#older[slot] = this.#newest;
    this.#newer[slot] = NONE;
    if (this.#newest === NONE) this.#oldest = slot;
    else this.#newer[this.#newest] = slot;
    this.#newest = slot;
  }

  #unlink(slot: number): void {
    const older = this.#older[slot] as number;
    const newer = this.#newer[slot] as number;
    if (older === NONE) this.#oldest = newer;
    else this.#newer[older] = newer;
    if (newer === NONE) this.#newest = older;
    else this.#older[newer] = older;
  }
}
