/**
 * Reconcile plans: pure functions that turn "what should be banned" and "what the set holds"
 * into the smallest list of element operations. Shared by every backend; no I/O here.
 */
import { isLive, sameExpiry, type SetElement } from './set-element.js';

/** What the caller wants for one element. */
export type Intent = { readonly kind: 'ban'; readonly el: SetElement } | { readonly kind: 'unban'; readonly el: SetElement };

/** One element operation: `replace` = delete then add in the same transaction (new timeout). */
export interface ElementOp {
  readonly kind: 'add' | 'delete' | 'replace';
  readonly el: SetElement;
}

/** Differences between two element lists, keyed by element key. */
export interface ElementDiff {
  /** In `wanted`, absent from `current`. */
  readonly missing: SetElement[];
  /** In `current`, absent from `wanted`. */
  readonly extra: SetElement[];
  /** In both, with expiries further apart than the tolerance (the wanted value). */
  readonly changed: SetElement[];
}

/**
 * The operations that carry out `intents` on a set holding `present` (live elements by key).
 * Later intents for the same key win. A ban already present with the same expiry (within
 * `toleranceMs`) needs nothing; an unban of an absent element needs nothing.
 */
export function planOps(intents: readonly Intent[], present: ReadonlyMap<string, SetElement>, toleranceMs: number): ElementOp[] {
  const last = new Map<string, Intent>();
  for (const intent of intents) {
    last.delete(intent.el.key);
    last.set(intent.el.key, intent);
  }
  const ops: ElementOp[] = [];
  for (const intent of last.values()) {
    const have = present.get(intent.el.key);
    if (intent.kind === 'unban') {
      if (have) ops.push({ kind: 'delete', el: have });
    } else if (!have) {
      ops.push({ kind: 'add', el: intent.el });
    } else if (!sameExpiry(have.expiresMs, intent.el.expiresMs, toleranceMs)) {
      ops.push({ kind: 'replace', el: intent.el });
    }
  }
  return ops;
}

/** Compares two element lists by key and expiry. */
export function diffElements(current: readonly SetElement[], wanted: readonly SetElement[], toleranceMs: number): ElementDiff {
  const have = new Map(current.map((el) => [el.key, el]));
  const want = new Map(wanted.map((el) => [el.key, el]));
  const missing: SetElement[] = [];
  const changed: SetElement[] = [];
  for (const el of want.values()) {
    const h = have.get(el.key);
    if (!h) missing.push(el);
    else if (!sameExpiry(h.expiresMs, el.expiresMs, toleranceMs)) changed.push(el);
  }
  const extra = [...have.values()].filter((el) => !want.has(el.key));
  return { missing, extra, changed };
}

/**
 * Elements that are live at `nowMs` and will still be live `marginMs` later. Used before a
 * comparison so an element expiring right now counts neither as missing nor as extra.
 */
export function settled(els: Iterable<SetElement>, nowMs: number, marginMs: number): SetElement[] {
  return [...els].filter((el) => isLive(el, nowMs + marginMs));
}
