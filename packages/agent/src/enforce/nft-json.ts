/**
 * Reads `nft -j` output. This is the only place that knows nft's JSON schema; everything else
 * sees tables, sets, chains, rules and {@link SetElement}s.
 */
import { DecodeError, parseNetwork, tryParseAddress, type Family } from '@fleetban/shared';
import { elementKey, type ElementPort, type SetElement } from './set-element.js';

/** A set as listed by nft. */
export interface NftSet {
  readonly name: string;
  /** Its type, the parts of a concatenation joined by ` . ` (`ipv4_addr . inet_proto . inet_service`). */
  readonly type: string;
  readonly flags: readonly string[];
  /** The kernel's handle: a set deleted and created again has a new one. */
  readonly handle: number | null;
  readonly elements: SetElement[];
}

/** A base or regular chain as listed by nft. */
export interface NftChain {
  readonly name: string;
  readonly type?: string;
  readonly hook?: string;
  readonly prio?: number;
}

/** A rule reduced to what fleetban checks: `<protocol> saddr[ . ...] @<set> ... <verdict>`. */
export interface NftRule {
  readonly chain: string;
  /** `ip` or `ip6` when the rule matches `<protocol> saddr[ . ...] @set`. */
  readonly protocol: string | null;
  /** Set referenced by the match, without `@`. */
  readonly set: string | null;
  /** The match key after the address: `meta l4proto . th dport`, or '' for the address alone. */
  readonly rest: string;
  /** `drop`, `reject`, or null for any other (or no) verdict. */
  readonly verdict: 'drop' | 'reject' | null;
  /** Has a `counter`. */
  readonly counter: boolean;
}

/** One table's contents. */
export interface NftTable {
  /** The table's handle when the listing names the table itself (`list ruleset`), else null. */
  readonly handle: number | null;
  readonly sets: ReadonlyMap<string, NftSet>;
  readonly chains: ReadonlyMap<string, NftChain>;
  readonly rules: readonly NftRule[];
}

type Json = Record<string, unknown>;

/**
 * `nft -j list table ...` (or `list set ...`, or `list ruleset` with `only` naming one table) →
 * its sets, chains and rules. Relative `expires` seconds become absolute expiries using `nowMs`
 * (every listed element is live: the kernel lists only those).
 */
export function parseTable(stdout: string, nowMs: number, only?: { family: string; table: string }): NftTable {
  const sets = new Map<string, NftSet>();
  const chains = new Map<string, NftChain>();
  const rules: NftRule[] = [];
  let handle: number | null = null;
  for (const item of items(stdout)) {
    const table = obj(item.table);
    const set = obj(item.set);
    const chain = obj(item.chain);
    const rule = obj(item.rule);
    const of = table ? { family: table.family, table: table.name } : obj(set ?? chain ?? rule);
    if (only && (of?.family !== only.family || of.table !== only.table)) continue;
    if (table) {
      handle = typeof table.handle === 'number' ? table.handle : null;
    } else if (set) {
      const types = Array.isArray(set.type) ? set.type.map(String) : [String(set.type)];
      const family: Family = types[0] === 'ipv6_addr' ? 6 : 4;
      const elems = Array.isArray(set.elem) ? set.elem : [];
      sets.set(String(set.name), {
        name: String(set.name),
        type: types.join(' . '),
        flags: Array.isArray(set.flags) ? set.flags.map(String) : [],
        handle: typeof set.handle === 'number' ? set.handle : null,
        elements: elems.map((e) => parseElement(e, family, nowMs)),
      });
    } else if (chain) {
      chains.set(String(chain.name), {
        name: String(chain.name),
        ...(typeof chain.type === 'string' ? { type: chain.type } : {}),
        ...(typeof chain.hook === 'string' ? { hook: chain.hook } : {}),
        ...(typeof chain.prio === 'number' ? { prio: chain.prio } : {}),
      });
    } else if (rule) {
      rules.push(parseRule(rule));
    }
  }
  return { handle, sets, chains, rules };
}

/**
 * One set element. nft writes a plain address as a string, a CIDR as `{prefix: {addr, len}}`, a
 * range as `{range: [from, to]}`, and wraps any of these as `{elem: {val, timeout, expires}}`
 * when the element has a timeout or other attributes.
 */
