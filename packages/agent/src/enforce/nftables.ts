/**
 * The nftables backend: one `inet` table owned by fleetban, two interval sets with kernel
 * timeouts (ban4, ban6) and two base chains that drop their sources (prerouting at -300, input
 * at -10). Every change is one `nft -f -` transaction; a rejected batch is split in halves until
 * the bad elements are isolated, so one bad element never blocks the others.
 */
import type { Clock, Logger } from '@fleetban/shared';
import type { BanEntry, Enforcer, EnforcerReport } from './enforcer.js';
import type { Runner } from './exec.js';
import { parseTable, parseTableList, type NftTable } from './nft-json.js';
import { NFT_CHAINS, NFT_NAMES, NFT_RULES, checkTableName, dropScript, elementScript, rebuildScript, structureScript } from './nft-script.js';
import { diffElements, planOps, settled, type ElementOp, type Intent } from './reconcile.js';
import { DEFAULT_TOLERANCE_MS, isLive, toSetElement, unbanElement, type SetElement } from './set-element.js';

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
  /** Expiries this close (ms) count as equal: no re-add, no drift; default 5000. */
  toleranceMs?: number;
}

/** The kernel's view of fleetban's table. `wrong` = sets or chains of another kind (needs a rebuild). */
interface KernelState {
  readonly structure: 'ok' | 'missing' | 'incomplete' | 'wrong';
  readonly elements: SetElement[];
}

/** Default name of fleetban's table. */
export const DEFAULT_NFT_TABLE = 'fleetban';

