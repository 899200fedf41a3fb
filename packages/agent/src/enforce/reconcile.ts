/**
 * Reconcile plans: pure functions that turn "what should be banned" and "what the sets hold"
 * into the smallest list of element operations. Shared by every backend; no I/O here.
 */
import { isLive, sameExpiry, satisfies, type ExpiryRule, type SetElement } from './set-element.js';

/**
 * What the caller wants for one target: exactly `els` (all of the same target; a ban of a
 * port-scoped jail has one per protocol and port range), or nothing at all (`els` empty: unban).
 */
export interface Intent {
  readonly target: string;
  readonly els: readonly SetElement[];
}

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

/** Groups elements by target. */
export function byTarget(els: Iterable<SetElement>): Map<string, SetElement[]> {
  const out = new Map<string, SetElement[]>();
  for (const el of els) {
    const list = out.get(el.target);
    if (list) list.push(el);
    else out.set(el.target, [el]);
  }
  return out;
}

/**
 * The operations that carry out `intents` on sets holding `present` (live elements by key).
 * Later intents for the same target win. An element already present that {@link satisfies}
 * the wanted expiry needs nothing; elements of the target that are not wanted are deleted.
 */
export function planOps(intents: readonly Intent[], present: ReadonlyMap<string, SetElement>, nowMs: number, rule: ExpiryRule): ElementOp[] {
  const last = new Map<string, Intent>();
  for (const intent of intents) {
    last.delete(intent.target);
    last.set(intent.target, intent);
  }
  const have = byTarget(present.values());
  const ops: ElementOp[] = [];
  for (const intent of last.values()) {
    const wanted = new Set(intent.els.map((el) => el.key));
    for (const el of have.get(intent.target) ?? []) if (!wanted.has(el.key)) ops.push({ kind: 'delete', el });
    for (const el of intent.els) {
      const h = present.get(el.key);
      if (!h) ops.push({ kind: 'add', el });
      else if (!satisfies(h.expiresMs, el.expiresMs, nowMs, rule)) ops.push({ kind: 'replace', el });
    }
  }
  return ops;
}

/** Every wanted element grouped into one intent per target, plus an unban for each other target of `current`. */
export function reconcileIntents(current: Iterable<SetElement>, wanted: readonly SetElement[]): Intent[] {
  const want = byTarget(wanted);
  const intents: Intent[] = [];
  for (const target of byTarget(current).keys()) if (!want.has(target)) intents.push({ target, els: [] });
  for (const [target, els] of want) intents.push({ target, els });
  return intents;
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
