/**
 * A batch's plan made while it is written: the wants of a bulk batch are made on first use
 * ({@link LazyWants}) and planned a slice at a time ({@link OpStream}), so a driver that writes
 * a large batch in parts starts its first `nft` once the first part is planned, and plans (and
 * parses the bans of) the next parts while nft parses the ones before. The operations, their
 * order and their expiries are those of the whole plan made at once
 * (`spreadOps(planOps(...))`): a part is a block of that plan, taken from its end backwards.
 */
import type { ElementOp, PlanCursor, Want, WantList } from './reconcile.js';
import { SPREAD_FROM, spreadExpiry, type SetElement } from './set-element.js';

/** Wants planned at once before I/O is let through (a few ms of work). */
export const PLAN_SLICE = 8192;

/**
 * Wants made when first asked for, each once (`make` returns `null` for a ban that wants
 * nothing: expired, or skipped as invalid). A bulk batch's bans are then parsed part by part,
 * while nft works on the parts before, and a batch planned again after a refusal reuses them.
 */
export class LazyWants implements WantList {
  private readonly made: (Want | null | undefined)[];

  constructor(readonly length: number, private readonly make: (index: number) => Want | null) {
    this.made = new Array<Want | null | undefined>(length);
  }

  at(index: number): Want | null | undefined {
    if (index < 0 || index >= this.length) return undefined;
    let want = this.made[index];
    if (want === undefined) this.made[index] = want = this.make(index);
    return want;
  }
}

/**
 * The operations of a {@link PlanCursor}'s plan, planned as they are asked for and taken in
 * blocks from the end of the plan backwards (each block in plan order). Whether the expiries of
 * the batch are spread (at least {@link SPREAD_FROM} adds, see {@link spreadExpiry}) is settled
 * before the first block leaves: planning goes on until that many adds are found or the plan is
 * complete. {@link fill} before each {@link take}.
 */
export class OpStream {
  /** Operations planned, not yet taken, in reverse plan order. */
  private buf: ElementOp[] = [];
  private adds = 0;
  /** Whether the batch's expiries are spread; undefined = not known yet. */
  private spread: boolean | undefined;

  constructor(private readonly cursor: PlanCursor, private readonly nowMs: number, private readonly spreadMs: number) {
    if (spreadMs <= 0) this.spread = false;
  }

  /** Operations planned and not yet taken. */
  get buffered(): number {
    return this.buf.length;
  }

  /** True when every want has been planned (what is left is {@link buffered}). */
  get planned(): boolean {
    return this.cursor.remaining === 0;
  }

  /** Operations still to come if each want not yet planned makes one: a part size's basis. */
  get estimate(): number {
    return this.buf.length + this.cursor.remaining;
  }

  /**
   * Plans until at least `count` operations are buffered (or every want is planned) and the
   * spread is settled, a slice at a time with I/O let through before each slice.
   */
  async fill(count: number): Promise<void> {
    while (this.cursor.remaining > 0 && (this.buf.length < count || this.spread === undefined)) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.step();
    }
    this.settle();
  }

  /** {@link fill} at once, without letting I/O through. */
  fillNow(count: number): void {
    while (this.cursor.remaining > 0 && (this.buf.length < count || this.spread === undefined)) this.step();
    this.settle();
  }

  /**
   * Up to `max` operations in plan order: the block just before those taken so far (the last
   * operations first time), their expiries spread when the batch's are. After {@link fill}.
   */
  take(max: number): ElementOp[] {
    if (this.spread === undefined) this.fillNow(max);
    const end = Math.min(this.buf.length, max);
    const block = this.buf.slice(0, end).reverse();
    this.buf = end === this.buf.length ? [] : this.buf.slice(end);
    if (this.spread) {
      for (const op of block) {
        if (op.kind === 'delete') continue;
        const el = spreadExpiry(op.el, this.nowMs, this.spreadMs);
        // the plan's own operation objects: re-pointed, not copied (as spreadOps does)
        if (el !== op.el) (op as { el: SetElement }).el = el;
      }
    }
    return block;
  }

  /** Every operation not yet taken, in plan order, planned at once. */
  drain(): ElementOp[] {
    this.fillNow(Infinity);
    return this.take(Infinity);
  }

  private step(): void {
    const from = this.buf.length;
    this.cursor.step(this.buf, PLAN_SLICE);
    if (this.spread !== undefined) return;
    for (let i = from; i < this.buf.length; i++) if (this.buf[i]!.kind !== 'delete') this.adds++;
    if (this.adds >= SPREAD_FROM) this.spread = true;
  }

  private settle(): void {
    if (this.spread === undefined && this.cursor.remaining === 0) this.spread = this.adds >= SPREAD_FROM;
  }
}
