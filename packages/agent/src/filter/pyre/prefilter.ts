/**
 * A cheap test that rules out a match before the regex runs, derived from the syntax tree:
 *
 * - `first`: for a pattern anchored at the start of the text (`^` without MULTILINE, or `\A`, on
 *   every path), the code units a match can start with (`^Failed` → "F"; `^[iI]nvalid` → "iI");
 * - `literal`: a piece of text every match contains (the longest run of case-sensitive literal
 *   characters that no path can skip: "Failed " in `... Failed (?:password|publickey) ...`).
 *
 * Both over-approximate: when they say "no", the regex cannot match; when unsure they say nothing.
 * fail2ban's filters have many failregexes anchored on a distinct word (`^Failed`, `^Invalid`,
 * `^Connection`), so on a line usually one or two of them still run.
 */

import type { ClassItem, Node, ParsedPattern } from './ast.js';

/** The cheap pre-test of a pattern. */
export interface Prefilter {
  /** Possible first code units of the text when the pattern is anchored at its start, else null. */
  readonly first: ReadonlySet<number> | null;
  /** Text every match contains, else null. */
  readonly literal: string | null;
}

type First = { set: Set<number> | 'any'; nullable: boolean };

const ANY: First = { set: 'any', nullable: false };
const EMPTY: First = { set: new Set(), nullable: true };
const MAX_SET = 256;

/** Case variants Node's `u`/`iu` matching may treat as equal; undefined when unsure (k, s, non-ASCII). */
function variants(c: number, ci: boolean): number[] | undefined {
  if (c > 0xffff) return undefined;
  if (!ci) return [c];
  const isLetter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  if (!isLetter) return c < 0x80 ? [c] : undefined;
  const lower = c | 0x20;
  if (lower === 0x6b || lower === 0x73) return undefined; // K (Kelvin sign), S (long s)
  return [lower, lower & ~0x20];
}

function union(a: Set<number> | 'any', b: Set<number> | 'any'): Set<number> | 'any' {
  if (a === 'any' || b === 'any') return 'any';
  const s = new Set(a);
  for (const x of b) s.add(x);
  return s.size > MAX_SET ? 'any' : s;
}

function classFirst(neg: boolean, items: readonly ClassItem[], ci: boolean): First {
  if (neg) return ANY;
  const s = new Set<number>();
  for (const it of items) {
    if (it.t === 'esc') return ANY;
    const lo = it.t === 'ch' ? it.c : it.lo;
    const hi = it.t === 'ch' ? it.c : it.hi;
    if (hi - lo > MAX_SET) return ANY;
    for (let c = lo; c <= hi; c++) {
      const v = variants(c, ci);
      if (!v) return ANY;
      for (const x of v) s.add(x);
    }
    if (s.size > MAX_SET) return ANY;
  }
  return { set: s, nullable: false };
}

/** FIRST set of a node: what its match can start with, and whether it can match empty. */
function first(n: Node): First {
  switch (n.t) {
    case 'char': {
      const v = variants(n.c, n.ci);
      return v ? { set: new Set(v), nullable: false } : ANY;
    }
    case 'any':
    case 'esc':
      return ANY;
    case 'class':
      return classFirst(n.neg, n.items, n.ci);
    case 'bol':
    case 'eol':
    case 'start':
    case 'end':
    case 'wordb':
      return EMPTY;
    case 'backref':
      return { set: 'any', nullable: true };
    case 'seq': {
      let set: Set<number> | 'any' = new Set();
      for (const it of n.items) {
        const f = first(it);
        set = union(set, f.set);
        if (!f.nullable || set === 'any') return { set, nullable: f.nullable };
      }
      return { set, nullable: true };
    }
    case 'alt': {
      let set: Set<number> | 'any' = new Set();
      let nullable = false;
      for (const a of n.alts) {
        const f = first(a);
        set = union(set, f.set);
        nullable ||= f.nullable;
      }
      return { set, nullable };
    }
    case 'group':
      return n.kind === 'cap' || n.kind === 'nc' || n.kind === 'atomic' ? first(n.body) : EMPTY;
    case 'quant': {
      if (n.max === 0) return EMPTY;
      const f = first(n.body);
      return { set: f.set, nullable: f.nullable || n.min === 0 };
    }
    case 'cond': {
      const y = first(n.yes);
      const no = n.no ? first(n.no) : EMPTY;
      return { set: union(y.set, no.set), nullable: y.nullable || no.nullable };
    }
  }
}

