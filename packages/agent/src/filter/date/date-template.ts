/**
 * Date templates, as fail2ban builds them: a Python regex searched in the line (its first group is
 * the date text, removed from the line before the failregexes run) and a way to turn the match
 * into a time. Three kinds: a `datepattern` with `%` codes, `EPOCH`/`LEPOCH` numbers, `TAI64N`.
 *
 * Anchoring follows fail2ban: by default a date must start at a word boundary and end at one
 * (`**` at either end disables that); `{^LN-BEG}` anchors at the line start allowing up to two
 * non-word characters before the date; `{UNB}` removes both boundaries.
 */

import { type PyRegex, translatePython } from '../pyre/pyre.js';
import { DATE_FIELDS, type DateContext, type DateFields, DateResolver } from './strptime.js';
import { ALPHA_CODE, expandCodes } from './strptime-codes.js';

/** Template flags. */
export const LINE_BEGIN = 8;
export const LINE_END = 4;
export const WORD_BEGIN = 2;
export const WORD_END = 1;

const GROUPED = /(?<!\(\?)(?<!\\)\((?!\?)/;
const GROUP_WRAP = /^((?:\(\?\w+\))?\^?(?:\(\?\w+\))?)(.*?)(\$?)$/;
const GLOBAL_FLAGS = /\(\?[a-z]+\)/;
const NO_BOUNDS = /^\{UNB\}/;
const LN_BEG = /^\{\^LN-BEG\}/;
const START_ANCHOR = /^\((?:\?:)?\^\|\\b\|\\W\)/;
const END_ANCHOR = /\(\?=\\b\|\\W\|\$\)$/;
const NO_WORD_BEGIN = /^\(*(?:\(\?\w+\))?(?:\^|\(*\*\*|\((?:\?:)?\^)/;
const NO_WORD_END = /(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$/;
const DEL_WORD_BOUNDS = /^\(*(?:\(\?\w+\))?\(*\*\*|(?<!\\)\*\*\)*$/g;
const LINE_BOUND_BEGIN = /^(?:\(\?\w+\))?(?:\^|\((?:\?:)?\^(?!\|))/;
const LINE_BOUND_END = /(?<![\\|])(?:\$\)?)$/;

/** A template's match (with indices, `d` flag, only when group 1's span needs them). */
export type DateMatch = RegExpExecArray;

/** What all templates share. */
export abstract class DateTemplate {
  name = '';
  /** Weight in the detector's ordering (100 for the anchored copies of the defaults). */
  weight = 1;
  flags = 0;
  /** Matches of this template anywhere (shared by every detector that uses it). */
  hits = 0;
  /** The Python regex (after anchoring). */
  regex = '';
  /** The `datepattern` text, for pattern templates. */
  pattern: string | undefined;
  private compiled: PyRegex | undefined;
  private fromStartRe: RegExp | undefined;

  /** Sets the regex, adding fail2ban's word or line boundaries. */
  protected setRegex(source: string, wordBegin: boolean | 'start' = true, wordEnd = true): void {
    let regex = source.trim();
    const gf = GLOBAL_FLAGS.exec(regex);
    if (gf) regex = regex.replace(GLOBAL_FLAGS, '');
    const boundBegin = wordBegin !== false && !NO_WORD_BEGIN.test(regex);
    const boundEnd = wordEnd && !NO_WORD_END.test(regex);
    if (!GROUPED.test(regex)) regex = regex.replace(GROUP_WRAP, '$1($2)$3');
    this.flags = 0;
    if (boundBegin) {
      if (wordBegin !== 'start') {
        this.flags |= WORD_BEGIN;
        regex = String.raw`(?=^|\b|\W)` + regex;
      } else {
        this.flags |= LINE_BEGIN;
        regex = String.raw`^(?:\W{0,2})?` + regex;
        if (!this.name.startsWith('{^LN-BEG}')) this.name = `{^LN-BEG}${this.name}`;
      }
    }
    if (boundEnd) {
      this.flags |= WORD_END;
      regex += String.raw`(?=\b|\W|$)`;
    }
    if (!(this.flags & LINE_BEGIN) && LINE_BOUND_BEGIN.test(regex)) this.flags |= LINE_BEGIN;
    if (!(this.flags & LINE_END) && LINE_BOUND_END.test(regex)) this.flags |= LINE_END;
    regex = regex.replace(DEL_WORD_BOUNDS, (m) => m.replaceAll('**', ''));
    if (gf) regex = gf[0] + regex;
    this.regex = regex;
    this.compiled = undefined;
    this.fromStartRe = undefined;
  }

  /** Compiles the regex (once); throws RegexSyntaxError. */
  compile(): PyRegex {
    this.compiled ??= translatePython(this.regex, { global: true, indices: 'group1' });
    return this.compiled;
  }

  /** The compiled regex without the `g` flag (searching from 0 is cheaper without it). */
  private fromStart(): RegExp {
    const re = this.compile().re;
    this.fromStartRe ??= new RegExp(re.source, re.flags.replace('g', ''));
    return this.fromStartRe;
  }

  /** Where the date text (group 1) of a match is in the line: [start, end]. */
  span(m: DateMatch): readonly [number, number] {
    const c = this.compile();
    const g = c.groupIndex[1] as number;
    if (c.group1EndsMatch) {
      const end = m.index + m[0].length;
      return [end - (m[g] as string).length, end];
    }
    return m.indices?.[g] ?? [m.index, m.index];
  }

  /** Where the date text (group 1) of a match ends in the line. */
  spanEnd(m: DateMatch): number {
    const c = this.compile();
    if (c.group1EndsMatch) return m.index + (m[0] as string).length;
    return m.indices?.[c.groupIndex[1] as number]?.[1] ?? m.index;
  }

  /** Where the date text (group 1) of a match starts in the line, given its {@link spanEnd}. */
  spanStart(m: DateMatch, end: number): number {
    const c = this.compile();
    const g = c.groupIndex[1] as number;
    if (c.group1EndsMatch) return end - (m[g] as string).length;
    return m.indices?.[g]?.[0] ?? m.index;
  }

  /** Searches the date in `line` (between `pos` and `endpos` when given, as Python's search). */
  matchDate(line: string, pos = 0, endpos?: number): DateMatch | null {
    const text = endpos !== undefined && endpos < line.length ? line.slice(0, endpos) : line;
    let m: DateMatch | null;
    if (pos === 0) m = this.fromStart().exec(text);
    else {
      const re = this.compile().re;
      re.lastIndex = pos;
      m = re.exec(text);
    }
    if (m) this.hits++;
    return m;
  }

  /** The time (seconds since the epoch) of a match, or null when it is not a valid date. */
  abstract getDate(m: DateMatch, ctx: DateContext): number | null;

  /** A pattern without its anchoring markers (for `{DATE}` pre-matches). */
  static unboundPattern(pattern: string): string {
    return pattern.replace(NO_BOUNDS, '').replace(LN_BEG, '').replace(START_ANCHOR, '').replace(END_ANCHOR, '');
  }
}

/** Reads the date of a match: its fields, whether two matches differ only in their seconds. */
interface DateReader {
  /** The {@link DateFields} of a match: every field present, one object shape for all templates. */
  readonly fields: (m: DateMatch) => DateFields;
  /** True when two matches have the same fields but maybe their seconds. */
  readonly sameMinute: (a: DateMatch, b: DateMatch) => boolean;
}

function dateReader(names: ReadonlyMap<string, number>): DateReader {
  const body = DATE_FIELDS.map((f) => `${f}: ${names.has(f) ? `m[${names.get(f) as number}]` : 'undefined'}`).join(', ');
  const same = DATE_FIELDS.filter((f) => f !== 'S' && names.has(f)).map((f) => `a[${names.get(f) as number}] === b[${names.get(f) as number}]`);
  return {
    fields: new Function('m', `return { ${body} };`) as (m: DateMatch) => DateFields,
    sameMinute: new Function('a', 'b', `return ${same.join(' && ') || 'true'};`) as (a: DateMatch, b: DateMatch) => boolean,
  };
}

/** A template from a `datepattern` with strptime `%` codes. */
export class PatternTemplate extends DateTemplate {
  /** Builds it; throws Error when the pattern has an unknown `%` code. */
  constructor(pattern: string, exYear: string) {
    super();
    this.pattern = pattern;
    let p = pattern;
    let wordBegin: boolean | 'start' = true;
    let wordEnd = true;
    if (NO_BOUNDS.test(p)) {
      p = p.replace(NO_BOUNDS, '');
      wordBegin = wordEnd = false;
    }
    if (wordBegin && LN_BEG.test(p)) {
      p = p.replace(LN_BEG, '');
      wordBegin = 'start';
    }
    const expanded = expandCodes(p, exYear);
    if (!expanded) throw new Error(`unknown % code (an unescaped percent char?) in datepattern: ${pattern}`);
    this.name = expanded.name;
    this.setRegex(ALPHA_CODE.test(p) ? `(?iu)${expanded.regex}` : expanded.regex, wordBegin, wordEnd);
  }

  private reader: DateReader | undefined;
  private second: number | undefined;
  private lastMatch: DateMatch | undefined;
  private readonly resolver = new DateResolver();

  getDate(m: DateMatch, ctx: DateContext): number | null {
    if (this.reader === undefined) {
      const names = this.compile().names;
      this.reader = dateReader(names);
      this.second = names.get('S');
    }
    // the fields but the seconds are parsed again only when they changed (mostly once a minute)
    const changed = this.lastMatch === undefined || !this.reader.sameMinute(m, this.lastMatch);
    this.lastMatch = m;
    return this.resolver.toTimeKnown(changed ? this.reader.fields(m) : undefined, this.second === undefined ? undefined : m[this.second], ctx);
  }
}

const EPOCH_RE = String.raw`\d{10,11}\b(?:\.\d{3,6})?`;
const LONG_EPOCH_RE = String.raw`\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?`;
/** `{EPOCH}` / `{LEPOCH}` inside a datepattern. */
export const EPOCH_IN_PATTERN = /(?<!\\)\{L?EPOCH\}/i;

/** Seconds since the epoch (`EPOCH`), or milli/microseconds too (`LEPOCH`). */
export class EpochTemplate extends DateTemplate {
  private readonly group: number;
  private readonly long: boolean;

  constructor(opts: { lineBeginOnly?: boolean; pattern?: string; long?: boolean }) {
    super();
    const num = opts.long ? LONG_EPOCH_RE : EPOCH_RE;
    this.name = opts.pattern ?? (opts.long ? 'LongEpoch' : 'Epoch');
    this.group = 1;
    if (opts.pattern !== undefined) {
      this.pattern = opts.pattern;
      this.group = 2;
      this.setRegex(`(${opts.pattern.replace(new RegExp(EPOCH_IN_PATTERN.source, 'gi'), `(${num})`)})`);
    } else if (!opts.lineBeginOnly) {
      this.setRegex(String.raw`((?:^|(?P<square>(?<=^\[))|(?P<selinux>(?<=\baudit\()))${num})(?:(?(selinux)(?=:\d+\)))|(?(square)(?=\])))`, false);
    } else {
      this.setRegex(String.raw`((?P<square>(?<=^\[))?${num})(?(square)(?=\]))`, 'start', true);
    }
    this.long = opts.long ?? false;
  }

  getDate(m: DateMatch): number | null {
    const v = m[this.compile().groupIndex[this.group] as number];
    if (v === undefined) return null;
    let n = Number(v);
    if (!Number.isFinite(n)) return null; // digits of another script: not a time JavaScript can read
    if (this.long && v.length >= 13) n = v.length >= 16 && !v.includes('.') ? n / 1_000_000 : n / 1000;
    return n;
  }
}

/** TAI64N labels (`@4000000045...`), as daemontools writes them. */
export class Tai64nTemplate extends DateTemplate {
  constructor(wordBegin: boolean | 'start') {
    super();
    this.name = 'TAI64N';
    this.setRegex('@[0-9a-f]{24}', wordBegin);
  }

  getDate(m: DateMatch): number | null {
    const v = m[this.compile().groupIndex[1] as number];
    return v === undefined ? null : parseInt(v.slice(2, 17), 16);
  }
}
