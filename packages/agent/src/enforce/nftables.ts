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
import type { JailScopes } from './port-scope.js';
import type { ElementOp } from './reconcile.js';
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
   * of its own written by an `nft -f -` process (see {@link splitOps}); default 50000; 0 = never
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
 * one `apply` on a quiet machine, 5 runs each: median 725 ms as one transaction (from 200,000),
 * 510 ms in two halves (from 50,000). A batch of that size is a bulk import (a start, a reconcile
 * that refills a flushed set), never the stream of single bans.
 */
export const DEFAULT_SPLIT_FROM = 50_000;

/**
 * Default of {@link NftablesOptions.partOps}. Of nft's time for 1,000,000 elements (about 6.5
 * CPU-seconds), some 2 s are the kernel's, under one lock per network namespace: two halves
 * parse at once and then commit one after the other. Parts of 125,000 written two at a time
 * overlap the kernel's commit of one part with nft's parsing of the next (raw `nft -f` on a shared
 * 2-CPU machine, load 3 to 7, runs alternated: 8 parts 2.9, 3.3, 3.7 s; two halves 4.4, 6.1, 6.6 s).
 */
export const DEFAULT_PART_OPS = 125_000;

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
    const failed = done.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failed.length === 0) return;
    if (failed.length === done.length) throw failed[0];
    const committed = parts.filter((_, i) => done[i]!.status === 'fulfilled').flat();
    const rejected = parts.filter((_, i) => done[i]!.status === 'rejected').flat();
    throw new PartialWriteError(committed, rejected, { cause: failed[0] });
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

/**
 * `ops` as one part, or, with at least `splitFrom` of them (and `splitFrom` > 0), as parts of
 * equal size, in order: two at least, more when a part would exceed `partOps`.
 */
export function splitOps(ops: readonly ElementOp[], splitFrom: number, partOps = DEFAULT_PART_OPS): (readonly ElementOp[])[] {
  if (splitFrom <= 0 || ops.length < Math.max(2, splitFrom)) return [ops];
  const count = Math.max(2, Math.ceil(ops.length / Math.max(1, partOps)));
  const size = Math.ceil(ops.length / count);
  const parts: (readonly ElementOp[])[] = [];
  for (let at = 0; at < ops.length; at += size) parts.push(ops.slice(at, at + size));
  return parts;
}

/**
 * Runs the `tasks` with at most `limit` of them at once, in order, and settles each like
 * `Promise.allSettled`. A task is started only when a slot frees: its work (a part's text) is
 * not done, nor held in memory, before then. `after`, when given, gets each task's result once
 * the same lane has started its next task (or has none left), so its work overlaps that task;
 * everything settles only when every `after` has.
 */
export async function settleAtMost<T>(
  tasks: readonly (() => Promise<T>)[],
  limit: number,
  after?: (index: number, result: PromiseSettledResult<T>) => Promise<void>,
): Promise<PromiseSettledResult<T>[]> {
  const out = new Array<PromiseSettledResult<T>>(tasks.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    let finished = -1; // settled, not yet handed to `after`
    while (next < tasks.length) {
      const i = next++;
      const running = settle(tasks[i]!);
      if (finished >= 0) await after?.(finished, out[finished]!);
      out[i] = await running;
      finished = i;
    }
    if (finished >= 0) await after?.(finished, out[finished]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, lane));
  return out;
}

/** Starts `task` and settles its outcome, a synchronous throw included. */
async function settle<T>(task: () => Promise<T>): Promise<PromiseSettledResult<T>> {
  try {
    return { status: 'fulfilled', value: await task() };
  } catch (reason) {
    return { status: 'rejected', reason };
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
