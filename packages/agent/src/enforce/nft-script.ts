/**
 * Writes the `nft -f -` batches fleetban sends: the table with its sets and chains, and element
 * changes. Only validated names and normalised element keys ever reach the text, so nothing a
 * log line contains can inject nft syntax.
 */
import { ParseError, type BlockType, type Family } from '@fleetban/shared';
import type { ElementOp } from './reconcile.js';
import { MAX_TIMEOUT_S, timeoutSeconds, type SetElement } from './set-element.js';

/** Names of the sets and chains inside fleetban's table. */
export const NFT_NAMES = {
  ban4: 'ban4',
  ban6: 'ban6',
  ban4Net: 'ban4_net',
  ban6Net: 'ban6_net',
  ban4Port: 'ban4_port',
  ban6Port: 'ban6_port',
  ban4PortNet: 'ban4_port_net',
  ban6PortNet: 'ban6_port_net',
  prerouting: 'prerouting',
  input: 'input',
} as const;

/** One of fleetban's sets. */
export interface NftSetSpec {
  readonly name: string;
  readonly family: Family;
  readonly type: readonly string[];
  /** Keyed by address . protocol . port. */
  readonly port: boolean;
  /** An interval set (networks, port ranges); else a hash set (single addresses and ports). */
  readonly interval: boolean;
}

const ADDR = { 4: 'ipv4_addr', 6: 'ipv6_addr' } as const;

/**
 * The sets. Single addresses (and single ports) go to hash sets, networks and port ranges to
 * interval sets: nft 1.0.x fetches every element of a table's interval sets before it adds or
 * deletes any element, so an interval set of 100,000 addresses made each ban cost a second.
 * Networks are few; the hash sets take the bulk at a cost that does not grow with them.
 */
export const NFT_SETS: readonly NftSetSpec[] = [
  setSpec(4, false, false), // ban4
  setSpec(6, false, false), // ban6
  setSpec(4, false, true), // ban4_net
  setSpec(6, false, true), // ban6_net
  setSpec(4, true, false), // ban4_port
  setSpec(6, true, false), // ban6_port
  setSpec(4, true, true), // ban4_port_net
  setSpec(6, true, true), // ban6_port_net
];

function setSpec(family: Family, port: boolean, interval: boolean): NftSetSpec {
  const name = `ban${family}${port ? '_port' : ''}${interval ? '_net' : ''}`;
  return { name, family, type: port ? [ADDR[family], 'inet_proto', 'inet_service'] : [ADDR[family]], port, interval };
}

/** The base chains, their hook and priority. */
export const NFT_CHAINS = [
  // raw priority: after defragmentation, before conntrack and before Docker's DNAT (-100), so
  // published ports are covered and the port is the one the client targeted
  { name: NFT_NAMES.prerouting, hook: 'prerouting', prio: -300 },
  // defence in depth, just before the usual filter chains (priority 0); whole-address bans only
  // (after DNAT the port is no longer the one the client targeted)
  { name: NFT_NAMES.input, hook: 'input', prio: -10 },
] as const;

/** One rule of fleetban's chains: `<protocol> saddr[ . meta l4proto . th dport] @<set> counter <verdict>`. */
export interface NftRuleSpec {
  readonly chain: string;
  readonly protocol: 'ip' | 'ip6';
  readonly set: string;
  /** The set is keyed by address . protocol . port. */
  readonly port: boolean;
}

const ruleOf = (chain: string, s: NftSetSpec): NftRuleSpec => ({ chain, protocol: s.family === 4 ? 'ip' : 'ip6', set: s.name, port: s.port });

/** Every rule, in order: one per set in prerouting, one per whole-address set in input. */
export const NFT_RULES: readonly NftRuleSpec[] = [
  ...NFT_SETS.map((s) => ruleOf(NFT_NAMES.prerouting, s)),
  ...NFT_SETS.filter((s) => !s.port).map((s) => ruleOf(NFT_NAMES.input, s)),
];

/** Elements per `add element` / `delete element` line. */
const CHUNK = 1000;

/** Throws ParseError unless `name` is a plain nft identifier (letters, digits, `_`, max 32). */
export function checkTableName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(name)) throw new ParseError('nftables table name', name);
  return name;
}

/** The set an element belongs to: a hash set for a single address (and port), else an interval set. */
export function setOf(el: SetElement): string {
  const single = !el.target.includes('/') && !el.target.includes('-') && (!el.port || el.port.from === el.port.to);
  return `ban${el.family}${el.port ? '_port' : ''}${single ? '' : '_net'}`;
}

/** The rule text for `spec` with `verdict` (`drop` or `reject`). */
export function ruleText(spec: NftRuleSpec, verdict: BlockType): string {
  const key = spec.port ? `${spec.protocol} saddr . meta l4proto . th dport` : `${spec.protocol} saddr`;
  return `${key} @${spec.set} counter ${verdict}`;
}

/**
 * Creates table, sets and chains if missing and rewrites the chains' rules, in one transaction:
 * `add` is idempotent and the chains are flushed before their rules are added again, so running
 * it twice leaves exactly one copy of each rule. Set elements are untouched.
 */
