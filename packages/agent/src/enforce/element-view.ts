/**
 * An enforcer's view of its sets: elements by key, and the port-scoped keys of each target, so
 * a batch of one ban is planned by looking up that ban, not by scanning 100,000 elements.
 */
import type { PresentElements } from './reconcile.js';
import { isLive, type SetElement } from './set-element.js';

/** What {@link ElementView.ofTarget} returns for a target without elements. */
const NONE: readonly SetElement[] = Object.freeze([]);

/**
 * Elements by key. A whole-address element's key is its target, so only port-scoped elements
 * (`192.0.2.7 tcp/22`) need the per-target index: the bulk of a ban list costs one map entry
 * each. Expired elements stay until {@link sweep}.
 */
export class ElementView implements PresentElements {
  private readonly byKey = new Map<string, SetElement>();
  /** Keys of port-scoped elements by target. */
  private readonly scoped = new Map<string, Set<string>>();

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

  /** Every element of `target` (whole-address and port-scoped); the shared empty list when none. */
  ofTarget(target: string): readonly SetElement[] {
    const whole = this.byKey.get(target);
    const keys = this.scoped.size === 0 ? undefined : this.scoped.get(target);
    if (!keys) return whole ? [whole] : NONE;
    const out = whole ? [whole] : [];
    for (const key of keys) {
      const el = this.byKey.get(key);
      if (el) out.push(el);
    }
    return out;
  }

  /** The targets that have elements, each once. */
  *targets(): IterableIterator<string> {
    for (const [key, el] of this.byKey) if (key === el.target) yield key;
    for (const target of this.scoped.keys()) if (!this.byKey.has(target)) yield target;
  }

  set(el: SetElement): void {
    this.byKey.set(el.key, el);
    if (el.key === el.target) return;
    const keys = this.scoped.get(el.target);
    if (keys) keys.add(el.key);
    else this.scoped.set(el.target, new Set([el.key]));
  }

  delete(key: string): void {
    const el = this.byKey.get(key);
    if (!el) return;
    this.byKey.delete(key);
    if (el.key === el.target) return;
    const keys = this.scoped.get(el.target);
    keys?.delete(key);
    if (keys?.size === 0) this.scoped.delete(el.target);
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
