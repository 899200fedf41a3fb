import { randomInt } from 'node:crypto';
import { fmix32 } from '@fleetban/shared';

/**
 * What {@link SeenIds.capture} returns, oldest first: the 64-bit keys of the events seen (`hi` and
 * `lo`, parallel) and the seeds they were made with, without which they mean nothing.
 */
export interface SeenCapture {
  readonly seeds: readonly [number, number];
  readonly hi: ArrayLike<number>;
  readonly lo: ArrayLike<number>;
}

/** The two 32-bit seeds of a new set (random: a host cannot aim its ids at another's keys). */
export function newSeeds(): [number, number] {
  return [randomInt(2 ** 32), randomInt(2 ** 32)];
}

/**
 * The events seen lately, by host and id, in a fixed amount of memory: the intake's guard against
 * counting a redelivered or republished failure twice.
 *
 * It holds 64-bit keys, not the ids: at 200,000 ids a Map of strings took about 22 MB of heap (its
 * table 14.7 MB, the ids 7 MB), every id an old-generation object the collector walked; these
 * columns take 3.6 MB outside the heap, and an event's id dies young. A key is two seeded 32-bit
 * hashes of the host and the id (not cryptographic: two ids that collide make one event count as a
 * duplicate, about once in 10^14 lookups at 200,000 keys; random seeds keep a host from aiming at
 * another's keys, and the host is the one its subject names, so no host can hide another's events).
 *
 * Laid out as a ring of keys in arrival order (the oldest forgotten first when full) and an
 * open-addressing table (linear probing) of ring positions.
 */
export class SeenIds {
  readonly #hi: Uint32Array;
  readonly #lo: Uint32Array;
  /** 1 where the ring's key is still held (0 once {@link delete}d). */
  readonly #live: Uint8Array;
  /** Ring position + 1 of each key, at its hashed place or after it; 0 = empty. */
  readonly #table: Int32Array;
  readonly #mask: number;
  /** Ring position of the oldest key, and keys in the ring (held or deleted). */
  #head = 0;
  #used = 0;
  #size = 0;
  #seeds: [number, number];
  /** The key being looked up (hi, lo). */
  readonly #key = new Uint32Array(2);
  /** What {@link capture} copies into. */
  #hiCopy: Uint32Array | undefined;
  #loCopy: Uint32Array | undefined;
  #liveCopy: Uint8Array | undefined;

