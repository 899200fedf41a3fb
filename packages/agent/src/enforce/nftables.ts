/**
 * The nftables backend: one `inet` table owned by fleetban, four interval sets with kernel
 * timeouts (ban4, ban6 for whole addresses; ban4_port, ban6_port for port-scoped bans keyed by
 * address . protocol . port; hash sets for single addresses and ports, interval sets for networks
 * and ranges) and two base chains (prerouting at -300, input at -10). Every change is one
 * transaction: a line to a long-lived `nft -i` session (nft-session.ts) when the runner can
 * spawn one and the batch is small, else `nft -f -`; a bulk batch is several (see
 * {@link NftDriver.write}). Reads are `nft -j`; a cheap look at the
 * structure (`nft -j -t list ruleset`, no elements) lets a reconcile skip the full read. Batching,
 * bisecting and reconcile are in set-enforcer.ts.
 */
import type { BlockType, Clock, Logger } from '@fleetban/shared';
import type { Runner } from './exec.js';
import { parseTable, type NftTable } from './nft-json.js';
import { NftSession } from './nft-session.js';
import { NFT_CHAINS, NFT_RULES, NFT_SETS, checkTableName, dropScript, elementChunks, elementScript, rebuildScript, structureScript } from './nft-script.js';
import { PLAN_SLICE, type OpStream } from './plan-stream.js';
import type { JailScopes } from './port-scope.js';
import type { ElementOp } from './reconcile.js';
import { DEFAULT_PART_OPS, partSize, settleAtMost, settleEach, splitOps } from './batch-parts.js';
import { PartialWriteError, type KernelPeek, type KernelState, type SetDriver } from './set-driver.js';
import { SetEnforcer } from './set-enforcer.js';
import { MAX_TIMEOUT_S } from './set-element.js';

/** Options of {@link NftablesEnforcer}. */
export interface NftablesOptions {
  /** Runs nft (see exec.ts). */
  runner: Runner;
  /** Time source (ms since the epoch). */
  clock: Clock;
  logger: Logger;
  /** Name of fleetban's `inet` table; default `fleetban`. */
  table?: string;
  /** The nft binary; default `nft` (found on PATH). */
  nft?: string;
  /** `drop` (default) or `reject` banned packets. */
  blockType?: BlockType;
  /** Port scopes by jail; default none (every ban closes the whole address). */
  scopes?: JailScopes;
  /** Expiries this close (ms) count as equal: no re-add, no drift; default 5000. */
  toleranceMs?: number;
  /** Batches up to this many characters of nft text go through the `nft -i` session; default 32768. */
  sessionMaxChars?: number;
  /** A reconcile reads every element back at least every this many reconciles; default 10. */
  fullReadEvery?: number;
  /** ... and at least every this many ms; default 300000 (5 min). */
  fullReadMs?: number;
  /** Bulk adds spread their expiries over up to this many ms (only ever later); default 60000. */
  expirySpreadMs?: number;
  /**
   * A batch of at least this many element operations is split into parts, each one transaction
   * of its own written by an `nft -f -` process (see {@link splitOps}); default 20000; 0 = never
   * split (every batch one transaction).
   */
  splitFrom?: number;
  /** Element operations in one part of a split batch, at most; default 125000. */
  partOps?: number;
  /** `nft -f -` processes of one split batch running at once, at most; default 2. */
  writers?: number;
}

/**
 * Default of {@link NftablesOptions.splitFrom}. nft parses a batch on one CPU: 100,000 bans in
 * one `apply` on a quiet machine, 5 runs each: median 725 ms as one transaction, 510 ms in two
 * halves. A split batch's first part is what was planned when the split was decided, so this is
 * also how much is planned before the first nft starts: 20,000 rather than 50,000 lets it start
 * sooner (100,000 bans, 10 runs alternated on a shared 2-CPU machine, load 4.5 to 4.7: median
 * 502 ms in four parts from 20,000, 678 ms in two halves from 50,000). A batch of that size is a
 * bulk import (a start, a reconcile that refills a flushed set), never the stream of single bans.
 */
export const DEFAULT_SPLIT_FROM = 20_000;

export { DEFAULT_PART_OPS } from './batch-parts.js';

/** Default of {@link NftablesOptions.writers}: nft processes of one batch at once. */
export const DEFAULT_WRITERS = 2;

/** Default of {@link NftablesOptions.sessionMaxChars}: about 900 elements. */
export const DEFAULT_SESSION_MAX_CHARS = 32_768;

/** Default name of fleetban's table. */
export const DEFAULT_NFT_TABLE = 'fleetban';

/** {@link SetDriver} for nftables. */
export class NftDriver implements SetDriver {
  readonly name = 'nftables';
  readonly maxTimeoutS = MAX_TIMEOUT_S;
  readonly singlePorts = false;
  /** The `nft -i` session, when the runner can spawn one. */
  readonly session: NftSession | null;

