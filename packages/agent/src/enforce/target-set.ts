/**
 * A set of strings for one pass over a bulk batch: an open-addressing table of indices in one
 * typed array, sized once for the number of strings it will hold. A batch of a million targets
 * costs two allocations here, where a `Set` grows (and rehashes) twenty times.
 */
import { fnv1a } from '@fleetban/shared';

/** Strings seen so far; `add` tells whether a string is new. */
export class TargetSet {
  private slots: Int32Array;
  private readonly keys: string[] = [];
  private mask: number;

  /** `capacity`: the strings expected (more are taken, at the price of a rehash). */
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  /** Strings held. */
  get size(): number {
    return this.keys.length;
  }

  /** Adds `key`; true when it was not there before. */
  add(key: string): boolean {
    let i = stringHash(key) & this.mask;
    for (;;) {
      const at = this.slots[i]!;
      if (at < 0) {
        this.slots[i] = this.keys.length;
        this.keys.push(key);
        if (this.keys.length * 2 > this.slots.length) this.grow();
        return true;
      }
      if (this.keys[at] === key) return false;
      i = (i + 1) & this.mask;
    }
  }

  /** Doubles the table (kept at most half full) and places every string again. */
  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    this.mask = this.slots.length - 1;
    for (let at = 0; at < this.keys.length; at++) {
      let i = stringHash(this.keys[at]!) & this.mask;
      while (this.slots[i]! >= 0) i = (i + 1) & this.mask;
      this.slots[i] = at;
    }
  }
}

/** A stable, evenly spread 32-bit hash of a string (FNV-1a, shared). */
export const stringHash = (key: string): number => fnv1a(key);
