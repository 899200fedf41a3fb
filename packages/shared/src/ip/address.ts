import { isIPv4, isIPv6 } from 'node:net';
import { ParseError } from '../errors.js';

/** Address family. */
export type Family = 4 | 6;

/** A single address, normalised: dotted IPv4, RFC 5952 IPv6, v4-mapped IPv6 folded to IPv4. */
export interface Address {
  readonly family: Family;
  readonly text: string;
  /** Numeric value (32 or 128 bits). */
  readonly value: bigint;
}

/** A network: address plus prefix length; `text` is `a.b.c.d/n`, or the bare address at full length. */
export interface Network {
  readonly family: Family;
  readonly bits: number;
  readonly base: bigint;
  readonly text: string;
}

const V4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Parses and normalises one address; `null` when it is not an address. */
export function tryParseAddress(input: string): Address | null {
  let s = input.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone > 0) s = s.slice(0, zone);
  const mapped = V4_MAPPED.exec(s);
  if (mapped) s = mapped[1] as string;
  if (isIPv4(s)) {
    // node's isIPv4 takes no leading zeros: the dotted text is already canonical
    let n = 0;
    let part = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 46) {
        n = n * 256 + part;
        part = 0;
      } else part = part * 10 + (c - 48);
    }
    return { family: 4, value: BigInt(n * 256 + part), text: s };
  }
  if (isIPv6(s)) {
    const value = v6Value(s);
    if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn, text: v4Text(value & 0xffffffffn) };
    return { family: 6, value, text: v6Text(value) };
  }
  return null;
}

/** Parses and normalises one address; throws {@link ParseError}. */
export function parseAddress(input: string): Address {
  const a = tryParseAddress(input);
  if (!a) throw new ParseError('IP address', input);
  return a;
}

/** Parses `addr` or `addr/bits` into a network with host bits cleared; throws {@link ParseError}. */
export function parseNetwork(input: string): Network {
  const s = input.trim();
  const slash = s.indexOf('/');
  const addr = tryParseAddress(slash < 0 ? s : s.slice(0, slash));
  if (!addr) throw new ParseError('IP address or CIDR', input);
  const max = addr.family === 4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const tail = s.slice(slash + 1);
    bits = /^\d{1,3}$/.test(tail) ? Number(tail) : NaN;
    // an IPv4-mapped IPv6 prefix (::ffff:1.2.3.0/120) folds to IPv4 /24
    if (addr.family === 4 && s.slice(0, slash).includes(':')) bits -= 96;
    if (!(bits >= 0 && bits <= max)) throw new ParseError('CIDR prefix length', input);
  }
  const mask = prefixMask(addr.family, bits);
  const base = addr.value & mask;
  const text = addr.family === 4 ? v4Text(base) : v6Text(base);
  return { family: addr.family, bits, base, text: bits === max ? text : `${text}/${bits}` };
}

/** True when `addr` lies inside `net`. */
export function networkContains(net: Network, addr: Address): boolean {
  return net.family === addr.family && (addr.value & prefixMask(net.family, net.bits)) === net.base;
}

/** True when the two networks share at least one address (one contains the other). */
export function networksOverlap(a: Network, b: Network): boolean {
  if (a.family !== b.family) return false;
  const bits = Math.min(a.bits, b.bits);
  const mask = prefixMask(a.family, bits);
  return (a.base & mask) === (b.base & mask);
}

/** The network of one address (/32 or /128). */
export function hostNetwork(a: Address): Network {
  return { family: a.family, bits: a.family === 4 ? 32 : 128, base: a.value, text: a.text };
}

/** Normalises an address or CIDR to its canonical text; throws {@link ParseError}. */
export function normalizeTarget(input: string): string {
  return parseNetwork(input).text;
}

/** The masks of every prefix length, by family: computed once (bigint shifts on every event cost). */
const MASKS: Record<Family, readonly bigint[]> = { 4: masks(32n), 6: masks(128n) };

function masks(width: bigint): bigint[] {
  const all = (1n << width) - 1n;
  const out: bigint[] = [];
  for (let bits = 0n; bits <= width; bits++) out.push(bits === 0n ? 0n : (all << (width - bits)) & all);
  return out;
}

function prefixMask(family: Family, bits: number): bigint {
  return MASKS[family][bits] as bigint;
}

function v4Text(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 0xffn)).join('.');
}

function v6Value(s: string): bigint {
  let head = s;
  let tailV4: bigint | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = parseAddress(s.slice(lastColon + 1)).value;
    head = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const [left = '', right] = head.split('::');
  const l = left ? left.split(':') : [];
  const r = right !== undefined && right !== '' ? right.split(':') : [];
  const fill = right === undefined ? [] : new Array<string>(8 - l.length - r.length).fill('0');
  const groups = [...l, ...fill, ...r];
  let v = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tailV4 !== null) v = (v & ~0xffffffffn) | tailV4;
  return v;
}

function v6Text(v: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // longest run of zeros (length >= 2) becomes '::'
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
