/**
 * One prefregex, failregex or ignoreregex of a filter: fail2ban's tags resolved, translated from
 * Python once, searched in the line buffer. Knows which captures are fail2ban's fields (`ip4`,
 * `ip6`, `dns`, `fid`, `user`, `mlfid`, `content`, ... and every `<F-NAME>`), merges `alt_*`
 * captures into their field and `tuple_*` captures into a tuple, and, for multi-line buffers,
 * which lines of the buffer a match used.
 */

import { mayMatch, type Prefilter } from './pyre/prefilter.js';
import { type PyRegex, translatePython } from './pyre/pyre.js';
import { RegexSyntaxError } from './pyre/regex-error.js';
import { resolveTags, scopeGroupFlags, tagGroupName, type UseDns } from './tags.js';

/** Where a field's value comes from: the match `m`, the prefregex's match `p`, or nowhere (undefined). */
type FieldSource = readonly [name: string, from: 'm' | 'p' | null, index: number];

/**
 * A function building the fields object of a match with one fixed shape (an object literal), so
 * that reading and copying the fields stays on V8's fast paths.
 */
function fieldMaker(sources: readonly FieldSource[]): (m: RegExpExecArray, p?: RegExpExecArray | null) => Fields {
  if (sources.some(([n]) => n === '__proto__')) {
    return (m, p) => {
      const f: Fields = {};
      for (const [n, from, i] of sources) f[n] = from === 'm' ? m[i] : from === 'p' ? p?.[i] : undefined;
      return f;
    };
  }
  const body = sources.map(([n, from, i]) => `${JSON.stringify(n)}: ${from === null ? 'undefined' : `${from}[${i}]`}`).join(', ');
  return new Function('m', 'p', `return { ${body} };`) as (m: RegExpExecArray, p?: RegExpExecArray | null) => Fields;
}

/** Builds a failregex's fields from its match and the prefregex's match (null: none). */
export type FieldsWithPrefix = (m: RegExpExecArray, pm: RegExpExecArray | null) => Fields;

/** A line of the buffer: text before the date, the date text, text after it. */
export type TupleLine = readonly [pre: string, date: string, post: string];

/** Captured fields of a match (fail2ban's groupdict): every named group, unset ones undefined. */
export type Fields = Record<string, unknown>;

const FAILURE_ID_GROUPS = ['fid', 'ip4', 'ip6', 'dns'] as const;
const FAILURE_ID_PRESENT = [...FAILURE_ID_GROUPS, 'mlfid'];
const COMPLEX_NAME = /^(alt_|tuple_)(.*?)(?:_\d+)?$/;

/** The text a buffer of lines is searched in: the lines without their dates, each ended by "\n". */
export function bufferText(lines: readonly TupleLine[]): string {
  if (lines.length === 1) {
    const l = lines[0] as TupleLine;
    return `${l[0]}${l[2]}\n`;
  }
  let s = '';
  for (const l of lines) s += `${l[0]}${l[2]}\n`;
  return s;
}

const NO_LINES: readonly TupleLine[] = Object.freeze([]);

/** The result of one search. */
export interface RegexMatch {
  readonly m: RegExpExecArray;
  /** Buffer lines the match spans (skipped lines removed). */
  readonly matched: readonly TupleLine[];
  /** Buffer lines outside it (and lines a `<SKIPLINES>` skipped). */
  readonly unmatched: readonly TupleLine[];
}

/** A compiled regex of a filter. */
export class FilterRegex {
  /** The regex as the filter wrote it (tags not resolved). */
  readonly source: string;
  private readonly py: PyRegex;
  private readonly prefilter: Prefilter | undefined;
  private readonly names: string[];
  private readonly indexes: number[];
  private readonly alts: Array<[string, string]> = [];
  private readonly tuples: Array<[string, string]> = [];
  private readonly skipLines: number[] = [];
  private readonly make: (m: RegExpExecArray) => Fields;
  private readonly makeWithoutContent: (m: RegExpExecArray) => Fields;
  private readonly contentIndex: number | undefined;
  private captures: number | undefined;
  private withIndices: RegExp | undefined;
  /** Every named capture starts or ends where the match does (see {@link execSpans}); per named capture, 1 when it ends it. */
  private readonly spansFromLengths: boolean;
  private readonly fromEnd: Uint8Array;

  /** Throws RegexSyntaxError. */
  constructor(source: string, opts: { multiline: boolean; useDns: UseDns }) {
    this.source = source;
    const python = scopeGroupFlags(resolveTags(source, opts.useDns));
    if (python.trim() === '') throw new RegexSyntaxError('an empty regex cannot be used', source, 0);
    this.py = translatePython(python, { multiline: opts.multiline });
    this.prefilter = this.py.prefilter;
    this.names = [...this.py.names.keys()];
    this.indexes = this.names.map((n) => this.py.names.get(n) as number);
    for (const name of [...this.names].sort()) {
      if (name.length <= 4) continue;
      const m = COMPLEX_NAME.exec(name);
      if (!m) continue;
      const target = tagGroupName(m[2] as string);
      (m[1] === 'alt_' ? this.alts : this.tuples).push([name, target]);
    }
    for (let i = 0; this.py.names.has(`skiplines${i}`); i++) this.skipLines.push(this.py.names.get(`skiplines${i}`) as number);
    const own = this.names.map((n, i): FieldSource => [n, 'm', this.indexes[i] as number]);
    this.make = fieldMaker(own);
    this.makeWithoutContent = fieldMaker(own.filter(([n]) => n !== 'content'));
    this.contentIndex = this.py.names.get('content');
    this.spansFromLengths = this.indexes.every((k) => this.py.endGroups.has(k) || this.py.startGroups.has(k));
    this.fromEnd = Uint8Array.from(this.indexes, (k) => (this.py.endGroups.has(k) ? 1 : 0));
  }