  constructor(
    private readonly runner: Runner,
    readonly table: string,
    private readonly nft: string,
    private readonly verdict: BlockType,
    private readonly sessionMaxChars = DEFAULT_SESSION_MAX_CHARS,
    private readonly splitFrom = DEFAULT_SPLIT_FROM,
    private readonly partOps = DEFAULT_PART_OPS,
    private readonly writers = DEFAULT_WRITERS,
  ) {
    this.session = runner.spawn ? new NftSession(runner.spawn, nft) : null;
  }

  async peek(): Promise<KernelPeek> {
    // -t (terse) leaves the elements out: milliseconds, where a listing of 100,000 takes seconds
    const { stdout } = await this.runner(this.nft, ['-j', '-t', 'list', 'ruleset']);
    const table = parseTable(stdout, 0, { family: 'inet', table: this.table });
    if (table.handle === null) return { structure: 'missing', problems: [`table inet ${this.table} missing`], fingerprint: '' };
    return { ...checkStructure(table, this.verdict), fingerprint: fingerprint(table) };
  }

  async read(nowMs: number): Promise<KernelState> {
    const top = await this.peek();
    if (top.structure === 'missing') return { ...top, elements: [] };
    const { stdout } = await this.runner(this.nft, ['-j', 'list', 'table', 'inet', this.table]);
    const table = parseTable(stdout, nowMs);
    const elements = NFT_SETS.flatMap((s) => table.sets.get(s.name)?.elements ?? []);
    return { ...checkStructure(table, this.verdict), elements, fingerprint: fingerprint(table) };
  }

  async ensure(state: KernelState): Promise<void> {
    await this.batch(state.structure === 'wrong' ? rebuildScript(this.table, this.verdict) : structureScript(this.table, this.verdict));
  }

  /**
   * One transaction, or, from {@link NftablesOptions.splitFrom} operations, parts written by up
   * to {@link NftablesOptions.writers} processes at once, each part's text made only when its
   * turn comes (the text of the next part is written while nft parses the one before). Each part
   * is atomic, the batch is not: when one part fails, others may have been committed. Each
   * committed part goes to `onPart` as soon as its lane has started the next process (the
   * enforcer records it while nft works on the next, in slices that let the processes' input
   * through); the write settles once every part is recorded. That is safe here: the parts hold
   * different elements (a plan has one operation per element key), and a failed write makes the
   * enforcer read the kernel back and plan again (batch-writer.ts), so the elements of a
   * committed part are found and not written twice.
   */
  async write(ops: readonly ElementOp[], nowMs: number, onPart?: (committed: readonly ElementOp[]) => void | Promise<void>): Promise<void> {
    const parts = splitOps(ops, this.splitFrom, this.partOps);
    if (parts.length === 1) return this.batch(elementScript(this.table, ops, nowMs));
    // a committed part is handed on once the lane's next process has started
    const done = await settleAtMost(parts.map((part) => () => this.bulk(part, nowMs)), this.writers, async (i, result) => {
      if (result.status === 'fulfilled') await onPart?.(parts[i]!);
    });
    this.settleParts(parts, done);
  }

  /** Throws what the parts' outcomes call for: nothing, the error when all failed, else {@link PartialWriteError}. */
  private settleParts(parts: readonly (readonly ElementOp[])[], done: readonly PromiseSettledResult<unknown>[]): void {
    const failed = done.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failed.length === 0) return;
    if (failed.length === done.length) throw failed[0];
    const committed = parts.filter((_, i) => done[i]!.status === 'fulfilled').flat();
    const rejected = parts.filter((_, i) => done[i]!.status === 'rejected').flat();
    throw new PartialWriteError(committed, rejected, { cause: failed[0] });
  }

  /**
   * {@link write} of a plan made as it is written: the split is decided once `splitFrom`
   * operations are planned (fewer in all: one transaction, as {@link write}), and those are the
   * first part, so the first nft starts at once. The next parts, of the size {@link splitOps}
   * gives the estimated total, are planned up to `writers` ahead while the lanes' nft processes
   * parse. Parts are blocks of the plan from its end (see {@link OpStream}); every committed
   * operation goes to `onPart`, the single transaction's too.
   */
  async writePlan(plan: OpStream, nowMs: number, onPart?: (committed: readonly ElementOp[]) => void | Promise<void>): Promise<void> {
    const from = Math.max(2, this.splitFrom);
    // a batch of one slice (a single ban) is planned at once: no turn of the event loop before its write
    if (plan.estimate <= PLAN_SLICE) plan.fillNow(Infinity);
    else await plan.fill(this.splitFrom > 0 ? from : Infinity);
    if (this.splitFrom <= 0 || (plan.planned && plan.buffered < from)) {
      const ops = plan.take(Infinity);
      if (ops.length === 0) return;
      await this.batch(elementScript(this.table, ops, nowMs));
      await onPart?.(ops);
      return;
    }
    const size = partSize(plan.estimate, this.partOps);
    const parts: (readonly ElementOp[])[] = [];
    // the first part is what the split decision planned (nft starts at once), then parts of `size`
    let first = Math.min(size, plan.buffered);
    const cut = async (): Promise<ElementOp[]> => {
      const n = first > 0 ? first : size;
      first = 0;
      await plan.fill(n);
      return plan.take(n);
    };
    // up to `writers` parts planned ahead, one after the other: a lane that frees finds its next part ready
    const ready: Promise<ElementOp[]>[] = [];
    let last: Promise<unknown> = Promise.resolve();
    const ahead = (): void => {
      const part = last.then(cut);
      last = part;
      ready.push(part);
    };
    for (let i = 0; i < Math.max(1, this.writers); i++) ahead();
    const next = async (): Promise<(() => Promise<void>) | null> => {
      const part = await (ready.shift() ?? Promise.resolve([]));
      if (part.length === 0) return null;
      ahead();
      parts.push(part);
      return () => this.bulk(part, nowMs);
    };
    const done = await settleEach(next, this.writers, async (i, result) => {
      if (result.status === 'fulfilled') await onPart?.(parts[i]!);
    });
    this.settleParts(parts, done);
  }

  async remove(): Promise<void> {
    // a process of its own, not the session: at a stop, a service manager may have signalled the
    // session's child together with the agent (systemd's default KillMode=control-group)
    await this.runner(this.nft, ['-f', '-'], dropScript(this.table));
  }

  async close(): Promise<void> {
    await this.session?.close();
  }

  /** One part of a split batch by `nft -f -`, its text streamed as nft reads it when the runner can. */
  private async bulk(ops: readonly ElementOp[], nowMs: number): Promise<void> {
    if (!this.runner.stream) return this.batch(elementScript(this.table, ops, nowMs));
    await this.runner.stream(this.nft, ['-f', '-'], elementChunks(this.table, ops, nowMs));
  }

  private async batch(script: string): Promise<void> {
    if (script === '') return;
    // nft -i reads a long line slowly (10,000 elements: ~0.6 s, ~0.1 s with -f): bulk goes to -f
    if (this.session && script.length <= this.sessionMaxChars) await this.session.run(script);
    else await this.runner(this.nft, ['-f', '-'], script);
  }
}

