/**
 * The filter engine: one fail2ban filter (prefregex, failregex, ignoreregex, maxlines,
 * datepattern) applied to lines in order, as fail2ban's Filter.processLine/findFailure do:
 *
 * 1. the date is found (see date/date-detector.ts) and its text cut out of the line; a line
 *    without a date takes the last date seen when that is less than a minute old;
 * 2. the line joins the buffer of the last `maxlines` lines;
 * 3. prefregex must match; its `<F-CONTENT>` becomes the text the failregexes see, its other
 *    captures are merged into every failure;
 * 4. failregexes are tried in order; a match vetoed by an ignoreregex is ignored; the lines a
 *    failure used leave the buffer; `<F-MLFID>` sessions are merged over lines (mlfid-cache.ts).
 *
 * Pure and synchronous: time comes from the injected clock, no DNS is resolved (a `<HOST>` that
 * is a name is returned as such).
 */

import { bufferText, type Fields, type FieldsWithPrefix, FilterRegex, type TupleLine } from './fail-regex.js';
import { DateDetector } from './date/date-detector.js';
import type { DateTemplate } from './date/date-template.js';
import { zoneOffset, type DateContext } from './date/strptime.js';
import type { TimeZone } from './date/time-zone.js';
import { type EngineFailure, type EngineOptions, FilterEngineError, type FilterSpec, type FoundDate, type LineFront } from './filter-spec.js';
import { FirstCharIndex } from './first-char-index.js';
import { addFailure, type Sessions } from './engine-failure.js';
import { MlfidCache } from './mlfid-cache.js';

export { type EngineFailure, type EngineOptions, FilterEngineError, type FilterSpec, type LineFront } from './filter-spec.js';

const NONE: EngineFailure[] = [];

/** See FilterEngine.missTable. */
export type MissTable = ReadonlyArray<readonly string[] | null>;

/**
 * True when no failregex can match the content of a prefregex match (`spans`, its content at
 * capture `ci` ending the match at the end of `buf` but its "\n"): its first character has no
 * candidate, or every candidate's literal is missing from it.
 */
function surelyMissed(buf: string, spans: Int32Array, ci: number, misses: MissTable): boolean {
  const start = spans[2 * ci] as number;
  if (start < 0 || start >= buf.length - 1 || spans[2 * ci + 1] !== buf.length - 1) return false;
  const c = buf.charCodeAt(start);
  const lits = c < 128 ? misses[c] : null;
  if (lits === null || lits === undefined) return false;
  // (most failregexes start with their literal: those found there end the search soonest)
  for (let i = 0; i < lits.length; i++) if (buf.startsWith(lits[i] as string, start)) return false;
  for (let i = 0; i < lits.length; i++) if (buf.indexOf(lits[i] as string, start) >= 0) return false;
  return true;
}

/** A match rebuilt from its captures' spans in `text` (see FilterRegex.execSpans). */
function matchOf(text: string, spans: Int32Array): RegExpExecArray {
  const n = spans.length >> 1;
  const m = new Array<string | undefined>(n) as unknown as RegExpExecArray;
  for (let k = 0; k < n; k++) {
    const start = spans[2 * k] as number;
    (m as Array<string | undefined>)[k] = start < 0 ? undefined : text.slice(start, spans[2 * k + 1]);
  }
  m.index = spans[0] as number;
  return m;
}

/** Fields the engine and mlfid sessions set besides the captures. */
const ENGINE_FIELDS = ['fid', 'ip4', 'ip6', 'dns', 'mlfid', 'user', 'nofail', 'mlfforget', 'mlfgained', 'mlfpending', 'matches', 'users', 'nofail-matches', 'ip'];