  /** False when no match can start with code unit `c` at the start of the buffer (see pyre/prefilter.ts). */
  mayStartWith(c: number): boolean {
    const first = this.prefilter?.first;
    return first === null || first === undefined || first.has(c);
  }

  /** True when the regex has captures besides `<F-CONTENT>`. */
  hasFieldsBesidesContent(): boolean {
    return this.names.some((n) => n !== 'content');
  }

  /** The JS capture index of `<F-CONTENT>`, if the regex has one. */
  contentCapture(): number | undefined {
    return this.contentIndex;
  }

  /** The prefilter's literal (a text every match contains), null when it has none. */
  literal(): string | null {
    return this.prefilter?.literal ?? null;
  }

  /** The `<F-CONTENT>` capture of a match (prefregex), if any. */
  content(m: RegExpExecArray): string | undefined {
    return this.contentIndex === undefined ? undefined : m[this.contentIndex];
  }

  /** True when the regex has a group that identifies a failure (address, `fid` or `mlfid`). */
  hasFailureId(): boolean {
    return FAILURE_ID_PRESENT.some((g) => this.py.names.has(g));
  }

  /** True when the regex has a capture called `name`. */
  has(name: string): boolean {
    return this.py.names.has(name);
  }

  /**
   * {@link exec} for a text known to start with one of the regex's first characters (a candidate
   * of first-char-index.ts): only the prefilter's literal is checked first.
   */
  execCandidate(buf: string): RegExpExecArray | null {
    const literal = this.prefilter?.literal;
    if (literal !== undefined && literal !== null && !buf.includes(literal)) return null;
    return this.py.re.exec(buf);
  }

  /** Searches `buf` (prefilter first); null when it does not match. */
  exec(buf: string): RegExpExecArray | null {
    if (this.prefilter !== undefined && !mayMatch(this.prefilter, buf)) return null;
    return this.py.re.exec(buf);
  }

  /** Number of JavaScript captures (the translation's helpers included): `exec` results have one more element. */
  captureCount(): number {
    return this.captures ??= new RegExp(`${this.py.re.source}|`, this.py.re.flags.replace(/[gyd]/g, '')).exec('')!.length - 1;
  }

  /**
   * {@link exec}, giving where the match and its named captures (the fields) are instead of their
   * text: `spans` gets, per capture (0: the whole match), its start and end in `buf`, -1 when it
   * is unset; the spans of unnamed captures are left as they are (the engine's newFront sets them
   * to -1). It must hold `2 * (captureCount() + 1)` numbers. False when it
   * does not match. When every named capture starts or ends where the match does, their spans
   * follow from their lengths; else the match indices (`d` flag, slower) are asked for.
   */
  execSpans(buf: string, spans: Int32Array): boolean {
    if (this.prefilter !== undefined && !mayMatch(this.prefilter, buf)) return false;
    const named = this.indexes;
    if (this.spansFromLengths) {
      const m = this.py.re.exec(buf);
      if (m === null) return false;
      const start = m.index;
      const end = start + m[0].length;
      spans[0] = start;
      spans[1] = end;
      const fromEnd = this.fromEnd;
      for (let i = 0; i < named.length; i++) {
        const k = named[i] as number;
        const v = m[k];
        if (v === undefined) spans[2 * k] = spans[2 * k + 1] = -1;
        else if (fromEnd[i] === 1) {
          spans[2 * k] = end - v.length;
          spans[2 * k + 1] = end;
        } else {
          spans[2 * k] = start;
          spans[2 * k + 1] = start + v.length;
        }
      }
      return true;
    }
    this.withIndices ??= new RegExp(this.py.re.source, `${this.py.re.flags.replace(/[gyd]/g, '')}d`);
    const m = this.withIndices.exec(buf);
    if (m === null) return false;
    const at = m.indices as RegExpIndicesArray;
    spans[0] = m.index;
    spans[1] = m.index + m[0].length;
    for (let i = 0; i < named.length; i++) {
      const k = named[i] as number;
      const span = at[k];
      spans[2 * k] = span === undefined ? -1 : span[0];
      spans[2 * k + 1] = span === undefined ? -1 : span[1];
    }
    return true;
  }

  /** True when capture `name` always takes part and ends where the match ends. */
  endsMatch(name: string): boolean {
    const i = this.py.names.get(name);
    return i !== undefined && this.py.endGroups.has(i);
  }

