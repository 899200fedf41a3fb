/**
 * Reconcile plans: pure functions that turn "what should be banned" and "what the sets hold"
 * into the smallest list of element operations. Shared by every backend; no I/O here.
 */
import { isLive, sameExpiry, satisfies, type ExpiryRule, type SetElement } from './set-element.js';
import { TargetSet } from './target-set.js';

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

/**
 * What the caller wants for one target: an {@link Intent}, or a single element, which stands for
 * the intent to hold exactly that element (the usual whole-address ban: a bulk batch then has no
 * list and no wrapper object per ban).
 */
export type Want = Intent | SetElement;

function isIntent(want: Want): want is Intent {
  return (want as Partial<Intent>).els !== undefined;
}

/** What the sets hold, looked up by target (see element-view.ts). */
export interface PresentElements {
  /** Elements held (expired ones included); 0 = nothing to look up. */
  readonly size: number;
  /** Every element of `target`, expired ones included (an empty list when there are none). */
  ofTarget(target: string): readonly SetElement[];
}

/**
 * Wants by index: an array, or a list that makes each want when it is first asked for (see
 * plan-stream.ts). `null` or `undefined` = nothing wanted at that index (a skipped ban).
 */
export interface WantList {
  readonly length: number;
  at(index: number): Want | null | undefined;
}

/**
 * The operations that carry out `wants` on sets holding `present` (expired elements count as
 * absent). Later wants for the same target win. An element already present that
 * {@link satisfies} the wanted expiry needs nothing; elements of the target that are not wanted
 * are deleted. Costs the wants' size, not the sets': one look-up of each target, none when the
 * sets are empty (a bulk import), and targets told apart in a {@link TargetSet}; no object but
 * the operation itself per element. The plan of a {@link PlanCursor} walked to its end.
 */
export function planOps(wants: WantList, present: PresentElements, nowMs: number, rule: ExpiryRule): ElementOp[] {
  const ops: ElementOp[] = [];
  new PlanCursor(wants, present, nowMs, rule).step(ops, wants.length);
  return ops.reverse();
}

/**
 * {@link planOps} a few wants at a time, from the last want backwards: the last want of a
 * target wins, so a want is planned once every later one has been, and the operations of the
 * last wants are final before the first wants are looked at. Each target is looked up in
 * `present` only when its (last) want is planned: recording operations of targets planned
 * before in `present` meanwhile changes nothing that is still to be planned.
 */
export class PlanCursor {
  /** Index of the next want to plan (walking down); -1 = done. */
  private next: number;
  private readonly done: TargetSet;
  /** `present` was empty at the start (a bulk import): nothing to look up. */
  private readonly empty: boolean;

  constructor(
    private readonly wants: WantList,
    private readonly present: PresentElements,
    private readonly nowMs: number,
    private readonly rule: ExpiryRule,
  ) {
    this.next = wants.length - 1;
    this.done = new TargetSet(wants.length);
    this.empty = present.size === 0;
  }

  /** Wants not yet planned. */
  get remaining(): number {
    return this.next + 1;
  }

  /** Plans up to `count` more wants, pushing their operations to `ops` in reverse plan order. */
  step(ops: ElementOp[], count: number): void {
    const { wants, present, done, nowMs, rule } = this;
    const end = Math.max(-1, this.next - count);
    for (let i = this.next; i > end; i--) {
      const want = wants.at(i);
      if (!want || !done.add(want.target)) continue;
      const have = this.empty ? NONE : present.ofTarget(want.target);
      if (!isIntent(want)) {
        if (have.length === 0) ops.push({ kind: 'add', el: want });
        else planTarget([want], have, ops, nowMs, rule);
      } else if (have.length === 0) {
        for (const el of want.els) ops.push({ kind: 'add', el });
      } else {
        planTarget(want.els, have, ops, nowMs, rule);
      }
    }
    this.next = end;
  }
}

const NONE: readonly SetElement[] = Object.freeze([]);

/** The operations that turn `have` (one target's elements, not empty) into `els`, pushed to `ops`. */
function planTarget(els: readonly SetElement[], have: readonly SetElement[], ops: ElementOp[], nowMs: number, rule: ExpiryRule): void {
  for (const el of have) {
    if (isLive(el, nowMs) && !els.some((w) => w.key === el.key)) ops.push({ kind: 'delete', el });
  }
  for (const el of els) {
    const h = have.find((x) => x.key === el.key);
    if (!h || !isLive(h, nowMs)) ops.push({ kind: 'add', el });
    else if (!satisfies(h.expiresMs, el.expiresMs, nowMs, rule)) ops.push({ kind: 'replace', el });
  }
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
