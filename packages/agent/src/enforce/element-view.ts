/**
 * An enforcer's view of its sets: elements by key, and the keys of each target, so a batch of
 * one ban is planned by looking up that ban, not by scanning 100,000 elements.
 */
import type { PresentElements } from './reconcile.js';
import { isLive, type SetElement } from './set-element.js';

/** Elements by key with a per-target index. Expired elements stay until {@link sweep}. */
export class ElementView implements PresentElements {
  private readonly byKey = new Map<string, SetElement>();
  /** Keys by target: one key as a string (the usual case, no Set to allocate), more as a Set. */
  private readonly byTarget = new Map<string, string | Set<string>>();

  constructor(els: Iterable<SetElement> = []) {
    for (const el of els) this.set(el);
  }

  /** Elements held, expired ones not yet swept included. */
  get size(): number {
    return this.byKey.size;
  }

  get(key: string): SetElement | undefined {
    return this.byKey.get(key);
  }

  /** Every element of `target` (whole-address and port-scoped). */
  ofTarget(target: string): SetElement[] {
    const keys = this.byTarget.get(target);
    if (keys === undefined) return [];
    if (typeof keys === 'string') {
      const el = this.byKey.get(keys);
      return el ? [el] : [];
    }
    const out: SetElement[] = [];
    for (const key of keys) {
      const el = this.byKey.get(key);
      if (el) out.push(el);
    }
    return out;
  }

  /** The targets that have elements. */
  targets(): IterableIterator<string> {
    return this.byTarget.keys();
  }

  set(el: SetElement): void {
    this.byKey.set(el.key, el);
    const keys = this.byTarget.get(el.target);
    if (keys === undefined || keys === el.key) this.byTarget.set(el.target, el.key);
    else if (typeof keys === 'string') this.byTarget.set(el.target, new Set([keys, el.key]));
    else keys.add(el.key);
  }

  delete(key: string): void {
    const el = this.byKey.get(key);
    if (!el) return;
    this.byKey.delete(key);
    const keys = this.byTarget.get(el.target);
    if (typeof keys === 'string') {
      this.byTarget.delete(el.target);
    } else if (keys) {
      keys.delete(key);
      if (keys.size === 0) this.byTarget.delete(el.target);
    }
  }

  values(): IterableIterator<SetElement> {
    return this.byKey.values();
  }

  /** Drops the elements expired at `nowMs` (a scan of all: for reconcile, not per batch). */
  sweep(nowMs: number): this {
    for (const el of [...this.byKey.values()]) if (!isLive(el, nowMs)) this.delete(el.key);
    return this;
  }
}
