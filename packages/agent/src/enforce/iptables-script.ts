/**
 * The text of the iptables backend: `ipset restore` batches (sets and elements), the
 * `iptables-restore --noflush` scripts that lay out fleetban's chains and jumps, and the readers
 * of `ipset save` and `iptables -S`. Pure functions; only validated names and normalised
 * element keys reach the text.
 */
import { DecodeError, ParseError, parseNetwork, type BlockType, type Family } from '@fleetban/shared';
import type { ElementOp } from './reconcile.js';
import { elementKey, timeoutSeconds, type ElementPort, type SetElement } from './set-element.js';

/** Longest timeout ipset takes: (2^31 - 1) ms / 1000 = 2147483 s (about 24.8 days). */
export const IPSET_MAX_TIMEOUT_S = 2_147_483;

/** Elements an ipset may hold (ipset's default is 65536). */
export const IPSET_MAXELEM = 1_048_576;

/** The names fleetban uses: four ipsets and one chain name (in `raw` and `filter`, both families). */
export interface IptNames {
  /** `<prefix>4`, `<prefix>6`: whole addresses (hash:net); `<prefix>4p`, `<prefix>6p`: address,proto:port (hash:net,port). */
  readonly prefix: string;
  /** fleetban's own chain, jumped to from the hook chains; default `FLEETBAN`. */
  readonly chain: string;
}

/** Throws ParseError unless `name` is a plain ipset / chain name (letters, digits, `_`, `-`; max 24). */
export function checkIptName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,23}$/.test(name)) throw new ParseError('ipset or chain name', name);
  return name;
}

/** The ipset an element belongs to. */
export function ipsetOf(names: IptNames, family: Family, port: boolean): string {
  return `${names.prefix}${family}${port ? 'p' : ''}`;
}

/** Every ipset with its type and family. */
export function ipsets(names: IptNames): { name: string; type: string; family: Family }[] {
  return ([4, 6] as const).flatMap((family) => [
    { name: ipsetOf(names, family, false), type: 'hash:net', family },
    { name: ipsetOf(names, family, true), type: 'hash:net,port', family },
  ]);
}

/** `ipset restore` lines creating every set (`-exist` makes it idempotent). */
export function ipsetCreateScript(names: IptNames): string {
  return ipsets(names)
    .map((s) => `create ${s.name} ${s.type} family ${s.family === 4 ? 'inet' : 'inet6'} timeout 0 maxelem ${IPSET_MAXELEM}\n`)
    .join('');
}

/** An element as ipset writes it: `192.0.2.7`, `192.0.2.0/24,tcp:22`. */
export function ipsetElementText(el: SetElement): string {
  return el.port ? `${el.target},${el.port.proto}:${el.port.from}` : el.target;
}

