/**
 * The part every set-based backend shares: normalising bans into set elements, batching,
 * splitting a rejected batch until the bad elements are isolated, reconciling with the kernel,
 * repairing drifted structure and counting drift. A backend is a {@link SetDriver} (set-driver.ts):
 * it knows how to read, build and write its kernel objects (nftables.ts, iptables.ts), nothing more.
 */
import type { Clock, Logger } from '@fleetban/shared';
import type { BanEntry, Enforcer, EnforcerReport, ReconcileOptions, StopMode } from './enforcer.js';
import type { JailScopes } from './port-scope.js';
import { ElementView } from './element-view.js';
import { PartialWriteError, type KernelState, type SetDriver } from './set-driver.js';
import { diffElements, planOps, settled, type ElementOp, type Intent } from './reconcile.js';
import { isLive, kernelExpiry, spreadOps, toSetElements, unbanTarget, type ExpiryRule, type SetElement } from './set-element.js';

/** Options of {@link SetEnforcer}. */
export interface SetEnforcerOptions {
  /** Time source (ms since the epoch). */
  clock: Clock;
  logger: Logger;
  /** Port scopes by jail (a ban of a jail absent here closes the whole address); default none. */
  scopes?: JailScopes;
  /** Expiries this close (ms) count as equal: no re-add, no drift; default 5000. */
  toleranceMs?: number;
  /** With a driver that can peek: read every element back at least every N reconciles; default 10. */
  fullReadEvery?: number;
  /** ... and at least every this many ms; default 300000. */
  fullReadMs?: number;
  /**
   * A batch of at least {@link SPREAD_FROM} adds spreads their expiries over up to this many ms
   * (a tenth of the ban at most, only ever later); default 60000; 0 = never.
   */
  expirySpreadMs?: number;
}

/** {@link Enforcer} over a {@link SetDriver}. */
export class SetEnforcer implements Enforcer {
  readonly name: string;
  protected readonly log: Logger;
  private readonly clock: Clock;
  private readonly scopes: JailScopes;
  private readonly rule: ExpiryRule;
  /** Live elements as last written or read, by key (kernel expiries). */
  private view = new ElementView();
  /** Elements of the bans seen, by target as given, with the reconcile that last listed them. */
  private memo = new Map<string, { readonly expiresMs: number; readonly jail: string | undefined; readonly els: SetElement[]; epoch: number }>();
  private epoch = 0;
  private readonly counts = { applied: 0, removed: 0, failed: 0, drift: 0, repairs: 0, reconciles: 0 };
  private queue: Promise<unknown> = Promise.resolve();
  /** Fingerprint of the kernel objects at the last full read; undefined = read everything next time. */
  private fingerprint: string | undefined;
  private lastFullMs = 0;
  private sinceFull = 0;
  private readonly fullReadEvery: number;
  private readonly fullReadMs: number;
  /** Full kernel reads (every element listed) since creation. */
  fullReads = 0;

  constructor(private readonly driver: SetDriver, opts: SetEnforcerOptions) {
    this.name = driver.name;
    this.clock = opts.clock;
    this.log = opts.logger;
    this.scopes = opts.scopes ?? new Map();
    this.rule = { toleranceMs: opts.toleranceMs ?? 5000, maxTimeoutS: driver.maxTimeoutS, spreadMs: opts.expirySpreadMs ?? 60_000 };
    this.fullReadEvery = opts.fullReadEvery ?? 10;
    this.fullReadMs = opts.fullReadMs ?? 300_000;
  }

  start(): Promise<void> {
    return this.serial(async () => {
      const state = await this.fullRead();
      if (state.structure === 'wrong') this.log.warn({ problems: state.problems }, 'objects of another kind; rebuilding them');
      await this.driver.ensure(state);
      const kept = state.structure === 'wrong' ? (await this.fullRead()).elements : state.elements;
      // ensure rewrote the rules; a missing table got new handles: the next reconcile reads all
      if (state.structure !== 'ok') this.fingerprint = undefined;
      this.view = new ElementView(kept);
      this.log.info({ elements: this.view.size }, `${this.name} structure ready`);
    });
  }

