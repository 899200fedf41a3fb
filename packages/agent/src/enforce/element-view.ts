/**
 * An enforcer's view of its sets: elements by key, and the port-scoped keys of each target, so
 * a batch of one ban is planned by looking up that ban, not by scanning 100,000 elements.
 */
import type { PresentElements } from './reconcile.js';
import { isLive, type SetElement } from './set-element.js';
import { stringHash } from './target-set.js';

/** What {@link ElementView.ofTarget} returns for a target without elements. */
const NONE: readonly SetElement[] = Object.freeze([]);

/**
 * Elements by key. A whole-address element's key is its target, so only port-scoped elements
 * (`192.0.2.7 tcp/22`) need the per-target index: the bulk of a ban list costs one slot each.
 * Expired elements stay until {@link sweep}.
 *
 * The elements sit in one dense array, found through an open-addressing table of their indices
 * (one typed array, kept at most half full, linear probing): a bulk batch of a million elements
 * is recorded without a hash-table entry object or a rehash of a `Map` per doubling, and a
 * deleted element's place is taken by the last one (iteration order is not insertion order).
 */
export class ElementView implements PresentElements {
  private els: SetElement[] = [];
  private slots = new Int32Array(16).fill(-1);
  /** Each slot's element's key hash: a probe compares hashes before it reads an element. */
  private hashes = new Int32Array(16);
  private mask = 15;
  /** The hash of the key {@link slotOf} looked up last. */
  private hash = 0;
  /** Keys of port-scoped elements by target. */
  private readonly scoped = new Map<string, Set<string>>();

  constructor(els: Iterable<SetElement> = []) {
    for (const el of els) this.set(el);
  }

  /** Elements held, expired ones not yet swept included. */
  get size(): number {
    return this.els.length;
  }

  get(key: string): SetElement | undefined {
    const at = this.slots[this.slotOf(key)]!;
    return at < 0 ? undefined : this.els[at];
  }

  /** Every element of `target` (whole-address and port-scoped); the shared empty list when none. */
  ofTarget(target: string): readonly SetElement[] {
    const whole = this.get(target);
    const keys = this.scoped.size === 0 ? undefined : this.scoped.get(target);
    if (!keys) return whole ? [whole] : NONE;
    const out = whole ? [whole] : [];
    for (const key of keys) {
      const el = this.get(key);
      if (el) out.push(el);
    }
    return out;
  }

  /** The targets that have elements, each once. */
  *targets(): IterableIterator<string> {
    for (const el of this.els) if (el.key === el.target) yield el.key;
    for (const target of this.scoped.keys()) if (!this.get(target)) yield target;
  }

  set(el: SetElement): void {
    const slot = this.slotOf(el.key);
    const at = this.slots[slot]!;
    if (at >= 0) {
      this.els[at] = el;
    } else {
      this.slots[slot] = this.els.length;
      this.hashes[slot] = this.hash;
      this.els.push(el);
      if (this.els.length * 2 > this.slots.length) this.grow();
    }
    if (el.key === el.target) return;
    const keys = this.scoped.get(el.target);
    if (keys) keys.add(el.key);
    else this.scoped.set(el.target, new Set([el.key]));
  }

  delete(key: string): void {
    const slot = this.slotOf(key);
    const at = this.slots[slot]!;
    if (at < 0) return;
    const el = this.els[at]!;
    this.unslot(slot);
    // the last element takes the deleted one's place in the dense array
    const end = this.els.length - 1;
    if (at !== end) {
      const last = this.els[end]!;
      this.slots[this.slotOf(last.key)] = at;
      this.els[at] = last;
    }
    this.els.pop();
    if (el.key === el.target) return;
    const keys = this.scoped.get(el.target);
    keys?.delete(key);
    if (keys?.size === 0) this.scoped.delete(el.target);
  }

  /** Makes room for `count` elements in all, so recording a bulk batch does not grow the table step by step. */
  reserve(count: number): void {
    if (count * 2 <= this.slots.length) return;
    let size = this.slots.length;
    while (size < count * 2) size *= 2;
    this.rehash(size);
  }

  values(): IterableIterator<SetElement> {
    return this.els.values();
  }

  /** Drops the elements expired at `nowMs` (a scan of all: for reconcile, not per batch). */
  sweep(nowMs: number): this {
    for (const el of this.els.filter((x) => !isLive(x, nowMs))) this.delete(el.key);
    return this;
  }

  /** The slot holding `key`, or the empty slot where it would go. */
  private slotOf(key: string): number {
    const h = (this.hash = stringHash(key) | 0);
    let i = h & this.mask;
    for (;;) {
      const at = this.slots[i]!;
      if (at < 0 || (this.hashes[i] === h && this.els[at]!.key === key)) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Empties `slot` and moves up the elements after it that would no longer be found (linear probing). */
  private unslot(slot: number): void {
    let hole = slot;
    let i = slot;
    for (;;) {
      i = (i + 1) & this.mask;
      const at = this.slots[i]!;
      if (at < 0) break;
      const home = this.hashes[i]! & this.mask;
      // an element stays when its home lies cyclically in (hole, i]
      const stays = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (stays) continue;
      this.slots[hole] = at;
      this.hashes[hole] = this.hashes[i]!;
      hole = i;
    }
    this.slots[hole] = -1;
  }

  /** Doubles the table. */
  private grow(): void {
    this.rehash(this.slots.length * 2);
  }

  /** A table of `size` slots (a power of two), every element placed again. */
  private rehash(size: number): void {
    const { slots, hashes } = this;
    this.slots = new Int32Array(size).fill(-1);
    this.hashes = new Int32Array(size);
    this.mask = size - 1;
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