  /** Searches `buf` (the text of `lines`, see {@link bufferText}); null when it does not match. */
  search(buf: string, lines: readonly TupleLine[]): RegexMatch | null {
    const m = this.exec(buf);
    if (m === null) return null;
    if (lines.length <= 1) return { m, matched: lines, unmatched: NO_LINES };
    const start = m.index;
    const end = start + m[0].length;
    const lineStart = buf.lastIndexOf('\n', start) + 1;
    // (an empty match at 0 makes Python look from the end: index("\n", -1))
    const nlEnd = buf.indexOf('\n', end - 1 < 0 ? buf.length - 1 : end - 1);
    const lineEnd = nlEnd < 0 ? buf.length : nlEnd + 1;
    const first = countNewlines(buf, 0, lineStart);
    const last = countNewlines(buf, 0, lineEnd);
    const matched = lines.slice(first, last);
    const unmatched = lines.slice(0, first);
    const skipped = this.skippedLines(m);
    let n = 0;
    for (const s of skipped) {
      for (let k = n; k < matched.length; k++) {
        const l = matched[k] as TupleLine;
        if (l[0] + l[2] === s) {
          unmatched.push(...matched.splice(k, 1));
          n = k;
          break;
        }
      }
    }
    unmatched.push(...lines.slice(last));
    return { m, matched, unmatched };
  }

  private skippedLines(m: RegExpExecArray): string[] {
    if (this.skipLines.length === 0) return [];
    let s = '';
    for (const i of this.skipLines) s += m[i] ?? '';
    return s === '' ? [] : s.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/).filter((l, k, all) => k < all.length - 1 || l !== '');
  }

  /**
   * The captured fields of a match, `alt_*` and `tuple_*` merged as fail2ban merges them
   * (`withoutContent`: the `<F-CONTENT>` capture left out, as the prefregex's are used).
   */
  fields(m: RegExpExecArray, withoutContent = false): Fields {
    const f = withoutContent ? this.makeWithoutContent(m) : this.make(m);
    this.mergeComplex(f);
    return f;
  }

  /** Merges `alt_*` captures into their field and `tuple_*` captures into a tuple. */
  private mergeComplex(f: Fields): void {
    for (const [k, n] of this.alts) {
      const v = f[k];
      if (v && !f[n]) f[n] = v;
    }
    for (const [k, n] of this.tuples) {
      const v = f[k];
      const t = f[n];
      f[n] = Array.isArray(t) ? [...(t as unknown[]), v] : [t, v];
    }
  }

  /** Names of the fields a match may have: its captures and the fields `alt_*`/`tuple_*` merge into. */
  fieldNames(): string[] {
    return [...this.names, ...this.alts.map(([, n]) => n), ...this.tuples.map(([, n]) => n)];
  }

  /**
   * The fields of a match of this failregex with the prefregex's fields merged in (fail2ban:
   * `fail = preGroups.copy(); fail.update(currFail)`): a field the failregex has wins, even unset.
   * `shape`: every field name the objects get (in this order, unset ones undefined), so that all
   * failures of a filter share one object shape; it must hold {@link fieldNames} and the prefregex's.
   */
  withPrefix(pref: FilterRegex | undefined, shape: readonly string[]): FieldsWithPrefix {
    if (pref !== undefined && pref.hasFieldsBesidesContent() && (pref.alts.length > 0 || pref.tuples.length > 0)) {
      return (m, pm) => {
        const f = this.fields(m);
        if (pm === null) return f;
        const pre = pref.fields(pm, true);
        for (const k in pre) if (!(k in f)) f[k] = pre[k];
        return f;
      };
    }
    // fields of the prefregex the failregex lacks are read straight from its match, unless an
    // alt_/tuple_ merge of the failregex may set them first (then only when it did not)
    const own = new Map(this.names.map((n, i) => [n, this.indexes[i] as number]));
    const merged = new Set([...this.alts, ...this.tuples].map(([, n]) => n));
    const extra = new Map<string, number>();
    if (pref !== undefined) pref.names.forEach((n, i) => n !== 'content' && !own.has(n) && extra.set(n, pref.indexes[i] as number));
    const late = [...extra].filter(([n]) => merged.has(n));
    const make = fieldMaker(shape.map((n): FieldSource => {
      const i = own.get(n);
      if (i !== undefined) return [n, 'm', i];
      const j = extra.get(n);
      return j !== undefined && !merged.has(n) ? [n, 'p', j] : [n, null, 0];
    }));
    const simple = this.alts.length === 0 && this.tuples.length === 0;
    return (m, pm) => {
      const f = make(m, pm);
      if (simple) return f;
      this.mergeComplex(f);
      if (pm !== null) for (const [n, i] of late) if (f[n] === undefined) f[n] = pm[i];
      return f;
    };
  }

  /** The failure id of a match: the first set of `groups` (fid, ip4, ip6, dns by default). */
  failureId(m: RegExpExecArray, groups: readonly string[] = FAILURE_ID_GROUPS): string | undefined {
    for (const g of groups) {
      const i = this.py.names.get(g);
      if (i !== undefined && m[i] !== undefined) return m[i];
    }
    return undefined;
  }
}

function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i >= 0 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}