/** A compiled filter with its per-log state (date detector, line buffer, mlfid sessions). */
export class FilterEngine {
  readonly pref: FilterRegex | undefined;
  readonly fail: readonly FilterRegex[];
  readonly ignore: readonly FilterRegex[];
  readonly detector: DateDetector;
  private readonly maxLines: number;
  private readonly checkAll: boolean;
  private readonly dateCtx: { nowMs: number; defaultOffset: number | undefined; zone: TimeZone };
  private readonly clock: () => number;
  /** `<F-MLFID>` sessions, the clock's time for the line being processed, checkAllRegex. */
  private readonly sessions: Sessions;
  private readonly onIgnore: ((index: number) => void) | undefined;
  /** Per failregex: its fields with the prefregex's merged in. */
  private readonly makeFields: readonly FieldsWithPrefix[];
  /** The prefregex's `<F-CONTENT>` ends its match: the content's text is a slice of the line's. */
  private readonly contentEndsMatch: boolean;
  /** Ignoreregexes run before the prefregex (fail2ban does so when there are few of them). */
  private readonly ignoreFirst: boolean;
  private lineBuffer: TupleLine[] = [];
  // With maxlines 1 the buffer is the line being processed (none when `singleEmpty`), its strings
  // built only when read: `singleSrc` up to `singleEnd`, the date at [singlePreEnd, singlePostStart)
  // (its text that one when `singleTimeOwn`, else `singleTimeText`), and once the prefregex gave
  // it, `singleContent` instead.
  private singleSrc = '';
  private singleEnd = 0;
  private singlePreEnd = 0;
  private singlePostStart = 0;
  private singleTimeOwn = false;
  private singleTimeText = '';
  private singleContent: string | undefined;
  /** Where `singleContent` is in the text the regexes saw, when it was not sliced yet. */
  private singleContentAt: [number, number] | undefined;
  private singleEmpty = true;
  private readonly firstChar: FirstCharIndex;
  /** The last valid date's text: `lastTimeSrc`'s [lastTimeStart, lastTimeEnd), sliced when read (see lastTime). */
  private lastTimeText: string | undefined = '';
  private lastTimeSrc = '';
  private lastTimeStart = 0;
  private lastTimeEnd = 0;
  private lastDate: number | null = null;
  /** Where the date of the line being processed is, and where it is cut out. */
  private readonly found: FoundDate = { found: false, start: 0, end: 0, time: null };
  private readonly front: LineFront = { preEnd: 0, postStart: 0, timeKind: 0, date: null, pref: 0, spans: new Int32Array(0) };
  /** Which ignoreregex vetoed the last ignored match (-1 none), for counters. */
  lastIgnored = -1;
  /** Lines (buffers) the prefregex matched so far. */
  prefHits = 0;

  /** Compiles `spec`; throws {@link FilterEngineError}. */
  constructor(spec: FilterSpec, opts: EngineOptions) {
    const useDns = spec.usedns ?? 'warn';
    this.maxLines = spec.maxlines ?? 1;
    const multiline = this.maxLines > 1;
    this.checkAll = opts.checkAllRegex ?? false;
    this.clock = opts.clock;
    this.onIgnore = opts.onIgnoreRegex;
    const build = (list: 'prefregex' | 'failregex' | 'ignoreregex', source: string, index: number, ml: boolean): FilterRegex => {
      try {
        return new FilterRegex(source, { multiline: ml, useDns });
      } catch (cause) {
        throw new FilterEngineError(list, index, source, cause);
      }
    };
    this.pref = spec.prefregex ? build('prefregex', spec.prefregex, 0, false) : undefined;
    this.contentEndsMatch = this.pref?.endsMatch('content') ?? false;
    this.fail = spec.failregex.map((s, i) => {
      const r = build('failregex', s, i, multiline);
      if (!r.hasFailureId() && !this.pref?.hasFailureId()) {
        throw new FilterEngineError('failregex', i, s, new Error('no failure-id group (<HOST>, <ADDR>, <F-ID>, <F-MLFID>, ...)'));
      }
      return r;
    });
    // every failure of the filter gets one object shape (fields it lacks undefined)
    const shape = new Set([...(this.pref?.fieldNames() ?? []).filter((n) => n !== 'content'), ...this.fail.flatMap((r) => r.fieldNames()), ...ENGINE_FIELDS]);
    this.makeFields = this.fail.map((r) => r.withPrefix(this.pref, [...shape]));
    this.firstChar = new FirstCharIndex(this.fail);
    this.sessions = { cache: new MlfidCache(opts.clock, [...shape]), nowMs: 0, checkAll: this.checkAll };
    this.ignore = spec.ignoreregex.map((s, i) => build('ignoreregex', s, i, false));
    this.ignoreFirst = this.ignore.length > 0 && this.ignore.length < this.fail.length - 2;
    let defaultOffset: number | undefined;
    if (spec.logtimezone !== undefined) {
      defaultOffset = zoneOffset(spec.logtimezone);
      if (defaultOffset === undefined) throw new FilterEngineError('datepattern', 0, spec.logtimezone, new Error(`unknown or unsupported logtimezone ${spec.logtimezone}`));
    }
    this.dateCtx = { nowMs: 0, defaultOffset, zone: opts.zone };
    this.detector = new DateDetector(opts.clock, Math.max((opts.wallClock ?? Date.now)(), opts.clock()));
    (spec.datepattern ?? []).forEach((p, i) => {
      try {
        this.detector.appendPattern(p);
      } catch (cause) {
        throw new FilterEngineError('datepattern', i, p, cause);
      }
    });
  }