export function structureScript(table: string, verdict: BlockType): string {
  const t = `inet ${table}`;
  const lines = [`add table ${t}`];
  for (const s of NFT_SETS) lines.push(`add set ${t} ${s.name} { type ${s.type.join(' . ')}; flags ${s.interval ? 'interval, ' : ''}timeout; }`);
  for (const c of NFT_CHAINS) {
    lines.push(`add chain ${t} ${c.name} { type filter hook ${c.hook} priority ${c.prio}; policy accept; }`);
  }
  for (const c of NFT_CHAINS) {
    lines.push(`flush chain ${t} ${c.name}`);
    for (const r of NFT_RULES.filter((x) => x.chain === c.name)) lines.push(`add rule ${t} ${c.name} ${ruleText(r, verdict)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Deletes the table if it exists (the `add` first makes the `delete` never fail). */
export function dropScript(table: string): string {
  return `add table inet ${table}\ndelete table inet ${table}\n`;
}

/** Deletes and recreates the whole table (elements are lost): repairs sets or chains of the wrong kind. */
export function rebuildScript(table: string, verdict: BlockType): string {
  return dropScript(table) + structureScript(table, verdict);
}

/**
 * One batch for `ops`: all deletes first (unbans, and the delete half of a `replace`), then all
 * adds, each with its timeout counted from `nowMs` (none = permanent). Written straight into the
 * lines of each set: a bulk batch makes no list per set or per line.
 */
export function elementScript(table: string, ops: readonly ElementOp[], nowMs: number): string {
  let text = '';
  for (const chunk of elementChunks(table, ops, nowMs, Infinity)) text += chunk;
  return text;
}

/** Characters of nft text handed on at once by {@link elementChunks}: a pipe's buffer. */
export const CHUNK_CHARS = 65_536;

/**
 * The text of {@link elementScript}, the same characters in the same order, in chunks of whole
 * lines of about `chunkChars`, made as they are taken: nft reads the first lines of a part while
 * the rest are written.
 */
export function* elementChunks(table: string, ops: readonly ElementOp[], nowMs: number, chunkChars = CHUNK_CHARS): Generator<string, void> {
  const deletes = new ElementLines(`delete element inet ${table} `);
  for (const op of ops) {
    if (op.kind === 'add') continue;
    deletes.add(setOf(op.el), elementText(op.el));
    if (deletes.ready >= chunkChars) yield deletes.take();
  }
  const adds = new ElementLines(`add element inet ${table} `);
  const durations = new Map<number, string>(); // a bulk batch has few distinct timeouts
  for (const op of ops) {
    if (op.kind === 'delete') continue;
    const el = op.el;
    const s = timeoutSeconds(el.expiresMs, nowMs, MAX_TIMEOUT_S);
    let timeout = '';
    if (s !== null) {
      timeout = durations.get(s) ?? '';
      if (timeout === '') durations.set(s, (timeout = ` timeout ${nftDuration(s)}`));
    }
    adds.add(setOf(el), elementText(el), timeout);
    if (adds.ready >= chunkChars) yield deletes.text() + adds.take();
  }
  const last = deletes.text() + adds.text();
  if (last !== '') yield last;
}

/** An element as nft writes it: `192.0.2.7`, `192.0.2.0/24 . tcp . 22`, `... . udp . 1000-2000`. */
export function elementText(el: SetElement): string {
  if (!el.port) return el.target;
  const p = el.port;
  return `${el.target} . ${p.proto} . ${p.from === p.to ? p.from : `${p.from}-${p.to}`}`;
}

/** The `<verb> element` lines of one batch: up to {@link CHUNK} elements a line, by set. */
class ElementLines {
  /** The line being filled (its elements so far, one string built by appending), by set. */
  private readonly open = new Map<string, { text: string; n: number }>();
  /** The full lines, one string built by appending. */
  private done = '';

  constructor(private readonly head: string) {}

  /** Adds one element (`text`, then `timeout` unless empty) to the line of `set`. */
  add(set: string, text: string, timeout = ''): void {
    const line = this.open.get(set);
    if (!line) {
      this.open.set(set, { text: text + timeout, n: 1 });
      return;
    }
    line.text += `, ${text}${timeout}`;
    if (++line.n < CHUNK) return;
    this.done += this.line(set, line.text);
    this.open.delete(set);
  }

  /** Characters of the full lines not yet taken. */
  get ready(): number {
    return this.done.length;
  }

  /** The full lines so far (and forgets them). */
  take(): string {
    const done = this.done;
    this.done = '';
    return done;
  }

  /** Every line not yet taken, full ones first, then the partly filled ones. */
  text(): string {
    for (const [set, line] of this.open) this.done += this.line(set, line.text);
    this.open.clear();
    return this.take();
  }

  private line(set: string, elements: string): string {
    return `${this.head}${set} { ${elements} }\n`;
  }
}

/** Longest timeout nft 1.0.x takes as a plain seconds count (`99999999s`; more digits: "value too large"). */
const PLAIN_SECONDS_MAX = 99_999_999;

/**
 * Seconds as nft reads them: a plain count (`3637s`) up to {@link PLAIN_SECONDS_MAX}, which nft
 * parses faster (125,000 elements: about a tenth less time than `1h0m37s`), else the composite
 * `1d2h3m4s`, which carries any timeout up to {@link MAX_TIMEOUT_S}.
 */
export function nftDuration(seconds: number): string {
  if (seconds <= PLAIN_SECONDS_MAX) return `${Math.max(1, seconds)}s`;
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.length === 0 ? '1s' : parts.join('');
}
