/**
 * The batch writer of {@link SetEnforcer} (set-enforcer.ts): plans element operations against
 * the local view, hands them to the driver, records in the view what the kernel committed, and,
 * when the kernel refuses a batch, plans it again against a fresh read and applies it by halves
 * down to single elements, so one bad element never blocks the others.
 */
import type { Clock, Logger } from '@fleetban/shared';
import type { ElementView } from './element-view.js';
import { OpStream } from './plan-stream.js';
import { PlanCursor, type ElementOp, type WantList } from './reconcile.js';
import { PartialWriteError, type SetDriver } from './set-driver.js';
import { kernelExpiry, type ExpiryRule } from './set-element.js';

/** Operations recorded at once before I/O is let through (a few ms of work). */
const RECORD_SLICE = 16_384;

/** Element operations a batch carried out. */
export interface BatchDone {
  added: number;
  removed: number;
}

/** Counters of a {@link BatchWriter} since its creation. */
export interface BatchCounts {
  /** Elements added (or replaced). */
  applied: number;
  /** Elements deleted. */
  removed: number;
  /** Elements the kernel refused, each counted once it stood alone. */
  failed: number;
}

/** Writes batches of a {@link SetEnforcer} through its driver; see the module comment. */
export class BatchWriter {
  readonly counts: BatchCounts = { applied: 0, removed: 0, failed: 0 };

  constructor(
    private readonly driver: SetDriver,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly rule: ExpiryRule,
  ) {}

  /**
   * Carries out `wants` against `view` in one batch, recording in `view` what was committed.
   * When the kernel rejects it, `refresh` reads the kernel back and returns the view to use
   * from then on (the old one may be stale); the batch is planned again against it and applied
   * by halves, down to single elements.
   */
  async run(wants: WantList, view: ElementView, refresh: () => Promise<ElementView>): Promise<BatchDone> {
    const done = { added: 0, removed: 0 };
    try {
      await this.writePlan(this.stream(wants, view), view, done);
      return done;
    } catch (err) {
      this.log.debug({ err, wants: wants.length }, 'batch rejected; retrying by halves');
    }
    const fresh = await refresh();
    await this.bisect(this.stream(wants, fresh).drain(), fresh, done);
    return done;
  }

  /** The operations for `wants` against `view`, planned as they are taken, the expiries of a bulk batch spread. */
  private stream(wants: WantList, view: ElementView): OpStream {
    const now = this.clock();
    return new OpStream(new PlanCursor(wants, view, now, this.rule), now, this.rule.spreadMs ?? 0);
  }

  /**
   * Writes the plan of `stream`: through the driver's {@link SetDriver.writePlan} when it has
   * one (it reports every committed part), else planned at once and written by {@link write}.
   */
  private async writePlan(stream: OpStream, view: ElementView, done: BatchDone): Promise<void> {
    if (!this.driver.writePlan) {
      const ops = stream.drain();
      if (ops.length > 0) await this.write(ops, view, done);
      return;
    }
    const writePlan = this.driver.writePlan.bind(this.driver);
    await this.recorded(stream.estimate, view, done, (onPart) => writePlan(stream, this.clock(), onPart));
  }

  private async bisect(ops: readonly ElementOp[], view: ElementView, done: BatchDone): Promise<void> {
    if (ops.length === 0) return;
    try {
      await this.write(ops, view, done);
    } catch (err) {
      if (err instanceof PartialWriteError) {
        // part of it was committed (and recorded): only the refused part is split further
        await this.bisect(err.rejected, view, done);
        return;
      }
      const [only] = ops;
      if (ops.length === 1 && only) {
        this.counts.failed++;
        this.log.warn({ err, target: only.el.key, op: only.kind }, `element rejected by ${this.driver.name}`);
        return;
      }
      const half = Math.ceil(ops.length / 2);
      await this.bisect(ops.slice(0, half), view, done);
      await this.bisect(ops.slice(half), view, done);
    }
  }

  /**
   * Writes `ops` and records what the kernel committed: each part as the driver reports it (a
   * split batch's first parts are recorded while the last are still written), else all of them
   * once written, or a {@link PartialWriteError}'s committed part; then rethrows any failure.
   */
  private async write(ops: readonly ElementOp[], view: ElementView, done: BatchDone): Promise<void> {
    if (!(await this.recorded(ops.length, view, done, (onPart) => this.driver.write(ops, this.clock(), onPart)))) this.commit(ops, view, done);
  }

  /**
   * Runs a driver's write (`run`, up to `size` operations) recording each part it reports as
   * committed, or a {@link PartialWriteError}'s committed part when it reported none, then
   * rethrows any failure; true when parts were reported.
   */
  private async recorded(size: number, view: ElementView, done: BatchDone, run: (onPart: (committed: readonly ElementOp[]) => Promise<void>) => Promise<void>): Promise<boolean> {
    let reported = false;
    view.reserve(view.size + size);
    try {
      await run((part) => {
        reported = true;
        return this.record(part, view, done);
      });
    } catch (err) {
      if (err instanceof PartialWriteError && !reported) this.commit(err.committed, view, done);
      throw err;
    }
    return reported;
  }

  /**
   * {@link commit} in slices of {@link RECORD_SLICE}, letting I/O through between them: a part of
   * a split batch is recorded while other nft processes read their text from this process.
   */
  private async record(ops: readonly ElementOp[], view: ElementView, done: BatchDone): Promise<void> {
    for (let at = 0; at < ops.length; at += RECORD_SLICE) {
      if (at > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      this.commit(ops, view, done, at, Math.min(ops.length, at + RECORD_SLICE));
    }
  }

  /** Records `ops` (from `start` to `end`) in `view` and the counters. */
  private commit(ops: readonly ElementOp[], view: ElementView, done: BatchDone, start = 0, end = ops.length): void {
    const now = this.clock();
    for (let i = start; i < end; i++) {
      const op = ops[i]!;
      if (op.kind === 'delete') {
        view.delete(op.el.key);
        done.removed++;
        this.counts.removed++;
      } else {
        view.set(kernelExpiry(op.el, now, this.rule.maxTimeoutS));
        done.added++;
        this.counts.applied++;
      }
    }
  }
}
