/**
 * The part every set-based backend shares: normalising bans into set elements, reconciling with
 * the kernel, repairing drifted structure and counting drift; batches are planned, written and
 * split when rejected by the {@link BatchWriter} (batch-writer.ts). A backend is a
 * {@link SetDriver} (set-driver.ts): it knows how to read, build and write its kernel objects
 * (nftables.ts, iptables.ts), nothing more.
 */
import type { Clock, Logger } from '@fleetban/shared';
import type { BanEntry, Enforcer, EnforcerReport, ReconcileOptions, StopMode } from './enforcer.js';
import type { JailScopes } from './port-scope.js';
import { BatchWriter } from './batch-writer.js';
import { ElementView } from './element-view.js';
import type { KernelState, SetDriver } from './set-driver.js';
import { LazyWants } from './plan-stream.js';
import { diffElements, settled, type Want, type WantList } from './reconcile.js';
import { isLive, toSetElement, toSetElements, unbanTarget, type ExpiryRule, type SetElement } from './set-element.js';

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
  /** What the bans seen want, by target as given, with the reconcile that last listed them. */
  private memo = new Map<string, { readonly expiresMs: number; readonly jail: string | undefined; readonly want: Want; epoch: number }>();
  private epoch = 0;
  /** Invalid targets skipped; drift, repairs and reconciles (the writer counts the rest). */
  private readonly counts = { invalid: 0, drift: 0, repairs: 0, reconciles: 0 };
  private readonly writer: BatchWriter;
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
    this.writer = new BatchWriter(driver, this.clock, this.log, this.rule);
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
      // unbans first, then bans (a target in both ends up banned); each made when first planned,
      // so a bulk batch's first part is written while its other bans are parsed
      const wants = new LazyWants(unbans.length + bans.length, (i) => {
        if (i < unbans.length) {
          const target = unbans[i]!;
          const t = this.parse(target, () => unbanTarget(target));
          return t === null ? null : { target: t, els: [] };
        }
        const ban = bans[i - unbans.length]!;
        // inline, not through parse(): no closure per ban of a bulk batch
        try {
          // an already expired ban is skipped (null), not turned into an unban
          return this.wantOf(ban, now);
        } catch (err) {
          this.skip(ban.target, err);
          return null;
        }
      });
      const done = await this.run(wants);
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
      const wants: Want[] = [];
      const wanted = new Set<string>();
      const epoch = ++this.epoch;
      for (const ban of all) {
        const want = this.parse(ban.target, () => this.wantOf(ban, now, true));
        if (!want) continue;
        wants.push(want);
        wanted.add(want.target);
      }
      for (const [target, m] of this.memo) if (m.epoch !== epoch) this.memo.delete(target); // no longer listed
      for (const target of this.view.targets()) if (!wanted.has(target)) wants.push({ target, els: [] });
      const done = await this.run(wants);
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
    let elements = 0;
    for (const el of this.view.values()) if (isLive(el, now)) elements++;
    const { applied, removed, failed } = this.writer.counts;
    const { invalid, ...rest } = this.counts;
    return { backend: this.name, elements, applied, removed, failed: failed + invalid, ...rest };
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
   * What `ban` wants (its one element, or its elements as an intent; `null` once expired), from
   * the memo when the same target came with the same expiry and jail before (an unchanged list
   * of 100,000 is then not parsed again); marked as seen now. Reconcile remembers what it parses
   * (`remember`); a batch only reads the memo.
   */
  private wantOf(ban: BanEntry, now: number, remember = false): Want | null {
    if (ban.expiresMs !== 0 && ban.expiresMs <= now) return null;
    const seen = this.memo.size === 0 ? undefined : this.memo.get(ban.target);
    if (seen && seen.expiresMs === ban.expiresMs && seen.jail === ban.jail) {
      seen.epoch = this.epoch;
      return seen.want;
    }
    const scope = ban.jail === undefined ? null : (this.scopes.get(ban.jail) ?? null);
    let want: Want | null;
    if (scope === null) {
      want = toSetElement(ban, now);
    } else {
      const els = toSetElements(ban, scope, now, this.driver.singlePorts);
      want = els[0] ? { target: els[0].target, els } : null;
    }
    if (remember && want !== null) this.memo.set(ban.target, { expiresMs: ban.expiresMs, jail: ban.jail, want, epoch: this.epoch });
    return want;
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
    this.counts.invalid++;
    this.log.warn({ err, target }, 'invalid ban target skipped');
  }

  /**
   * Carries out `wants` in one batch (see {@link BatchWriter.run}); when the kernel rejects it,
   * the view is read back from the kernel (after a repair) before the batch is split.
   */
  private run(wants: WantList): Promise<{ added: number; removed: number }> {
    return this.writer.run(wants, this.view, async () => {
      this.view = new ElementView(await this.repair(await this.fullRead()));
      return this.view;
    });
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