  constructor(readonly capacity: number, seeds: readonly [number, number] = newSeeds()) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`seen ids: capacity must be a positive integer, got ${capacity}`);
    this.#hi = new Uint32Array(capacity);
    this.#lo = new Uint32Array(capacity);
    this.#live = new Uint8Array(capacity);
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.#table = new Int32Array(slots);
    this.#mask = slots - 1;
    this.#seeds = [seeds[0] >>> 0, seeds[1] >>> 0];
  }

  /** Keys held now. */
  get size(): number {
    return this.#size;
  }

  /** Adds the event `id` of `host`: false when it was seen already (then nothing changes). */
  add(host: string, id: string): boolean {
    keyPair(host, id, this.#seeds, this.#key);
    const hi = this.#key[0] as number;
    const lo = this.#key[1] as number;
    if (this.#find(hi, lo) >= 0) return false;
    this.#push(hi, lo);
    return true;
  }

  /** Forgets the event `id` of `host` (its handling failed: when it comes again it counts). */
  delete(host: string, id: string): void {
    keyPair(host, id, this.#seeds, this.#key);
    const at = this.#find(this.#key[0] as number, this.#key[1] as number);
    if (at < 0) return;
    this.#live[(this.#table[at] as number) - 1] = 0;
    this.#size--;
    this.#unlink(at);
  }

  /**
   * The keys held, oldest first, with the seeds (for a snapshot): a copy, into arrays kept for the
   * next capture, which overwrites it (one snapshot at a time; into new arrays the copy of 200,000
   * keys took about 5 ms of the snapshot's pause, the kernel handing out fresh pages).
   */
  capture(): SeenCapture {
    // the ring's one or two runs copied whole (a loop over 200,000 keys, run once per snapshot and
    // so never optimised, took 13–20 ms of the snapshot's pause); deleted keys, rare, dropped after
    const hi = ringCopy(this.#hi, this.#head, this.#used, (this.#hiCopy ??= new Uint32Array(this.capacity)));
    const lo = ringCopy(this.#lo, this.#head, this.#used, (this.#loCopy ??= new Uint32Array(this.capacity)));
    if (this.#size === this.#used) return { seeds: [...this.#seeds], hi, lo };
    const live = ringCopy(this.#live, this.#head, this.#used, (this.#liveCopy ??= new Uint8Array(this.capacity)));
    let n = 0;
    for (let k = 0; k < live.length; k++) {
      if (live[k] === 0) continue;
      hi[n] = hi[k] as number;
      lo[n++] = lo[k] as number;
    }
    return { seeds: [...this.#seeds], hi: hi.subarray(0, n), lo: lo.subarray(0, n) };
  }

  /**
   * Takes back what {@link capture} returned, after a restart, into an empty set (it takes the
   * capture's seeds); oldest first, so the newest are kept when there are more than it holds.
   */
  restore(c: SeenCapture): void {
    if (this.#used > 0) throw new Error('seen ids: restore into a set that holds keys');
    this.#seeds = [c.seeds[0] >>> 0, c.seeds[1] >>> 0];
    const n = Math.min(c.hi.length, c.lo.length);
    for (let i = Math.max(0, n - this.capacity); i < n; i++) {
      const hi = (c.hi[i] as number) >>> 0;
      const lo = (c.lo[i] as number) >>> 0;
      if (this.#find(hi, lo) < 0) this.#push(hi, lo);
    }
  }

  /** The table place holding key (hi, lo), or -1. */
  #find(hi: number, lo: number): number {
    for (let at = lo & this.#mask; ; at = (at + 1) & this.#mask) {
      const p = this.#table[at] as number;
      if (p === 0) return -1;
      if (this.#lo[p - 1] === lo && this.#hi[p - 1] === hi) return at;
    }
  }

  /** Appends a key to the ring (forgetting the oldest when full) and places it in the table. */
  #push(hi: number, lo: number): void {
    if (this.#used === this.capacity) {
      const oldest = this.#head;
      if (this.#live[oldest] === 1) {
        this.#unlink(this.#find(this.#hi[oldest] as number, this.#lo[oldest] as number));
        this.#size--;
      }
      this.#head = (this.#head + 1) % this.capacity;
      this.#used--;
    }
    const p = (this.#head + this.#used) % this.capacity;
    this.#hi[p] = hi;
    this.#lo[p] = lo;
    this.#live[p] = 1;
    this.#used++;
    this.#size++;
    let at = lo & this.#mask;
    while (this.#table[at] !== 0) at = (at + 1) & this.#mask;
    this.#table[at] = p + 1;
  }

  /** Empties table place `at`, moving back the keys after it that probing would no longer reach. */
  #unlink(at: number): void {
    const t = this.#table;
    let hole = at;
    t[hole] = 0;
    for (let j = (hole + 1) & this.#mask; t[j] !== 0; j = (j + 1) & this.#mask) {
      const home = (this.#lo[(t[j] as number) - 1] as number) & this.#mask;
      // the key at j may move to the hole when its home is not in (hole, j], cyclically
      const reachable = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!reachable) {
        t[hole] = t[j] as number;
        t[j] = 0;
        hole = j;
      }
    }
  }
}

/**
 * A seeded 32-bit hash of `host`, a separator and `id` (murmur-style rounds over UTF-16 code units,
 * murmur3's finaliser).
 */
export function keyHash(host: string, id: string, seed: number): number {
  keyPair(host, id, [seed, seed], pair);
  return pair[0] as number;
}

/** Scratch for {@link keyHash}. */
const pair = new Uint32Array(2);

/**
 * {@link keyHash} under both `seeds` at once, into `out` (0: the first seed's, 1: the second's):
 * one pass over the text per event, not two.
 */
export function keyPair(host: string, id: string, seeds: readonly [number, number], out: Uint32Array): void {
  let a = seeds[0] | 0;
  let b = seeds[1] | 0;
  for (let i = 0; i < host.length; i++) {
    const k = mixed(host.charCodeAt(i));
    a = round(a, k);
    b = round(b, k);
  }
  const sep = mixed(0x10000); // not a code unit: "ab"+"c" and "a"+"bc" differ
  a = round(a, sep);
  b = round(b, sep);
  for (let i = 0; i < id.length; i++) {
    const k = mixed(id.charCodeAt(i));
    a = round(a, k);
    b = round(b, k);
  }
  out[0] = finished(a, host.length + id.length);
  out[1] = finished(b, host.length + id.length);
}

/** A code unit mixed as murmur3 mixes a block. */
function mixed(c: number): number {
  const k = Math.imul(c, 0xcc9e2d51);
  return Math.imul((k << 15) | (k >>> 17), 0x1b873593);
}

function round(h: number, k: number): number {
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3's finaliser, after the length. */
function finished(h: number, length: number): number {
  return fmix32(h ^ length);
}

/** The `used` items of ring `a` from `head` on, in order, in the first `used` of `into` (as long as `a`). */
function ringCopy<T extends Uint32Array | Uint8Array>(a: T, head: number, used: number, into: T): T {
  const out = into.subarray(0, used) as T;
  const first = Math.min(used, a.length - head);
  out.set(a.subarray(head, head + first));
  if (first < used) out.set(a.subarray(0, used - first), first);
  return out;
}