  /** The lines kept for multi-line regexes (date cut out), oldest first. */
  get buffer(): readonly TupleLine[] {
    if (this.maxLines > 1) return this.lineBuffer;
    if (this.singleEmpty) return [];
    if (this.singleContentAt !== undefined) {
      const src = this.singleSrc;
      const text = `${src.slice(0, this.singlePreEnd)}${src.slice(this.singlePostStart, this.singleEnd)}\n`;
      this.singleContent = text.slice(this.singleContentAt[0], this.singleContentAt[1]);
      this.singleContentAt = undefined;
    }
    return this.singleContent !== undefined ? [['', '', this.singleContent]] : [this.singleLine()];
  }

  /** The line being processed (maxlines 1) as a buffer line: text before the date, the date's, after it. */
  private singleLine(): TupleLine {
    const src = this.singleSrc;
    const pre = this.singlePreEnd === 0 ? '' : src.slice(0, this.singlePreEnd);
    const time = this.singleTimeOwn ? src.slice(this.singlePreEnd, this.singlePostStart) : this.singleTimeText;
    const post = this.singlePostStart === 0 && this.singleEnd === src.length ? src : src.slice(this.singlePostStart, this.singleEnd);
    return [pre, time, post];
  }

  /** The last valid date's text. */
  private lastTime(): string {
    return (this.lastTimeText ??= this.lastTimeSrc.slice(this.lastTimeStart, this.lastTimeEnd));
  }

  /**
   * Processes one line. `journal` gives the time of a line that carries none in its text (journal
   * entries): the date detector is then skipped. Returns the failures found (often none).
   */
  processLine(line: string, journal?: { timeText: string; time: number }): EngineFailure[] {
    return this.process(line, undefined, journal);
  }

  /**
   * {@link processLine} for a line as read from a file, ending with its "\n": the same as
   * `processLine(lineNl.slice(0, -1))` (a line without "\n" is taken whole), but the text the
   * regexes see, the line followed by "\n", is a slice of `lineNl` instead of a copy.
   */
  processLineNl(lineNl: string): EngineFailure[] {
    if (lineNl.charCodeAt(lineNl.length - 1) !== 10) return this.process(lineNl, undefined);
    return this.process(lineNl.slice(0, -1), lineNl);
  }

  /**
   * The first half of {@link processLineNl}: the date of `lineNl` found and cut out, and (with
   * `maxlines` 1) the prefregex searched, into `out` (see {@link newFront}). The date detector
   * keeps state from line to line, so this runs on every line in log order, and it can do so on
   * another engine built from the same spec (in another thread); the second half is then
   * {@link processLineNlFront} on this engine with `out`. `prefregex` false leaves the prefregex
   * to the second half (it keeps no state, so either half may search it); `misses`, the second
   * engine's {@link missTable}, lets this tell a line no failregex can match.
   */
  frontNl(lineNl: string, out: LineFront, prefregex = true, misses?: MissTable): void {
    const nowMs = this.clock();
    const hasNl = lineNl.charCodeAt(lineNl.length - 1) === 10;
    const line = hasNl ? lineNl.slice(0, -1) : lineNl;
    this.locate(line, nowMs, this.found);
    this.cut(this.found, nowMs, out);
    out.pref = 0;
    if (this.maxLines !== 1 || this.pref === undefined || !prefregex) return;
    const buf = hasNl && out.preEnd === 0 ? lineNl.slice(out.postStart) : `${line.slice(0, out.preEnd)}${line.slice(out.postStart)}\n`;
    out.pref = this.pref.execSpans(buf, out.spans) ? 2 : 1;
    if (out.pref === 2 && misses !== undefined && this.contentEndsMatch && surelyMissed(buf, out.spans, this.pref.contentCapture() as number, misses)) out.pref = 3;
  }

