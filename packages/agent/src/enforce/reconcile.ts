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

/** What the sets hold, looked up by target (see element-view.ts). */
export interface PresentElements {
  /** Every element of `target`, expired ones included (an empty list when there are none). */
  ofTarget(target: string): readonly SetElement[];
}

/**
 * The operations that carry out `intents` on sets holding `present` (expired elements count as
 * absent). Later intents for the same target win. An element already present that
 * {@link satisfies} the wanted expiry needs nothing; elements of the target that are not wanted
 * are deleted. Costs the intents' size, not the sets': one look-up of each target (a bulk batch
 * of a million bans pays for each hash-table access, so there is no second one per element).
 */
export function planOps(intents: readonly Intent[], present: PresentElements, nowMs: number, rule: ExpiryRule): ElementOp[] {
  // the last intent of a target wins: walk backwards, skip targets already planned
  const done = new Set<string>();
  const ops: ElementOp[] = [];
  for (let i = intents.length - 1; i >= 0; i--) {
    const intent = intents[i]!;
    const seen = done.size;
    done.add(intent.target); // one hash-table access, not has() then add()
    if (done.size === seen) continue;
    const have = present.ofTarget(intent.target);
    if (have.length === 0) {
      for (const el of intent.els) ops.push({ kind: 'add', el });
      continue;
    }
    for (const el of have) {
      if (isLive(el, nowMs) && !intent.els.some((w) => w.key === el.key)) ops.push({ kind: 'delete', el });
    }
    for (const el of intent.els) {
      const h = have.find((x) => x.key === el.key);
      if (!h || !isLive(h, nowMs)) ops.push({ kind: 'add', el });
      else if (!satisfies(h.expiresMs, el.expiresMs, nowMs, rule)) ops.push({ kind: 'replace', el });
    }
  }
  return ops.reverse();
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
