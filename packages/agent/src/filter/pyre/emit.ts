/**
 * Turns a parsed Python pattern ({@link ParsedPattern}) into JavaScript RegExp source for the `u`
 * flag, keeping Python's meaning (not `v`: Node 20's V8 mis-matches some `v` patterns, e.g.
 * `/(?:\[[^\]]*\])+/v` finds nothing in "[a]"):
 *
 * - `.` is `[^\n]` (Python's dot takes `\r`); `$` also matches before a final `\n`; `^`/`$` under
 *   MULTILINE are written as look-arounds, so the JS pattern never needs the `m` flag.
 * - `\w`, `\d`, `\s`, `\b` are Unicode, as in Python 3 (`[\p{L}\p{N}_]`, `\p{Nd}`, Python's
 *   whitespace set), or ASCII under `(?a)`.
 * - Case-insensitive parts that JavaScript cannot scope (no `(?i:...)` in Node 20) are spelled out
 *   as classes (`[aA]`).
 * - Every capturing group becomes an unnamed JS group; `groupIndex[pyIndex]` gives its JS index.
 * - Conditionals `(?(g)yes|no)` and back-references to groups that may not have taken part (which
 *   fail in Python but match empty in JS) test whether group g took part with a helper capture
 *   placed at g's start: it captures the input from one character before g to the end, so a
 *   back-reference to it can never match later in the string, while an unset one matches empty.
 *   One case cannot be told apart: g matched empty at offset 0 and is tested at offset 0.
 * - Atomic groups and possessive quantifiers use the `(?=(X))\k` idiom.
 */

import type { ClassEscape, ClassItem, Node, ParsedPattern } from './ast.js';
import { RegexSyntaxError } from './regex-error.js';

/** The translation of one pattern. */
export interface Emitted {
  readonly source: string;
  /** `u`, plus `i` when the whole pattern is case-insensitive. */
  readonly flags: string;
  /** Python group index (1-based) → JS capture index. */
  readonly groupIndex: Int32Array;
}

const UNICODE_SPACE = String.raw`\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000`;
const ESC_CLASS: Record<string, [unicode: string, ascii: string]> = {
  d: [String.raw`\p{Nd}`, '0-9'],
  w: [String.raw`\p{L}\p{N}_`, 'A-Za-z0-9_'],
  s: [UNICODE_SPACE, String.raw`\t-\r `],
};
const SYNTAX = new Set('^$\\.*+?()[]{}|/');
const CLASS_RESERVED = new Set('^$\\.*+?()[]{}|/-');

function hex(c: number): string {
  return `\\u{${c.toString(16)}}`;
}

function outsideChar(c: number): string {
  const s = String.fromCodePoint(c);
  if (SYNTAX.has(s)) return `\\${s}`;
  if (c >= 0x20 && c < 0x7f) return s;
  return hex(c);
}

function classChar(c: number): string {
  const s = String.fromCodePoint(c);
  if (CLASS_RESERVED.has(s)) return `\\${s}`;
  if (c >= 0x20 && c < 0x7f) return s;
  return hex(c);
}

/** The other-case forms of a code point (itself included), for case-insensitive emulation. */
function caseVariants(c: number): number[] {
  const s = String.fromCodePoint(c);
  const out = new Set<number>([c]);
  for (const v of [s.toLowerCase(), s.toUpperCase()]) {
    const p = v.codePointAt(0) as number;
    if (String.fromCodePoint(p) === v) out.add(p);
  }
  return [...out];
}

function escContent(e: ClassEscape): string {
  const pair = ESC_CLASS[e.k] as [string, string];
  return e.ascii ? pair[1] : pair[0];
}

class Emitter {
  private next = 0;
  private readonly groupIndex: Int32Array;
  /** Python group index → JS indices of its participation helpers [afterFirstChar, atStart]. */
  private readonly helpers = new Map<number, [number, number]>();
  private readonly needsHelper = new Set<number>();
  private readonly optional = new Set<number>();
  private readonly jsIgnoreCase: boolean;

  constructor(private readonly p: ParsedPattern) {
    this.groupIndex = new Int32Array(p.groupCount + 1);
    this.jsIgnoreCase = p.globalIgnoreCase && !p.anyCaseSensitiveScope;
    this.scan(p.root, false);
  }

  run(): Emitted {
    const source = this.node(this.p.root);
    return { source, flags: this.jsIgnoreCase ? 'iu' : 'u', groupIndex: this.groupIndex };
  }