  /**
   * For {@link frontNl} on another engine: per first character of the prefregex's `<F-CONTENT>`
   * (ASCII), the literals of the failregexes that may match a content starting with it (null: one
   * has none, the content may match). Undefined when the second half must see every line
   * (ignoreregexes, maxlines above 1, no `<F-CONTENT>` ending the prefregex).
   */
  missTable(): MissTable | undefined {
    if (this.maxLines !== 1 || this.ignore.length > 0 || !this.contentEndsMatch) return undefined;
    const table: Array<readonly string[] | null> = [];
    for (let c = 0; c < 128; c++) {
      const lits: string[] = [];
      let known = true;
      for (const i of this.firstChar.candidates(c)) {
        const lit = (this.fail[i] as FilterRegex).literal();
        if (lit === null) known = false;
        else lits.push(lit);
      }
      table.push(known ? lits : null);
    }
    return table;
  }

  /** A {@link LineFront} for {@link frontNl}. */
  newFront(): LineFront {
    return { preEnd: 0, postStart: 0, timeKind: 0, date: null, pref: 0, spans: new Int32Array(2 * ((this.pref?.captureCount() ?? 0) + 1)).fill(-1) };
  }

  /** The second half of {@link processLineNl}: `front` is what {@link frontNl} found for this line. */
  processLineNlFront(lineNl: string, front: LineFront): EngineFailure[] {
    this.sessions.nowMs = this.clock();
    const hasNl = lineNl.charCodeAt(lineNl.length - 1) === 10;
    return this.back(lineNl, hasNl ? lineNl.length - 1 : lineNl.length, hasNl, front);
  }

  private process(line: string, lineNl: string | undefined, journal?: { timeText: string; time: number }): EngineFailure[] {
    const nowMs = this.clock();
    if (!journal) {
      this.locate(line, nowMs, this.found);
      this.cut(this.found, nowMs, this.front);
      return lineNl === undefined ? this.back(line, line.length, false, this.front) : this.back(lineNl, line.length, true, this.front);
    }
    this.sessions.nowMs = nowMs;
    this.lastTimeText = journal.timeText;
    this.lastDate = journal.time;
    if (this.maxLines === 1) {
      this.setSingle(line, line.length, 0, 0, false, journal.timeText);
      return this.findFailureSingle(lineNl ?? `${line}\n`, journal.time, undefined);
    }
    return this.findFailure(['', journal.timeText, line], journal.time);
  }

  /** Runs the date detector on `line` (the date's time only when its text is not empty). */
  private locate(line: string, nowMs: number, out: FoundDate): void {
    const m = this.detector.find(line, nowMs);
    if (m === null) {
      out.found = false;
      return;
    }
    const template = this.detector.found as DateTemplate;
    const end = template.spanEnd(m);
    const start = template.spanStart(m, end);
    out.found = true;
    out.start = start;
    out.end = end;
    out.time = null;
    if (start === end) return;
    this.dateCtx.nowMs = nowMs;
    out.time = template.getDate(m, this.dateCtx as DateContext);
  }