/** {@link Enforcer} backed by nftables. */
export class NftablesEnforcer implements Enforcer {
  readonly name = 'nftables';
  private readonly runner: Runner;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly table: string;
  private readonly nft: string;
  private readonly toleranceMs: number;
  /** Live elements as last written or read, by key. */
  private view = new Map<string, SetElement>();
  private readonly counts = { applied: 0, removed: 0, failed: 0, drift: 0 };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: NftablesOptions) {
    this.runner = opts.runner;
    this.clock = opts.clock;
    this.table = checkTableName(opts.table ?? DEFAULT_NFT_TABLE);
    this.log = opts.logger.child({ enforcer: 'nftables', table: this.table });
    this.nft = opts.nft ?? 'nft';
    this.toleranceMs = opts.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  }

  start(): Promise<void> {
    return this.serial(async () => {
      const state = await this.read();
      if (state.structure === 'wrong') {
        this.log.warn('table has sets or chains of another kind; rebuilding it');
        await this.batch(rebuildScript(this.table));
        this.view = new Map();
      } else {
        await this.batch(structureScript(this.table));
        this.view = new Map(state.elements.map((el) => [el.key, el]));
      }
      this.log.info({ elements: this.view.size }, 'nftables table ready');
    });
  }

  apply(bans: readonly BanEntry[], unbans: readonly string[]): Promise<void> {
    return this.serial(async () => {
      const now = this.clock();
      const intents: Intent[] = [];
      for (const target of unbans) {
        const el = this.parse(target, () => unbanElement(target));
        if (el) intents.push({ kind: 'unban', el });
      }
      for (const ban of bans) {
        const el = this.parse(ban.target, () => toSetElement(ban, now));
        if (el) intents.push({ kind: 'ban', el });
      }
      const done = await this.run(intents);
      this.log.debug(done, 'batch applied');
    });
  }

  reconcile(all: readonly BanEntry[]): Promise<{ added: number; removed: number }> {
    return this.serial(async () => {
      const current = await this.repair(await this.read());
      const now = this.clock();
      const seen = diffElements(
        settled(current, now, this.toleranceMs),
        settled(this.view.values(), now, this.toleranceMs),
        this.toleranceMs,
      );
      const drift = seen.missing.length + seen.extra.length + seen.changed.length;
      this.counts.drift += drift;
      if (drift > 0) {
        const counts = { missing: seen.missing.length, extra: seen.extra.length, changed: seen.changed.length };
        this.log.warn(counts, 'set elements differed from what fleetban wrote');
      }
      this.view = new Map(current.map((el) => [el.key, el]));
      const wanted: SetElement[] = [];
      for (const ban of all) {
        const el = this.parse(ban.target, () => toSetElement(ban, now));
        if (el) wanted.push(el);
      }
      const extra = diffElements(current, wanted, this.toleranceMs).extra;
      const done = await this.run([
        ...extra.map((el): Intent => ({ kind: 'unban', el })),
        ...wanted.map((el): Intent => ({ kind: 'ban', el })),
      ]);
      this.log.debug({ ...done, wanted: wanted.length }, 'reconciled');
      return done;
    });
  }

  list(): Promise<string[]> {
    return this.serial(async () => (await this.read()).elements.map((el) => el.key));
  }

  report(): EnforcerReport {
    const now = this.clock();
    const elements = [...this.view.values()].filter((el) => isLive(el, now)).length;
    return { backend: this.name, elements, ...this.counts };
  }

  stop(mode: 'flush' | 'keep'): Promise<void> {
    return this.serial(async () => {
      if (mode === 'flush') {
        await this.batch(dropScript(this.table));
        this.view = new Map();
      }
      this.log.info({ mode }, 'nftables enforcer stopped');
    });
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
      this.counts.failed++;
      this.log.warn({ err, target }, 'invalid ban target skipped');
      return null;
    }
  }

  /**
   * Carries out `intents` against the local view in one transaction. When nft rejects it, the
   * view is refreshed from the kernel (it may be stale), the plan is made again and applied by
   * halves, down to single elements.
   */
  private async run(intents: readonly Intent[]): Promise<{ added: number; removed: number }> {
    const done = { added: 0, removed: 0 };
    const ops = planOps(intents, this.liveView(), this.toleranceMs);
    if (ops.length === 0) return done;
    try {
      await this.batch(elementScript(this.table, ops, this.clock()));
      this.commit(ops, done);
      return done;
    } catch (err) {
      this.log.debug({ err, ops: ops.length }, 'batch rejected; retrying element by element');
    }
    const current = await this.repair(await this.read());
    this.view = new Map(current.map((el) => [el.key, el]));
    await this.bisect(planOps(intents, this.liveView(), this.toleranceMs), done);
    return done;
  }

  private async bisect(ops: readonly ElementOp[], done: { added: number; removed: number }): Promise<void> {
    if (ops.length === 0) return;
    try {
      await this.batch(elementScript(this.table, ops, this.clock()));
      this.commit(ops, done);
    } catch (err) {
      const [only] = ops;
      if (ops.length === 1 && only) {
        this.counts.failed++;
        this.log.warn({ err, target: only.el.key, op: only.kind }, 'element rejected by nft');
        return;
      }
      const half = Math.ceil(ops.length / 2);
      await this.bisect(ops.slice(0, half), done);
      await this.bisect(ops.slice(half), done);
    }
  }

  private commit(ops: readonly ElementOp[], done: { added: number; removed: number }): void {
    for (const op of ops) {
      if (op.kind === 'delete') {
        this.view.delete(op.el.key);
        done.removed++;
        this.counts.removed++;
      } else {
        this.view.set(op.el.key, op.el);
        done.added++;
        this.counts.applied++;
      }
    }
  }

  private liveView(): Map<string, SetElement> {
    const now = this.clock();
    for (const [key, el] of this.view) if (!isLive(el, now)) this.view.delete(key);
    return this.view;
  }

  /**
   * Recreates a missing or incomplete table (elements kept), or rebuilds one with sets or chains
   * of another kind (elements lost); counts one drift. Returns the elements left in the sets.
   */
  private async repair(state: KernelState): Promise<SetElement[]> {
    if (state.structure === 'ok') return state.elements;
    this.counts.drift++;
    this.log.warn({ structure: state.structure }, 'fleetban table drifted; repairing it');
    if (state.structure === 'wrong') {
      await this.batch(rebuildScript(this.table));
      return [];
    }
    await this.batch(structureScript(this.table));
    return state.elements;
  }

  private async batch(script: string): Promise<void> {
    if (script !== '') await this.runner(this.nft, ['-f', '-'], script);
  }

  /** Reads fleetban's table from the kernel and checks its structure. */
  private async read(): Promise<KernelState> {
    const tables = parseTableList((await this.runner(this.nft, ['-j', 'list', 'tables'])).stdout);
    if (!tables.includes(`inet ${this.table}`)) return { structure: 'missing', elements: [] };
    const { stdout } = await this.runner(this.nft, ['-j', 'list', 'table', 'inet', this.table]);
    const table = parseTable(stdout, this.clock());
    const elements = [NFT_NAMES.ban4, NFT_NAMES.ban6].flatMap((name) => table.sets.get(name)?.elements ?? []);
    return { structure: checkStructure(table), elements };
  }
}

/** Compares a listed table with the one {@link structureScript} creates. */
function checkStructure(table: NftTable): KernelState['structure'] {
  for (const [name, type] of [[NFT_NAMES.ban4, 'ipv4_addr'], [NFT_NAMES.ban6, 'ipv6_addr']] as const) {
    const set = table.sets.get(name);
    if (!set) return 'incomplete';
    if (set.type !== type || !set.flags.includes('interval') || !set.flags.includes('timeout')) return 'wrong';
  }
  let complete = true;
  for (const c of NFT_CHAINS) {
    const chain = table.chains.get(c.name);
    if (!chain) {
      complete = false;
      continue;
    }
    if (chain.type !== 'filter' || chain.hook !== c.hook || chain.prio !== c.prio) return 'wrong';
    const rules = table.rules.filter((r) => r.chain === c.name);
    const exact = rules.length === NFT_RULES.length
      && NFT_RULES.every((want) => rules.some((r) => r.protocol === want.protocol && r.set === want.set && r.drop));
    if (!exact) complete = false;
  }
  return complete ? 'ok' : 'incomplete';
}