/** Table and set handles: they change when the table or a set is deleted and created again. */
function fingerprint(table: NftTable): string {
  return [table.handle, ...NFT_SETS.map((s) => table.sets.get(s.name)?.handle)].join(':');
}

/** {@link Enforcer} backed by nftables. */
export class NftablesEnforcer extends SetEnforcer {
  constructor(opts: NftablesOptions) {
    const table = checkTableName(opts.table ?? DEFAULT_NFT_TABLE);
    const driver = new NftDriver(opts.runner, table, opts.nft ?? 'nft', opts.blockType ?? 'drop', opts.sessionMaxChars, opts.splitFrom, opts.partOps, opts.writers);
    super(driver, {
      clock: opts.clock,
      logger: opts.logger.child({ enforcer: 'nftables', table }),
      ...(opts.scopes ? { scopes: opts.scopes } : {}),
      ...(opts.toleranceMs !== undefined ? { toleranceMs: opts.toleranceMs } : {}),
      ...(opts.fullReadEvery !== undefined ? { fullReadEvery: opts.fullReadEvery } : {}),
      ...(opts.fullReadMs !== undefined ? { fullReadMs: opts.fullReadMs } : {}),
      ...(opts.expirySpreadMs !== undefined ? { expirySpreadMs: opts.expirySpreadMs } : {}),
    });
  }
}

/** Compares a listed table with the one {@link structureScript} creates. */
function checkStructure(table: NftTable, verdict: BlockType): Pick<KernelState, 'structure' | 'problems'> {
  const wrong: string[] = [];
  const missing: string[] = [];
  for (const s of NFT_SETS) {
    const set = table.sets.get(s.name);
    if (!set) missing.push(`set ${s.name} missing`);
    else if (set.type !== s.type.join(' . ') || set.flags.includes('interval') !== s.interval || !set.flags.includes('timeout')) {
      wrong.push(`set ${s.name} is ${set.type} [${set.flags.join(',')}]`);
    }
  }
  for (const c of NFT_CHAINS) {
    const chain = table.chains.get(c.name);
    if (!chain) {
      missing.push(`chain ${c.name} missing`);
      continue;
    }
    if (chain.type !== 'filter' || chain.hook !== c.hook || chain.prio !== c.prio) {
      wrong.push(`chain ${c.name} is ${chain.type ?? '-'} hook ${chain.hook ?? '-'} priority ${chain.prio ?? '-'}`);
      continue;
    }
    const rules = table.rules.filter((r) => r.chain === c.name);
    const want = NFT_RULES.filter((r) => r.chain === c.name);
    const exact = rules.length === want.length && want.every((w, i) => {
      const r = rules[i];
      return r && r.protocol === w.protocol && r.set === w.set && r.verdict === verdict && r.counter
        && r.rest === (w.port ? 'meta l4proto . th dport' : '');
    });
    if (!exact) missing.push(`chain ${c.name} has ${rules.length} rules, not fleetban's ${want.length}`);
  }
  if (wrong.length > 0) return { structure: 'wrong', problems: [...wrong, ...missing] };
  if (missing.length > 0) return { structure: 'incomplete', problems: missing };
  return { structure: 'ok', problems: [] };
}
