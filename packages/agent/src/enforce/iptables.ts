/**
 * The iptables + ipset backend, for hosts that must stay on iptables (either iptables-nft or
 * iptables-legacy: the one Docker's chains live in). Bans are elements of four ipsets with
 * timeouts (whole addresses: hash:net; port-scoped: hash:net,port, one element per port); a
 * constant chain `FLEETBAN` in `raw` (jumped to first from PREROUTING: before conntrack and
 * before Docker's DNAT, the port is the one the client targeted) and in `filter` (jumped to first
 * from INPUT, and from DOCKER-USER, or FORWARD where there is no Docker), for IPv4 (iptables)
 * and IPv6 (ip6tables). Element batches are one `ipset restore -exist`; the chains and jumps are
 * laid out by one `iptables-restore --noflush` per family (atomic per table). Reconcile re-reads
 * all of it, so jumps dropped by a Docker restart or a `firewall-cmd --reload` come back.
 */
import type { BlockType, Clock, Family, Logger } from '@fleetban/shared';
import type { Runner } from './exec.js';
import {
  chainRules, checkIptName, hookLayout, IPSET_MAX_TIMEOUT_S, ipsetCreateScript, ipsetElementScript, ipsets, jumpsIn,
  parseIpsetSave, parseIptablesS, removeTableScript, tableScript, type IptNames, type IptTable,
} from './iptables-script.js';
import type { JailScopes } from './port-scope.js';
import type { ElementOp } from './reconcile.js';
import type { KernelState, SetDriver } from './set-driver.js';
import { SetEnforcer } from './set-enforcer.js';

/** Options of {@link IptablesEnforcer}. */
export interface IptablesOptions {
  /** Runs iptables, ip6tables, their -restore and ipset (see exec.ts). */
  runner: Runner;
  clock: Clock;
  logger: Logger;
  /** The iptables command: `iptables` (default), `iptables-nft` or `iptables-legacy`; ip6tables and -restore follow. */
  iptables?: string;
  /** The ipset command; default `ipset`. */
  ipset?: string;
  /** Prefix of the ipset names; default `fleetban` (sets fleetban4, fleetban6, fleetban4p, fleetban6p). */
  setPrefix?: string;
  /** fleetban's chain name; default `FLEETBAN`. */
  chain?: string;
  /** `drop` (default) or `reject` banned packets. */
  blockType?: BlockType;
  scopes?: JailScopes;
  /** Expiries this close (ms) count as equal; default 5000. */
  toleranceMs?: number;
  /** Waits between attempts to destroy an ipset still referenced by a rule being removed; default 100 ms (10 attempts). */
  destroyRetryMs?: number;
}

type Tables = Record<Family, { raw: IptTable; filter: IptTable }>;

/** {@link SetDriver} for iptables + ipset. */
export class IptablesDriver implements SetDriver {
  readonly name = 'iptables';
  readonly maxTimeoutS = IPSET_MAX_TIMEOUT_S;
  readonly singlePorts = true;
  private readonly cmd: Record<Family, string>;

  constructor(
    private readonly runner: Runner,
    private readonly names: IptNames,
    iptables: string,
    private readonly ipset: string,
    private readonly blockType: BlockType,
    private readonly destroyRetryMs: number,
  ) {
    this.cmd = { 4: iptables, 6: iptables.replace(/^iptables/, 'ip6tables') };
  }

  async read(nowMs: number): Promise<KernelState> {
    const [saved, tables] = await Promise.all([this.runner(this.ipset, ['save']), this.readTables()]);
    const state = parseIpsetSave(saved.stdout, this.names, nowMs);
    const wrong: string[] = [];
    const missing: string[] = [];
    for (const s of ipsets(this.names)) {
      const have = state.sets.get(s.name);
      if (!have) missing.push(`ipset ${s.name} missing`);
      else if (have.type !== s.type || have.family !== (s.family === 4 ? 'inet' : 'inet6')) wrong.push(`ipset ${s.name} is ${have.type} ${have.family}`);
    }
    for (const family of [4, 6] as const) missing.push(...this.checkTables(family, tables[family]));
    if (wrong.length > 0) return { structure: 'wrong', problems: [...wrong, ...missing], elements: state.elements };
    if (missing.length === 0) return { structure: 'ok', problems: [], elements: state.elements };
    return { structure: state.sets.size === 0 ? 'missing' : 'incomplete', problems: missing, elements: state.elements };
  }