  apply(bans: readonly BanEntry[], unbans: readonly string[]): Promise<void> {
    return this.serial(async () => {
      const now = this.clock();
      const intents: Intent[] = [];
      for (const target of unbans) {
        const t = this.parse(target, () => unbanTarget(target));
        if (t !== null) intents.push({ target: t, els: [] });
      }
      for (const ban of bans) {
        // inline, not through parse(): no closure per ban of a bulk batch
        let els: SetElement[];
        try {
          els = this.elementsOf(ban, now);
        } catch (err) {
          this.skip(ban.target, err);
          continue;
        }
        // an already expired ban is skipped, not turned into an unban
        if (els[0]) intents.push({ target: els[0].target, els });
      }
      const done = await this.run(intents);
      this.log.debug(done, 'batch applied');
    });
  }

  reconcile(all: readonly BanEntry[], opts: ReconcileOptions = {}): Promise<{ added: number; removed: number }> {
    return this.serial(async () => {
      this.counts.reconciles++;
      const current = !opts.full && await this.unchanged() ? null : await this.repair(await this.fullRead());
      const now = this.clock();
      if (current) this.compare(current, now);
      if (!current) this.view.sweep(now);
      // one intent per wanted target, and an unban for every other target the sets hold
      const intents: Intent[] = [];
      const wanted = new Set<string>();
      const epoch = ++this.epoch;
      for (const ban of all) {
        const els = this.parse(ban.target, () => this.elementsOf(ban, now, true));
        if (!els?.[0]) continue;
        intents.push({ target: els[0].target, els });
        wanted.add(els[0].target);
      }
      for (const [target, m] of this.memo) if (m.epoch !== epoch) this.memo.delete(target); // no longer listed
      for (const target of this.view.targets()) if (!wanted.has(target)) intents.push({ target, els: [] });
      const done = await this.run(intents);
      this.log.debug({ ...done, wanted: wanted.size, fullRead: current !== null }, 'reconciled');
      return done;
    });
  }

  /**
   * True when the driver's cheap look finds the structure and fingerprint of the last full read
   * and no full read is due: the local view stands for the kernel.
   */
  private async unchanged(): Promise<boolean> {
    if (!this.driver.peek || this.fingerprint === undefined) return false;
    if (++this.sinceFull >= this.fullReadEvery || this.clock() - this.lastFullMs >= this.fullReadMs) return false;
    const peek = await this.driver.peek();
    return peek.structure === 'ok' && peek.fingerprint === this.fingerprint;
  }

  /** Reads every element; remembers the fingerprint and when. */
  private async fullRead(): Promise<KernelState> {
    const state = await this.driver.read(this.clock());
    this.fullReads++;
    this.fingerprint = state.structure === 'ok' ? state.fingerprint : undefined;
    this.lastFullMs = this.clock();
    this.sinceFull = 0;
    return state;
  }

  /** Counts and logs the drift between a full read and the local view, then adopts the read. */
  private compare(current: readonly SetElement[], now: number): void {
    const seen = diffElements(
      settled(current, now, this.rule.toleranceMs),
      settled(this.view.values(), now, this.rule.toleranceMs),
      this.rule.toleranceMs,
    );
    const drift = seen.missing.length + seen.extra.length + seen.changed.length;
    this.counts.drift += drift;
    if (drift > 0) {
      const counts = { missing: seen.missing.length, extra: seen.extra.length, changed: seen.changed.length, drift: this.counts.drift };
      this.log.warn(counts, 'set elements differed from what fleetban wrote; repairing');
    }
    this.view = new ElementView(current);
  }

  list(): Promise<string[]> {
    return this.serial(async () => (await this.fullRead()).elements.map((el) => el.key));
  }

  report(): EnforcerReport {
    const now = this.clock();
    const elements = [...this.view.values()].filter((el) => isLive(el, now)).length;
    return { backend: this.name, elements, ...this.counts };
  }

  stop(mode: StopMode): Promise<void> {
    return this.serial(async () => {
      if (mode === 'flush') {
        await this.driver.remove();
        this.view = new ElementView();
        this.fingerprint = undefined;
      }
      await this.driver.close?.();
      this.log.info({ mode }, `${this.name} enforcer stopped`);
    });
  }

  /**
   * The elements of `ban`, from the memo when the same target came with the same expiry and
   * jail before (an unchanged list of 100,000 is then not parsed again); marked as seen now.
   * Reconcile remembers what it parses (`remember`); a batch only reads the memo.
   */
  private elementsOf(ban: BanEntry, now: number, remember = false): SetElement[] {
    if (ban.expiresMs !== 0 && ban.expiresMs <= now) return [];
    const seen = this.memo.get(ban.target);
    if (seen && seen.expiresMs === ban.expiresMs && seen.jail === ban.jail) {
      seen.epoch = this.epoch;
      return seen.els;
    }
    const scope = ban.jail === undefined ? null : (this.scopes.get(ban.jail) ?? null);
    const els = toSetElements(ban, scope, now, this.driver.singlePorts);
    if (remember) this.memo.set(ban.target, { expiresMs: ban.expiresMs, jail: ban.jail, els, epoch: this.epoch });
    return els;
  }