  /**
   * Where the date found is cut out of the line, and the line's time: its date's, or the last one
   * when the line has none (or an invalid one) and the last is less than a minute old.
   */
  private cut(f: FoundDate, nowMs: number, out: LineFront): void {
    this.sessions.nowMs = nowMs;
    const nowS = nowMs / 1000;
    let preEnd = 0;
    let postStart = 0;
    let timeKind = 0;
    let date: number | null = null;
    if (f.found) {
      preEnd = f.start;
      postStart = f.end;
      if (f.start !== f.end) {
        timeKind = 1;
        date = f.time;
        if (date !== null) this.lastDate = date;
      } else if (this.lastDate && this.lastDate > nowS - 60) {
        preEnd = postStart = 0;
        timeKind = 2;
        date = this.lastDate;
      } else date = nowS;
    }
    if (date === null && this.lastDate && this.lastDate > nowS - 60) {
      preEnd = postStart = 0;
      timeKind = 2;
      date = this.lastDate;
    }
    out.preEnd = preEnd;
    out.postStart = postStart;
    out.timeKind = timeKind;
    out.date = date;
  }

  /**
   * The line with its date cut out (see {@link cut}): the regexes. The line is `src` up to `end`
   * (`hasNl`: `src` is that followed by "\n").
   */
  private back(src: string, end: number, hasNl: boolean, front: LineFront): EngineFailure[] {
    const { preEnd, postStart, date, timeKind } = front;
    if (timeKind === 1 && date !== null) {
      this.lastTimeText = undefined;
      this.lastTimeSrc = src;
      this.lastTimeStart = preEnd;
      this.lastTimeEnd = postStart;
      this.lastDate = date;
    }
    if (this.maxLines === 1) {
      this.setSingle(src, end, preEnd, postStart, timeKind === 1, timeKind === 2 ? this.lastTime() : '');
      // (a prefregex found not to match, or a content no failregex can match: nothing will,
      // unless an ignoreregex runs first)
      if ((front.pref === 1 || front.pref === 3) && !this.ignoreFirst) {
        this.lastIgnored = -1;
        if (front.pref === 3) {
          this.prefHits++;
          const ci = (this.pref as FilterRegex).contentCapture() as number;
          this.singleContentAt = [front.spans[2 * ci] as number, front.spans[2 * ci + 1] as number];
        }
        return NONE;
      }
      // the text the regexes see: when the date (if any) was cut from the start of the line, a
      // slice of the line read with its "\n"
      const buf = preEnd === 0 && hasNl ? (postStart === 0 ? src : src.slice(postStart)) : `${src.slice(0, preEnd)}${src.slice(postStart, end)}\n`;
      return this.findFailureSingle(buf, date, front.pref === 0 ? undefined : front);
    }
    const pre = preEnd === 0 ? '' : src.slice(0, preEnd);
    const timeText = timeKind === 1 ? src.slice(preEnd, postStart) : timeKind === 2 ? this.lastTime() : '';
    return this.findFailure([pre, timeText, src.slice(postStart, end)], date);
  }

  /** The line being processed, with maxlines 1 (see {@link singleLine}). */
  private setSingle(src: string, end: number, preEnd: number, postStart: number, timeOwn: boolean, timeText: string): void {
    this.singleSrc = src;
    this.singleEnd = end;
    this.singlePreEnd = preEnd;
    this.singlePostStart = postStart;
    this.singleTimeOwn = timeOwn;
    this.singleTimeText = timeText;
    this.singleContent = undefined;
    this.singleContentAt = undefined;
    this.singleEmpty = false;
  }

  /** Runs the ignoreregexes on `buf`; true (and `lastIgnored` set) when one matches. */
  private ignoreText(buf: string): boolean {
    let found = -1;
    for (let i = 0; i < this.ignore.length; i++) {
      if ((this.ignore[i] as FilterRegex).exec(buf) === null) continue;
      found = i;
      this.onIgnore?.(i);
      if (!this.checkAll) break;
    }
    this.lastIgnored = found;
    return found >= 0;
  }