  async ensure(state: KernelState): Promise<void> {
    let tables = await this.readTables();
    if (state.structure === 'wrong') {
      // unhook the sets first: an ipset referenced by a rule cannot be destroyed
      for (const family of [4, 6] as const) await this.restore(family, this.clearScript(tables[family]));
      const saved = parseIpsetSave((await this.runner(this.ipset, ['save'])).stdout, this.names, 0);
      for (const s of ipsets(this.names)) if (saved.sets.has(s.name)) await this.destroy(s.name);
      tables = await this.readTables();
    }
    await this.runner(this.ipset, ['restore', '-exist'], ipsetCreateScript(this.names));
    for (const family of [4, 6] as const) {
      const t = tables[family];
      const hooks = hookLayout(t.filter.chains.has('DOCKER-USER'));
      const script = tableScript('raw', t.raw, hooks.raw, chainRules(this.names, family, 'raw', this.blockType), this.names.chain)
        + tableScript('filter', t.filter, hooks.filter, chainRules(this.names, family, 'filter', this.blockType), this.names.chain);
      await this.restore(family, script);
    }
  }

  async write(ops: readonly ElementOp[], nowMs: number): Promise<void> {
    const script = ipsetElementScript(this.names, ops, nowMs);
    if (script !== '') await this.runner(this.ipset, ['restore', '-exist'], script);
  }

  async remove(): Promise<void> {
    const tables = await this.readTables();
    for (const family of [4, 6] as const) {
      const t = tables[family];
      await this.restore(family, removeTableScript('raw', t.raw, this.names.chain) + removeTableScript('filter', t.filter, this.names.chain));
    }
    const saved = parseIpsetSave((await this.runner(this.ipset, ['save'])).stdout, this.names, 0);
    for (const s of ipsets(this.names)) if (saved.sets.has(s.name)) await this.destroy(s.name);
  }

  /** Problems of one family's chains, rules and jumps (empty when all is as laid out). */
  private checkTables(family: Family, t: { raw: IptTable; filter: IptTable }): string[] {
    const c = this.names.chain;
    const v = family === 4 ? 'iptables' : 'ip6tables';
    const out: string[] = [];
    const hooks = hookLayout(t.filter.chains.has('DOCKER-USER'));
    for (const table of ['raw', 'filter'] as const) {
      const tab = t[table];
      if (!tab.chains.has(c)) {
        out.push(`${v} -t ${table}: chain ${c} missing`);
        continue;
      }
      const want = chainRules(this.names, family, table, this.blockType);
      const have = tab.rules.get(c) ?? [];
      if (have.length !== want.length || want.some((r, i) => have[i] !== r)) out.push(`${v} -t ${table}: chain ${c} has other rules`);
      for (const hook of tab.rules.keys()) {
        const j = jumpsIn(tab, hook, c);
        const wanted = hooks[table].includes(hook);
        if (wanted && (j.count !== 1 || !j.first)) out.push(`${v} -t ${table}: ${hook} does not jump to ${c} first`);
        if (!wanted && j.count > 0) out.push(`${v} -t ${table}: ${hook} jumps to ${c}`);
      }
      for (const hook of hooks[table]) if (!tab.rules.has(hook)) out.push(`${v} -t ${table}: ${hook} does not jump to ${c}`);
    }
    return out;
  }

  private clearScript(t: { raw: IptTable; filter: IptTable }): string {
    const c = this.names.chain;
    return (['raw', 'filter'] as const)
      .filter((table) => t[table].chains.has(c))
      .map((table) => `*${table}\n-F ${c}\nCOMMIT\n`)
      .join('');
  }

  private async readTables(): Promise<Tables> {
    const read = async (family: Family, table: string): Promise<IptTable> =>
      parseIptablesS((await this.runner(this.cmd[family], ['-w', '-t', table, '-S'])).stdout);
    const [r4, f4, r6, f6] = await Promise.all([read(4, 'raw'), read(4, 'filter'), read(6, 'raw'), read(6, 'filter')]);
    return { 4: { raw: r4, filter: f4 }, 6: { raw: r6, filter: f6 } };
  }

  private async restore(family: Family, script: string): Promise<void> {
    if (script !== '') await this.runner(`${this.cmd[family]}-restore`, ['-w', '--noflush'], script);
  }

  /** Destroys an ipset; retried while the kernel still holds a reference from a rule just removed. */
  private async destroy(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.runner(this.ipset, ['destroy', name]);
        return;
      } catch (err) {
        if (attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, this.destroyRetryMs));
      }
    }
  }
}

/** {@link Enforcer} backed by iptables + ipset. */
export class IptablesEnforcer extends SetEnforcer {
  constructor(opts: IptablesOptions) {
    const names = { prefix: checkIptName(opts.setPrefix ?? 'fleetban'), chain: checkIptName(opts.chain ?? 'FLEETBAN') };
    const iptables = opts.iptables ?? 'iptables';
    const driver = new IptablesDriver(opts.runner, names, iptables, opts.ipset ?? 'ipset', opts.blockType ?? 'drop', opts.destroyRetryMs ?? 100);
    super(driver, {
      clock: opts.clock,
      logger: opts.logger.child({ enforcer: 'iptables', iptables }),
      ...(opts.scopes ? { scopes: opts.scopes } : {}),
      ...(opts.toleranceMs !== undefined ? { toleranceMs: opts.toleranceMs } : {}),
    });
  }
}