  private refIndex(ref: number | string): number {
    return typeof ref === 'number' ? ref : (this.p.names.get(ref) as number);
  }

  /** Finds groups that may not take part (for guarded back-references) and conditional targets. */
  private scan(n: Node, optional: boolean): void {
    switch (n.t) {
      case 'alt':
        for (const a of n.alts) this.scan(a, true);
        return;
      case 'seq':
        for (const a of n.items) this.scan(a, optional);
        return;
      case 'group':
        if (n.kind === 'cap' && optional) this.optional.add(n.index);
        this.scan(n.body, optional || n.kind === 'nla' || n.kind === 'nlb');
        return;
      case 'quant':
        this.scan(n.body, optional || n.min === 0);
        return;
      case 'cond':
        this.needsHelper.add(this.refIndex(n.ref));
        this.scan(n.yes, true);
        if (n.no) this.scan(n.no, true);
        return;
      default:
        return;
    }
  }

  private node(n: Node): string {
    switch (n.t) {
      case 'alt':
        return n.alts.map((a) => this.node(a)).join('|');
      case 'seq':
        return n.items.map((a) => this.node(a)).join('');
      case 'char':
        if (n.ci && !this.jsIgnoreCase) {
          const v = caseVariants(n.c);
          if (v.length > 1) return `[${v.map(classChar).join('')}]`;
        }
        return outsideChar(n.c);
      case 'any':
        return n.dotall ? String.raw`[\s\S]` : String.raw`[^\n]`;
      case 'bol':
        return n.multiline ? String.raw`(?<![^\n])` : '^';
      case 'eol':
        return n.multiline ? String.raw`(?![^\n])` : String.raw`(?=\n?$)`;
      case 'start':
        return '^';
      case 'end':
        return '$';
      case 'wordb':
        if (n.ascii) return n.neg ? String.raw`\B` : String.raw`\b`;
        return n.neg
          ? String.raw`(?:(?<=[\p{L}\p{N}_])(?=[\p{L}\p{N}_])|(?<![\p{L}\p{N}_])(?![\p{L}\p{N}_]))`
          : String.raw`(?:(?<=[\p{L}\p{N}_])(?![\p{L}\p{N}_])|(?<![\p{L}\p{N}_])(?=[\p{L}\p{N}_]))`;
      case 'esc':
        return `[${n.neg ? '^' : ''}${escContent(n)}]`;
      case 'class':
        return this.charClass(n.neg, n.items, n.ci && !this.jsIgnoreCase);
      case 'group':
        return this.group(n);
      case 'cond': {
        const h = this.helpers.get(this.refIndex(n.ref));
        if (!h) throw new RegexSyntaxError('conditional refers to a group not opened before it', `(?(${n.ref})`, n.at);
        const yes = this.node(n.yes);
        const no = n.no ? this.node(n.no) : '';
        return `(?:(?:(?!\\${h[0]})|(?!\\${h[1]}))${yes}|(?=\\${h[0]})(?=\\${h[1]})${no})`;
      }
      case 'quant':
        return this.quant(n.body, n.min, n.max, n.lazy, n.possessive);
      case 'backref': {
        const py = this.refIndex(n.ref);
        if (n.ci && !this.jsIgnoreCase) {
          throw new RegexSyntaxError('a back-reference inside a case-insensitive scope cannot be translated', `(?P=${n.ref})`, n.at);
        }
        const js = this.groupIndex[py] as number;
        const h = this.helpers.get(py);
        return h ? `(?:(?:(?!\\${h[0]})|(?!\\${h[1]}))\\${js})` : `(?:\\${js})`;
      }
    }
  }

  private group(n: Extract<Node, { t: 'group' }>): string {
    switch (n.kind) {
      case 'cap': {
        this.groupIndex[n.index] = ++this.next;
        let helper = '';
        if (this.needsHelper.has(n.index) || this.backrefGuarded(n.index)) {
          const h1 = ++this.next;
          const h0 = ++this.next;
          this.helpers.set(n.index, [h1, h0]);
          helper = String.raw`(?:(?<=(?=([\s\S]+))[\s\S])|(?<![\s\S])(?=([\s\S]*)))`;
        }
        return `(${helper}${this.node(n.body)})`;
      }
      case 'nc':
        return `(?:${this.node(n.body)})`;
      case 'la':
        return `(?=${this.node(n.body)})`;
      case 'nla':
        return `(?!${this.node(n.body)})`;
      case 'lb':
        return `(?<=${this.node(n.body)})`;
      case 'nlb':
        return `(?<!${this.node(n.body)})`;
      case 'atomic': {
        const k = ++this.next;
        return `(?:(?=(${this.node(n.body)}))\\${k})`;
      }
    }
  }