  /** Runs `fn` after every earlier operation, so batches never interleave. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Normalises one target; an invalid one is counted and logged, and yields `null`. */
  private parse<T>(target: string, fn: () => T): T | null {
    try {
      return fn();
    } catch (err) {
      this.skip(target, err);
      return null;
    }
  }

  /** Counts and logs a target that could not be normalised. */
  private skip(target: string, err: unknown): void {
    this.counts.failed++;
    this.log.warn({ err, target }, 'invalid ban target skipped');
  }

  /**
   * Carries out `intents` against the local view in one transaction. When the kernel rejects
   * it, the view is refreshed from the kernel (it may be stale), the plan is made again and
   * applied by halves, down to single elements.
   */
  private async run(intents: readonly Intent[]): Promise<{ added: number; removed: number }> {
    const done = { added: 0, removed: 0 };
    const ops = this.plan(intents);
    if (ops.length === 0) return done;
    try {
      await this.write(ops, done);
      return done;
    } catch (err) {
      this.log.debug({ err, ops: ops.length }, 'batch rejected; retrying by halves');
    }
    const current = await this.repair(await this.fullRead());
    this.view = new ElementView(current);
    await this.bisect(this.plan(intents), done);
    return done;
  }

  /** The operations for `intents` against the view, the expiries of a bulk batch spread. */
  private plan(intents: readonly Intent[]): ElementOp[] {
    const now = this.clock();
    return spreadOps(planOps(intents, this.view, now, this.rule), now, this.rule.spreadMs ?? 0);
  }

  private async bisect(ops: readonly ElementOp[], done: { added: number; removed: number }): Promise<void> {
    if (ops.length === 0) return;
    try {
      await this.write(ops, done);
    } catch (err) {
      if (err instanceof PartialWriteError) {
        // part of it was committed (and recorded): only the refused part is split further
        await this.bisect(err.rejected, done);
        return;
      }
      const [only] = ops;
      if (ops.length === 1 && only) {
        this.counts.failed++;
        this.log.warn({ err, target: only.el.key, op: only.kind }, `element rejected by ${this.name}`);
        return;
      }
      const half = Math.ceil(ops.length / 2);
      await this.bisect(ops.slice(0, half), done);
      await this.bisect(ops.slice(half), done);
    }
  }

  /**
   * Writes `ops` and records what the kernel committed: each part as the driver reports it (a
   * split batch's first parts are recorded while the last are still written), else all of them
   * once written, or a {@link PartialWriteError}'s committed part; then rethrows any failure.
   */
  private async write(ops: readonly ElementOp[], done: { added: number; removed: number }): Promise<void> {
    let reported = false;
    try {
      await this.driver.write(ops, this.clock(), (part) => {
        reported = true;
        this.commit(part, done);
      });
    } catch (err) {
      if (err instanceof PartialWriteError && !reported) this.commit(err.committed, done);
      throw err;
    }
    if (!reported) this.commit(ops, done);
  }

  private commit(ops: readonly ElementOp[], done: { added: number; removed: number }): void {
    const now = this.clock();
    for (const op of ops) {
      if (op.kind === 'delete') {
        this.view.delete(op.el.key);
        done.removed++;
        this.counts.removed++;
      } else {
        this.view.set(kernelExpiry(op.el, now, this.rule.maxTimeoutS));
        done.added++;
        this.counts.applied++;
      }
    }
  }

  /**
   * Repairs a missing, incomplete or wrong structure (see {@link SetDriver.ensure}); counts one
   * drift and one repair. Returns the elements left in the sets.
   */
  private async repair(state: KernelState): Promise<SetElement[]> {
    if (state.structure === 'ok') return state.elements;
    this.counts.drift++;
    this.counts.repairs++;
    this.log.warn({ structure: state.structure, problems: state.problems, drift: this.counts.drift }, `${this.name} structure drifted; repairing it`);
    await this.driver.ensure(state);
    const elements = state.structure === 'wrong' ? (await this.fullRead()).elements : state.elements;
    this.fingerprint = undefined; // rebuilt objects have new handles: read everything next time
    return elements;
  }
}
