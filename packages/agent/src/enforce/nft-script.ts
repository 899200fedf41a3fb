/**
 * Writes the `nft -f -` batches fleetban sends: the table with its sets and chains, and element
 * changes. Only validated names and normalised element keys ever reach the text, so nothing a
 * log line contains can inject nft syntax.
 */
import { ParseError } from '@fleetban/shared';
import type { ElementOp } from './reconcile.js';
import { timeoutSeconds, type SetElement } from './set-element.js';

/** Names of the sets and chains inside fleetban's table. */
export const NFT_NAMES = { ban4: 'ban4', ban6: 'ban6', prerouting: 'prerouting', input: 'input' } as const;

/** The base chains, their hook and priority. */
export const NFT_CHAINS = [
  // raw priority: before conntrack and before Docker's DNAT (-100), so published ports are covered
  { name: NFT_NAMES.prerouting, hook: 'prerouting', prio: -300 },
  // defence in depth, just before the usual filter chains (priority 0)
  { name: NFT_NAMES.input, hook: 'input', prio: -10 },
] as const;

/** The two rules of every base chain: the `protocol saddr @set` match and the set it reads. */
export const NFT_RULES = [
  { protocol: 'ip', set: NFT_NAMES.ban4 },
  { protocol: 'ip6', set: NFT_NAMES.ban6 },
] as const;

/** Elements per `add element` / `delete element` line. */
const CHUNK = 1000;

/** Throws ParseError unless `name` is a plain nft identifier (letters, digits, `_`, max 32). */
export function checkTableName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(name)) throw new ParseError('nftables table name', name);
  return name;
}

/**
 * Creates table, sets and chains if missing and rewrites the chains' rules, in one transaction:
 * `add` is idempotent and the chains are flushed before their rules are added again, so running
 * it twice leaves exactly one copy of each rule. Set elements are untouched.
 */
export function structureScript(table: string): string {
  const t = `inet ${table}`;
  const lines = [
    `add table ${t}`,
    `add set ${t} ${NFT_NAMES.ban4} { type ipv4_addr; flags interval, timeout; }`,
    `add set ${t} ${NFT_NAMES.ban6} { type ipv6_addr; flags interval, timeout; }`,
  ];
  for (const c of NFT_CHAINS) {
    lines.push(`add chain ${t} ${c.name} { type filter hook ${c.hook} priority ${c.prio}; policy accept; }`);
  }
  for (const c of NFT_CHAINS) {
    lines.push(`flush chain ${t} ${c.name}`);
    for (const r of NFT_RULES) lines.push(`add rule ${t} ${c.name} ${r.protocol} saddr @${r.set} counter drop`);
  }
  return `${lines.join('\n')}\n`;
}

/** Deletes the table if it exists (the `add` first makes the `delete` never fail). */
export function dropScript(table: string): string {
  return `add table inet ${table}\ndelete table inet ${table}\n`;
}

/** Deletes and recreates the whole table (elements are lost): repairs sets or chains of the wrong kind. */
export function rebuildScript(table: string): string {
  return dropScript(table) + structureScript(table);
}

/**
 * One batch for `ops`: all deletes first (unbans, and the delete half of a `replace`), then all
 * adds, each with its timeout counted from `nowMs` (none = permanent).
 */
export function elementScript(table: string, ops: readonly ElementOp[], nowMs: number): string {
  const deletes: SetElement[] = [];
  const adds: SetElement[] = [];
  for (const op of ops) {
    if (op.kind !== 'add') deletes.push(op.el);
    if (op.kind !== 'delete') adds.push(op.el);
  }
  const lines = [
    ...elementLines('delete', table, deletes, () => ''),
    ...elementLines('add', table, adds, (el) => {
      const s = timeoutSeconds(el.expiresMs, nowMs);
      return s === null ? '' : ` timeout ${nftDuration(s)}`;
    }),
  ];
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function elementLines(verb: string, table: string, els: readonly SetElement[], suffix: (el: SetElement) => string): string[] {
  const lines: string[] = [];
  for (const family of [4, 6] as const) {
    const set = family === 4 ? NFT_NAMES.ban4 : NFT_NAMES.ban6;
    const mine = els.filter((el) => el.family === family);
    for (let i = 0; i < mine.length; i += CHUNK) {
      const body = mine.slice(i, i + CHUNK).map((el) => `${el.key}${suffix(el)}`).join(', ');
      lines.push(`${verb} element inet ${table} ${set} { ${body} }`);
    }
  }
  return lines;
}

/**
 * Seconds as nft's `1d2h3m4s`: nft 1.0.x refuses a plain seconds count of more than 8 digits,
 * the composite form carries any timeout up to {@link MAX_TIMEOUT_S}.
 */
export function nftDuration(seconds: number): string {
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.length === 0 ? '1s' : parts.join('');
}