  /**
   * {@link findFailure} for `maxlines` 1: the buffer is the line (see {@link setSingle}), `buf` its
   * text without the date and with "\n"; its tuple is built only for a match. `front`: the
   * prefregex's match, when it was searched beforehand.
   */
  private findFailureSingle(buf: string, date: number | null, front: LineFront | undefined): EngineFailure[] {
    this.lastIgnored = -1;
    if (this.ignoreFirst && this.ignoreText(buf)) return NONE;
    let pm: RegExpExecArray | null = null;
    if (this.pref) {
      if (front === undefined) pm = this.pref.exec(buf);
      else if (front.pref === 2) pm = matchOf(buf, front.spans);
      if (pm === null) return NONE;
      this.prefHits++;
      const content = this.pref.content(pm);
      if (content) {
        this.singleContent = content;
        const end = pm.index + (pm[0] as string).length;
        buf = this.contentEndsMatch && end === buf.length - 1 ? buf.slice(end - content.length) : `${content}\n`;
      }
    }
    let matched: TupleLine[] | undefined;
    let out: EngineFailure[] = NONE;
    let cand = this.firstChar.candidates(buf.charCodeAt(0));
    for (let k = 0; k < cand.length; k++) {
      const i = cand[k] as number;
      const fr = this.fail[i] as FilterRegex;
      const m = fr.execCandidate(buf);
      if (m === null) continue;
      const fail = (this.makeFields[i] as FieldsWithPrefix)(m, pm);
      if (this.ignore.length > 0 && this.ignoreText(buf)) {
        if (!this.checkAll) {
          this.singleEmpty = true;
          break;
        }
        continue;
      }
      if (!this.checkAll) {
        // the match used the line: what is left of the buffer is empty
        this.singleEmpty = true;
        buf = '';
        // the failregexes after this one see the empty buffer
        cand = this.firstChar.candidates(NaN);
        k = -1;
        while (k + 1 < cand.length && (cand[k + 1] as number) <= i) k++;
      }
      matched ??= [this.singleLine()];
      if (out === NONE) out = [];
      if (addFailure(out, i, fr, m, fail, matched, date, this.sessions)) break;
    }
    return out;
  }

  private ignoreLine(buf: string, org: readonly TupleLine[], unmatched?: readonly TupleLine[], matched?: readonly TupleLine[]): boolean {
    if (matched) {
      org = matched;
      buf = bufferText(org);
    }
    let found = -1;
    for (let i = 0; i < this.ignore.length; i++) {
      if (!(this.ignore[i] as FilterRegex).search(buf, org)) continue;
      found = i;
      this.onIgnore?.(i);
      if (unmatched) this.lineBuffer = [...unmatched];
      if (!this.checkAll) break;
    }
    this.lastIgnored = found;
    return found >= 0;
  }

  /** fail2ban's findFailure on the line buffer (`maxlines` > 1). */
  private findFailure(tuple: TupleLine, date: number | null): EngineFailure[] {
    this.lineBuffer.push(tuple);
    if (this.lineBuffer.length > this.maxLines) this.lineBuffer = this.lineBuffer.slice(-this.maxLines);
    const org = this.lineBuffer;
    let buf: string | null = bufferText(org);
    this.lastIgnored = -1;
    if (this.ignoreFirst && this.ignoreLine(buf, org)) return NONE;
    let pm: RegExpExecArray | null = null;
    if (this.pref) {
      const p = this.pref.search(buf, org);
      if (!p) return NONE;
      this.prefHits++;
      pm = p.m;
      const content = this.pref.content(pm);
      if (content) {
        this.lineBuffer = [['', '', content]];
        buf = null;
      }
    }
    let out: EngineFailure[] = NONE;
    let may: Uint8Array = this.firstChar.mask(-1);
    for (let i = 0; i < this.fail.length; i++) {
      const fr = this.fail[i] as FilterRegex;
      if (buf === null) {
        buf = bufferText(this.lineBuffer);
        may = this.firstChar.mask(buf.charCodeAt(0));
      } else if (i === 0) may = this.firstChar.mask(buf.charCodeAt(0));
      if (may[i] === 0) continue;
      const fm = fr.search(buf, org);
      if (!fm) continue;
      const fail = (this.makeFields[i] as FieldsWithPrefix)(fm.m, pm);
      if (this.ignore.length > 0 && this.ignoreLine(buf, org, fm.unmatched, fm.matched)) {
        buf = null;
        if (!this.checkAll) break;
        continue;
      }
      this.lineBuffer = [...fm.unmatched];
      buf = null;
      if (out === NONE) out = [];
      if (addFailure(out, i, fr, fm.m, fail, fm.matched, date, this.sessions)) break;
    }
    return out;
  }
}
