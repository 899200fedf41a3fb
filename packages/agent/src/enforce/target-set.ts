/**
 * A set of strings for one pass over a bulk batch: an open-addressing table of indices in one
 * typed array, sized once for the number of strings it will hold. A batch of a million targets
 * costs two allocations here, where a `Set` grows (and rehashes) twenty times.
 */
import { fnv1a } from '@fleetban/shared';

/** Strings seen so far; `add` tells whether a string is new. */
export class TargetSet {
  private slots: Int32Array;
  /** Each slot's string's hash: a probe compares hashes before it reads a string. */
  private hashes: Int32Array;
  private readonly keys: string[] = [];
  private mask: number;

  /** `capacity`: the strings expected (more are taken, at the price of a rehash). */
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
  }

  /** Strings held. */
  get size(): number {
    return this.keys.length;
  }

  /** Adds `key`; true when it was not there before. */
  add(key: string): boolean {
    const h = stringHash(key) | 0;
    let i = h & this.mask;
    for (;;) {
      const at = this.slots[i]!;
      if (at < 0) {
        this.slots[i] = this.keys.length;
        this.hashes[i] = h;
        this.keys.push(key);
        if (this.keys.length * 2 > this.slots.length) this.grow();
        return true;
      }
      if (this.hashes[i] === h && this.keys[at] === key) return false;
      i = (i + 1) & this.mask;
    }
  }

  /** Doubles the table (kept at most half full) and places every string again. */
  private grow(): void {
    const { slots, hashes } = this;
    this.slots = new Int32Array(slots.length * 2).fill(-1);
    this.hashes = new Int32Array(slots.length * 2);
    this.mask = this.slots.length - 1;
    for (let j = 0; j < slots.length; j++) {
      const at = slots[j]!;
      if (at < 0) continue;
      const h = hashes[j]!;
      let i = h & this.mask;
      while (this.slots[i]! >= 0) i = (i + 1) & this.mask;
      this.slots[i] = at;
      this.hashes[i] = h;
    }
  }
}

/** A stable, evenly spread 32-bit hash of a string (FNV-1a, shared). */
export const stringHash = (key: string): number => fnv1a(key);