export function parseElement(raw: unknown, family: Family, nowMs: number): SetElement {
  const wrapped = obj(obj(raw)?.elem);
  const val = wrapped ? wrapped.val : raw;
  const expires = wrapped && typeof wrapped.expires === 'number' ? wrapped.expires : null;
  // nft truncates `expires` to whole seconds: the element really expires within the next second
  const expiresMs = expires === null ? 0 : nowMs + expires * 1000 + 500;
  const concat = obj(val)?.concat;
  if (Array.isArray(concat)) {
    const [addr, proto, port] = concat;
    const target = valueKey(addr, family);
    const p = parsePort(proto, port);
    return { key: elementKey(target, p), target, family, port: p, expiresMs };
  }
  const target = valueKey(val, family);
  return { key: target, target, family, expiresMs };
}

/** `tcp` / `udp` and `22` or `{range: [1000, 2000]}` (protocol numbers 6 / 17 also taken). */
function parsePort(proto: unknown, port: unknown): ElementPort {
  const p = proto === 'tcp' || proto === 6 ? 'tcp' : proto === 'udp' || proto === 17 ? 'udp' : null;
  const range = obj(port)?.range;
  const [from, to] = Array.isArray(range) ? range : [port, port];
  if (p === null || typeof from !== 'number' || typeof to !== 'number') {
    throw new DecodeError(`nft -j: unknown port element ${JSON.stringify([proto, port])}`);
  }
  return { proto: p, from, to };
}

function valueKey(val: unknown, family: Family): string {
  if (typeof val === 'string') return parseNetwork(val).text;
  const prefix = obj(obj(val)?.prefix);
  if (prefix) return parseNetwork(`${String(prefix.addr)}/${String(prefix.len)}`).text;
  const range = obj(val)?.range;
  if (Array.isArray(range) && range.length === 2) return rangeKey(String(range[0]), String(range[1]), family);
  throw new DecodeError(`nft -j: unknown set element ${JSON.stringify(val)}`);
}

/** A range that is exactly one CIDR becomes that CIDR; any other range stays `from-to`. */
function rangeKey(from: string, to: string, family: Family): string {
  const a = tryParseAddress(from);
  const b = tryParseAddress(to);
  if (!a || !b || a.family !== family || b.family !== family || b.value < a.value) {
    throw new DecodeError(`nft -j: bad range ${from}-${to}`);
  }
  const size = b.value - a.value + 1n;
  const width = family === 4 ? 32 : 128;
  if ((size & (size - 1n)) === 0n && (a.value & (size - 1n)) === 0n) {
    const bits = width - (size.toString(2).length - 1);
    return parseNetwork(`${a.text}/${bits}`).text;
  }
  return `${a.text}-${b.text}`;
}

function parseRule(rule: Json): NftRule {
  let protocol: string | null = null;
  let set: string | null = null;
  let rest = '';
  let verdict: NftRule['verdict'] = null;
  let counter = false;
  for (const e of Array.isArray(rule.expr) ? rule.expr : []) {
    const expr = obj(e);
    if (!expr) continue;
    if ('drop' in expr) verdict = 'drop';
    if ('reject' in expr) verdict = 'reject';
    if ('counter' in expr) counter = true;
    const match = obj(expr.match);
    const left = obj(match?.left);
    const parts: unknown[] = Array.isArray(left?.concat) ? left.concat : [left];
    const payload = obj(obj(parts[0])?.payload);
    if (match && payload && payload.field === 'saddr' && typeof match.right === 'string' && match.right.startsWith('@')) {
      protocol = String(payload.protocol);
      set = match.right.slice(1);
      rest = parts.slice(1).map(keyText).join(' . ');
    }
  }
  return { chain: String(rule.chain), protocol, set, rest, verdict, counter };
}

/** `meta l4proto`, `th dport`, `tcp dport`: a key expression in nft's text form. */
function keyText(part: unknown): string {
  const meta = obj(obj(part)?.meta);
  if (meta) return `meta ${String(meta.key)}`;
  const payload = obj(obj(part)?.payload);
  if (payload) return `${String(payload.protocol)} ${String(payload.field)}`;
  return JSON.stringify(part);
}

function items(stdout: string): Json[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch (err) {
    throw new DecodeError('nft -j: output is not JSON', { cause: err });
  }
  const list = obj(doc)?.nftables;
  if (!Array.isArray(list)) throw new DecodeError('nft -j: no "nftables" array');
  return list.map(obj).filter((x): x is Json => x !== null);
}

function obj(v: unknown): Json | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null;
}