  /** Back-references to a group that may not take part are guarded (Python fails them). */
  private backrefGuarded(index: number): boolean {
    return this.optional.has(index) && this.hasBackref(this.p.root, index);
  }

  private hasBackref(n: Node, index: number): boolean {
    switch (n.t) {
      case 'backref':
        return this.refIndex(n.ref) === index;
      case 'alt':
        return n.alts.some((a) => this.hasBackref(a, index));
      case 'seq':
        return n.items.some((a) => this.hasBackref(a, index));
      case 'group':
      case 'quant':
        return this.hasBackref(n.body, index);
      case 'cond':
        return this.hasBackref(n.yes, index) || (n.no !== null && this.hasBackref(n.no, index));
      default:
        return false;
    }
  }

  private quant(body: Node, min: number, max: number, lazy: boolean, possessive: boolean): string {
    const k = possessive ? ++this.next : 0;
    let atom = this.node(body);
    const single = body.t === 'char' || body.t === 'any' || body.t === 'esc' || body.t === 'class' ||
      (body.t === 'group' && (body.kind === 'cap' || body.kind === 'nc'));
    if (!single || atom.startsWith('(?=') || atom.startsWith('(?!') || atom.startsWith('(?<')) atom = `(?:${atom})`;
    let q: string;
    if (min === 0 && max === Infinity) q = '*';
    else if (min === 1 && max === Infinity) q = '+';
    else if (min === 0 && max === 1) q = '?';
    else if (max === Infinity) q = `{${min},}`;
    else if (min === max) q = `{${min}}`;
    else q = `{${min},${max}}`;
    const out = `${atom}${q}${lazy ? '?' : ''}`;
    return possessive ? `(?:(?=(${out}))\\${k})` : out;
  }

  /**
   * A class. Negated shorthands inside one (`[\W\d]`) cannot be nested in a `u`-mode class, so
   * such a class becomes an alternation (or, negated, look-aheads and one consuming class).
   */
  private charClass(neg: boolean, items: ClassItem[], ci: boolean): string {
    let pos = '';
    const negs: string[] = [];
    for (const it of items) {
      if (it.t === 'ch') {
        const cs = ci ? caseVariants(it.c) : [it.c];
        pos += cs.map(classChar).join('');
      } else if (it.t === 'range') {
        pos += `${classChar(it.lo)}-${classChar(it.hi)}`;
        if (ci) pos += caseRanges(it.lo, it.hi);
      } else if (it.neg) negs.push(escContent(it));
      else pos += escContent(it);
    }
    if (negs.length === 0) return `[${neg ? '^' : ''}${pos}]`;
    if (!neg) return `(?:${[...(pos === '' ? [] : [`[${pos}]`]), ...negs.map((n) => `[^${n}]`)].join('|')})`;
    // not in pos, and in every negated shorthand's complement
    const last = negs.pop() as string;
    return `(?:${pos === '' ? '' : `(?![${pos}])`}${negs.map((n) => `(?=[${n}])`).join('')}[${last}])`;
  }
}

/** Extra class items making the range lo-hi case-insensitive. */
function caseRanges(lo: number, hi: number): string {
  let out = '';
  const a = 0x61;
  const z = 0x7a;
  const A = 0x41;
  const Z = 0x5a;
  const l0 = Math.max(lo, a);
  const l1 = Math.min(hi, z);
  if (l0 <= l1) out += `${classChar(l0 - 32)}-${classChar(l1 - 32)}`;
  const u0 = Math.max(lo, A);
  const u1 = Math.min(hi, Z);
  if (u0 <= u1) out += `${classChar(u0 + 32)}-${classChar(u1 + 32)}`;
  if (hi > 0x7f && hi - Math.max(lo, 0x80) < 2048) {
    for (let c = Math.max(lo, 0x80); c <= hi; c++) {
      for (const v of caseVariants(c)) if (v < lo || v > hi) out += classChar(v);
    }
  }
  return out;
}

/** Emits JavaScript source for a parsed Python pattern. Throws {@link RegexSyntaxError}. */
export function emitJavaScript(p: ParsedPattern): Emitted {
  return new Emitter(p).run();
}