/** True when every path starts (before consuming anything) with a start-of-text anchor. */
function anchored(n: Node): boolean {
  switch (n.t) {
    case 'bol':
      return !n.multiline;
    case 'start':
      return true;
    case 'seq':
      for (const it of n.items) {
        if (anchored(it)) return true;
        if (it.t === 'group' && it.kind !== 'cap' && it.kind !== 'nc' && it.kind !== 'atomic') continue; // look-around
        if (it.t === 'wordb') continue;
        return false;
      }
      return false;
    case 'alt':
      return n.alts.length > 0 && n.alts.every(anchored);
    case 'group':
      return (n.kind === 'cap' || n.kind === 'nc' || n.kind === 'atomic') && anchored(n.body);
    default:
      return false;
  }
}

/** The longest case-sensitive literal every match of `n` contains, or ''. */
function literal(n: Node): string {
  switch (n.t) {
    case 'char':
      return !n.ci && n.c <= 0xffff ? String.fromCharCode(n.c) : '';
    case 'group':
      return n.kind === 'cap' || n.kind === 'nc' || n.kind === 'atomic' ? literal(n.body) : '';
    case 'quant':
      return n.min >= 1 ? literal(n.body) : '';
    case 'seq': {
      let best = '';
      let run = '';
      for (const it of n.items) {
        if (it.t === 'char' && !it.ci && it.c <= 0xffff) {
          run += String.fromCharCode(it.c);
          continue;
        }
        if (run.length > best.length) best = run;
        // zero-width items do not break a run of literal characters
        if (it.t === 'bol' || it.t === 'start' || it.t === 'wordb') continue;
        run = '';
        const inner = literal(it);
        if (inner.length > best.length) best = inner;
      }
      return run.length > best.length ? run : best;
    }
    default:
      return '';
  }
}

/** True when `n` never consumes input (anchors, look-arounds, and groups of those). */
function zeroWidth(n: Node): boolean {
  switch (n.t) {
    case 'bol':
    case 'eol':
    case 'start':
    case 'end':
    case 'wordb':
      return true;
    case 'seq':
      return n.items.every(zeroWidth);
    case 'alt':
      return n.alts.every(zeroWidth);
    case 'group':
      return n.kind === 'cap' || n.kind === 'nc' || n.kind === 'atomic' ? zeroWidth(n.body) : true;
    case 'quant':
      return n.max === 0 || zeroWidth(n.body);
    case 'cond':
      return zeroWidth(n.yes) && (n.no === null || zeroWidth(n.no));
    default:
      return false;
  }
}

/**
 * True when capturing group `index` always takes part and ends where the whole match ends: it
 * is an item of the pattern's top-level sequence and everything after it is zero-width. Its
 * span is then `[end - text.length, end]` and needs no match indices.
 */
export function groupEndsMatch(p: ParsedPattern, index: number): boolean {
  const items = p.root.t === 'seq' ? p.root.items : [p.root];
  const at = items.findIndex((n) => n.t === 'group' && n.kind === 'cap' && n.index === index);
  return at >= 0 && items.slice(at + 1).every(zeroWidth);
}

/**
 * True when capturing group `index` always takes part and starts where the whole match starts:
 * it is an item of the pattern's top-level sequence and everything before it is zero-width. Its
 * span is then `[start, start + text.length]` and needs no match indices.
 */
export function groupStartsMatch(p: ParsedPattern, index: number): boolean {
  const items = p.root.t === 'seq' ? p.root.items : [p.root];
  const at = items.findIndex((n) => n.t === 'group' && n.kind === 'cap' && n.index === index);
  return at >= 0 && items.slice(0, at).every(zeroWidth);
}

/** The prefilter of a parsed pattern, or undefined when it cannot rule anything out. */
export function prefilterOf(p: ParsedPattern): Prefilter | undefined {
  let firstSet: Set<number> | null = null;
  if (anchored(p.root)) {
    const f = first(p.root);
    if (!f.nullable && f.set !== 'any' && f.set.size > 0) firstSet = f.set;
  }
  const lit = literal(p.root);
  const useLit = lit.length >= 3 ? lit : null;
  if (firstSet === null && useLit === null) return undefined;
  return { first: firstSet, literal: useLit };
}

/** True when `text` may match (the prefilter cannot rule it out). */
export function mayMatch(pf: Prefilter, text: string): boolean {
  if (pf.first !== null && !pf.first.has(text.charCodeAt(0))) return false;
  return pf.literal === null || text.includes(pf.literal);
}