/** One `ipset restore -exist` batch: deletes first, then adds (an add of a present element sets its new timeout). */
export function ipsetElementScript(names: IptNames, ops: readonly ElementOp[], nowMs: number): string {
  const lines: string[] = [];
  for (const op of ops) {
    if (op.kind === 'delete') lines.push(`del ${ipsetOf(names, op.el.family, op.el.port !== undefined)} ${ipsetElementText(op.el)}`);
  }
  for (const op of ops) {
    if (op.kind === 'delete') continue;
    const s = timeoutSeconds(op.el.expiresMs, nowMs, IPSET_MAX_TIMEOUT_S) ?? 0;
    lines.push(`add ${ipsetOf(names, op.el.family, op.el.port !== undefined)} ${ipsetElementText(op.el)} timeout ${s}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** What `ipset save` says about fleetban's sets. */
export interface IpsetState {
  /** Set name → type (`hash:net`) and family (`inet`). */
  readonly sets: ReadonlyMap<string, { type: string; family: string }>;
  readonly elements: SetElement[];
}

/** Reads `ipset save` output, keeping fleetban's sets only. */
export function parseIpsetSave(stdout: string, names: IptNames, nowMs: number): IpsetState {
  const mine = new Map(ipsets(names).map((s) => [s.name, s]));
  const sets = new Map<string, { type: string; family: string }>();
  const elements: SetElement[] = [];
  for (const line of stdout.split('\n')) {
    const words = line.trim().split(/\s+/);
    const [verb, name, value] = words;
    if (!name || !mine.has(name)) continue;
    if (verb === 'create') {
      const fi = words.indexOf('family');
      sets.set(name, { type: value ?? '', family: fi > 0 ? (words[fi + 1] ?? '') : '' });
    } else if (verb === 'add' && value) {
      const ti = words.indexOf('timeout');
      const left = ti > 0 ? Number(words[ti + 1]) : 0;
      // ipset truncates the time left to whole seconds: the element expires within the next second
      const expiresMs = left > 0 ? nowMs + left * 1000 + 500 : 0;
      elements.push(ipsetElement(value, (mine.get(name) as { family: Family }).family, expiresMs));
    }
  }
  return { sets, elements };
}

function ipsetElement(value: string, family: Family, expiresMs: number): SetElement {
  const comma = value.lastIndexOf(',');
  const colon = value.indexOf(':', comma);
  if (comma < 0 || (family === 6 && colon < 0)) {
    const target = parseNetwork(value).text;
    return { key: target, target, family, expiresMs };
  }
  const target = parseNetwork(value.slice(0, comma)).text;
  const proto = value.slice(comma + 1, colon);
  const port = Number(value.slice(colon + 1));
  if ((proto !== 'tcp' && proto !== 'udp') || !Number.isInteger(port)) throw new DecodeError(`ipset save: unknown element ${value}`);
  const p: ElementPort = { proto, from: port, to: port };
  return { key: elementKey(target, p), target, family, port: p, expiresMs };
}

/** Where fleetban's chain is jumped to from, per table. */
export interface HookLayout {
  readonly raw: readonly string[];
  readonly filter: readonly string[];
}

/** The hook chains: raw PREROUTING; filter INPUT and DOCKER-USER when Docker's chain exists, else FORWARD. */
export function hookLayout(dockerUser: boolean): HookLayout {
  return { raw: ['PREROUTING'], filter: ['INPUT', dockerUser ? 'DOCKER-USER' : 'FORWARD'] };
}

/**
 * The rules of fleetban's chain, as `iptables -S` prints them. raw: whole-address bans (drop
 * mode only: REJECT is not allowed there) and port-scoped bans (always dropped: before DNAT is
 * the only place the port the client targeted is matched by a set); filter: whole-address bans
 * with the configured verdict.
 */
export function chainRules(names: IptNames, family: Family, table: 'raw' | 'filter', blockType: BlockType): string[] {
  const c = names.chain;
  const whole = ipsetOf(names, family, false);
  const port = ipsetOf(names, family, true);
  if (table === 'raw') {
    return [
      ...(blockType === 'drop' ? [`-A ${c} -m set --match-set ${whole} src -j DROP`] : []),
      `-A ${c} -m set --match-set ${port} src,dst -j DROP`,
    ];
  }
  const verdict = blockType === 'drop' ? 'DROP' : `REJECT --reject-with ${family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable'}`;
  return [`-A ${c} -m set --match-set ${whole} src -j ${verdict}`];
}

/** One table as `iptables -S` lists it: chains declared, and each chain's rules in order. */
export interface IptTable {
  readonly chains: ReadonlySet<string>;
  readonly rules: ReadonlyMap<string, readonly string[]>;
}

/** Reads `iptables -t T -S` (comment lines such as iptables-nft's legacy warning are skipped). */
export function parseIptablesS(stdout: string): IptTable {
  const chains = new Set<string>();
  const rules = new Map<string, string[]>();
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    const m = /^-([PNA]) (\S+)/.exec(line);
    if (!m) continue;
    const [, kind, chain] = m as unknown as [string, string, string];
    chains.add(chain);
    if (kind === 'A') {
      const list = rules.get(chain);
      if (list) list.push(line);
      else rules.set(chain, [line]);
    }
  }
  return { chains, rules };
}

/** How many `-j <chain>` jumps `hook` holds, and whether the first rule is one. */
export function jumpsIn(table: IptTable, hook: string, chain: string): { count: number; first: boolean } {
  const jump = `-A ${hook} -j ${chain}`;
  const rules = table.rules.get(hook) ?? [];
  return { count: rules.filter((r) => r === jump).length, first: rules[0] === jump };
}

/**
 * One table's part of an `iptables-restore --noflush` script: declares (creates, or flushes)
 * fleetban's chain, deletes every jump to it seen in `current`, inserts one jump at the top of
 * each hook, and adds the rules. `current` is the table as read just before.
 */
export function tableScript(table: 'raw' | 'filter', current: IptTable, hooks: readonly string[], rules: readonly string[], chain: string): string {
  const lines = [`*${table}`, `:${chain} - [0:0]`];
  for (const hook of [...current.rules.keys()]) {
    for (let i = 0; i < jumpsIn(current, hook, chain).count; i++) lines.push(`-D ${hook} -j ${chain}`);
  }
  for (const hook of hooks) lines.push(`-I ${hook} 1 -j ${chain}`);
  lines.push(...rules, 'COMMIT');
  return `${lines.join('\n')}\n`;
}

/** Removes fleetban's chain and every jump to it from one table (nothing when the chain is absent). */
export function removeTableScript(table: 'raw' | 'filter', current: IptTable, chain: string): string {
  if (!current.chains.has(chain)) return '';
  const lines = [`*${table}`];
  for (const hook of [...current.rules.keys()]) {
    for (let i = 0; i < jumpsIn(current, hook, chain).count; i++) lines.push(`-D ${hook} -j ${chain}`);
  }
  lines.push(`-F ${chain}`, `-X ${chain}`, 'COMMIT');
  return `${lines.join('\n')}\n`;
}
