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

import { bufferText, type Fields, FilterRegex, type RegexMatch, type TupleLine } from './fail-regex.js';
import { DateDetector } from './date/date-detector.js';
import { zoneOffset, type DateContext } from './date/strptime.js';
import type { TimeZone } from './date/time-zone.js';
import { MlfidCache, mergeFailure } from './mlfid-cache.js';
import type { UseDns } from './tags.js';

/** A filter's definition, already read and interpolated. */
export interface FilterSpec {
  readonly prefregex?: string | undefined;
  readonly failregex: readonly string[];
  readonly ignoreregex: readonly string[];
  /** Lines kept for multi-line regexes; default 1. */
  readonly maxlines?: number | undefined;
  /** datepattern lines (undefined = fail2ban's default templates). */
  readonly datepattern?: readonly string[] | undefined;
  /** usedns: `no` makes `<HOST>` match addresses only; default `warn` (names too). */
  readonly usedns?: UseDns | undefined;
  /** logtimezone: offset used for dates that carry none (e.g. `UTC`, `+0200`). */
  readonly logtimezone?: string | undefined;
}

/** What the engine runs with. */
export interface EngineOptions {
  /** Current time in ms. */
  readonly clock: () => number;
  /** The local time zone (dates without an offset). */
  readonly zone: TimeZone;
  /** Real time, only used for the year range of `%ExY`; default Date.now. */
  readonly wallClock?: () => number;
  /** Report every failregex that matches a line, as fail2ban-regex and its tests do; default false. */
  readonly checkAllRegex?: boolean;
  /** Called with the index of each ignoreregex that vetoes a match (fail2ban's onIgnoreRegex); default none. */
  readonly onIgnoreRegex?: (index: number) => void;
}

/** One failure (or helper match) found by a failregex. */
export interface EngineFailure {
  /** Which failregex (0-based). */
  readonly regex: number;
  /** Failure id: the address text (raw), the `<F-ID>`, or null while an mlfid session waits for one. */
  readonly fid: string | null;
  /** Kind of `fid`. */
  readonly kind: 'ip4' | 'ip6' | 'dns' | 'id' | null;
  /** Address text when the failure has an id that is not the address (`<F-ID>` with `<HOST>`). */
  readonly ip: string | undefined;
  /** Time of the line (seconds since the epoch, may have a fraction), null when it has no date. */
  readonly time: number | null;
  /** Captured fields (user, nofail, matches, ...). */
  readonly fields: Fields;
}

const NONE: EngineFailure[] = [];

/** Throws RegexSyntaxError (with the regex list and index in `where`) when a regex cannot be used. */
export class FilterEngineError extends Error {
  constructor(readonly list: 'prefregex' | 'failregex' | 'ignoreregex' | 'datepattern', readonly index: number, readonly source: string, override readonly cause: unknown) {
    super(`${list}[${index}]: ${(cause as Error).message}`);
  }
}

/** A compiled filter with its per-log state (date detector, line buffer, mlfid sessions). */
export class FilterEngine {
  readonly pref: FilterRegex | undefined;
  /** The prefregex captures fields besides `<F-CONTENT>`. */
  private readonly prefFields: boolean;
  readonly fail: readonly FilterRegex[];
  readonly ignore: readonly FilterRegex[];
  readonly detector: DateDetector;
  private readonly maxLines: number;
  private readonly checkAll: boolean;
  private readonly dateCtx: { nowMs: number; defaultOffset: number | undefined; zone: TimeZone };
  private readonly clock: () => number;
  private readonly mlfid: MlfidCache;
  private readonly onIgnore: ((index: number) => void) | undefined;
  private lineBuffer: TupleLine[] = [];
  private readonly firstChar = new Map<number, Uint8Array>();
  private lastTimeText = '';
  private lastDate: number | null = null;
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
    this.mlfid = new MlfidCache(opts.clock);
    this.onIgnore = opts.onIgnoreRegex;
    const build = (list: 'prefregex' | 'failregex' | 'ignoreregex', source: string, index: number, ml: boolean): FilterRegex => {
      try {
        return new FilterRegex(source, { multiline: ml, useDns });
      } catch (cause) {
        throw new FilterEngineError(list, index, source, cause);
      }
    };
    this.pref = spec.prefregex ? build('prefregex', spec.prefregex, 0, false) : undefined;
    this.prefFields = this.pref?.hasFieldsBesidesContent() ?? false;
    this.fail = spec.failregex.map((s, i) => {
      const r = build('failregex', s, i, multiline);
      if (!r.hasFailureId() && !this.pref?.hasFailureId()) {
        throw new FilterEngineError('failregex', i, s, new Error('no failure-id group (<HOST>, <ADDR>, <F-ID>, <F-MLFID>, ...)'));
      }
      return r;
    });
    this.ignore = spec.ignoreregex.map((s, i) => build('ignoreregex', s, i, false));
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
    return this.lineBuffer;
  }

  /**
   * Processes one line. `journal` gives the time of a line that carries none in its text (journal
   * entries): the date detector is then skipped. Returns the failures found (often none).
   */
  processLine(line: string, journal?: { timeText: string; time: number }): EngineFailure[] {
    const nowMs = this.clock();
    const nowS = nowMs / 1000;
    let tuple: TupleLine;
    let date: number | null = null;
    let noDate = false;
    if (journal) {
      tuple = ['', journal.timeText, line];
      date = journal.time;
      this.lastTimeText = journal.timeText;
      this.lastDate = date;
    } else {
      const tm = this.detector.matchTime(line);
      if (tm) {
        const span = tm.template.span(tm.match);
        const text = line.slice(span[0], span[1]);
        tuple = [line.slice(0, span[0]), text, line.slice(span[1])];
        if (text !== '') {
          this.dateCtx.nowMs = nowMs;
          date = this.detector.getTime(tm, this.dateCtx as DateContext);
          if (date !== null) {
            this.lastTimeText = text;
            this.lastDate = date;
          }
        } else if (this.lastDate && this.lastDate > nowS - 60) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
        } else date = nowS;
      } else tuple = ['', '', line];
      if (date === null) {
        noDate = true;
        if (this.lastDate && this.lastDate > nowS - 60) {
          tuple = ['', this.lastTimeText, line];
          date = this.lastDate;
        }
      }
    }
    return this.findFailure(tuple, date, noDate);
  }

  /** Which failregexes may match a buffer starting with code unit `c` (1 = may), cached per `c`. */
  private startsWith(c: number): Uint8Array {
    let may = this.firstChar.get(c);
    if (!may) {
      may = Uint8Array.from(this.fail, (r) => (c < 0 || r.mayStartWith(c) ? 1 : 0));
      if (this.firstChar.size < 4096) this.firstChar.set(c, may);
    }
    return may;
  }

  private ignoreLine(buf: string, org: readonly TupleLine[], fm?: RegexMatch): boolean {
    if (fm && this.maxLines > 1) {
      org = fm.matched;
      buf = bufferText(org);
    }
    let found = -1;
    for (let i = 0; i < this.ignore.length; i++) {
      if (!(this.ignore[i] as FilterRegex).search(buf, org)) continue;
      found = i;
      this.onIgnore?.(i);
      if (!this.checkAll || this.maxLines > 1) {
        if (fm) this.lineBuffer = [...fm.unmatched];
      }
      if (!this.checkAll) break;
    }
    this.lastIgnored = found;
    return found >= 0;
  }

  private findFailure(tuple: TupleLine, date: number | null, _noDate: boolean): EngineFailure[] {
    let org: TupleLine[];
    if (this.maxLines > 1) {
      this.lineBuffer.push(tuple);
      if (this.lineBuffer.length > this.maxLines) this.lineBuffer = this.lineBuffer.slice(-this.maxLines);
      org = this.lineBuffer;
    } else org = this.lineBuffer = [tuple];
    let buf: string | null = bufferText(org);
    this.lastIgnored = -1;
    if (this.ignore.length > 0 && this.ignore.length < this.fail.length - 2) {
      if (this.ignoreLine(buf, org)) return NONE;
    }
    let pre: Fields | undefined;
    if (this.pref) {
      const pm = this.pref.search(buf, org);
      if (!pm) return NONE;
      this.prefHits++;
      if (this.prefFields) pre = this.pref.fields(pm.m, true);
      const content = this.pref.content(pm.m);
      if (content) {
        this.lineBuffer = [['', '', content]];
        buf = null;
      }
    }
    let out: EngineFailure[] = NONE;
    let may: Uint8Array = this.startsWith(-1);
    for (let i = 0; i < this.fail.length; i++) {
      const fr = this.fail[i] as FilterRegex;
      if (buf === null) {
        buf = bufferText(this.lineBuffer);
        may = this.startsWith(buf.charCodeAt(0));
      } else if (i === 0) may = this.startsWith(buf.charCodeAt(0));
      if (may[i] === 0) continue;
      const fm = fr.search(buf, org);
      if (!fm) continue;
      let fail = fr.fields(fm.m);
      if (this.ignore.length > 0 && this.ignoreLine(buf, org, fm)) {
        buf = null;
        if (!this.checkAll) break;
        continue;
      }
      if (!this.checkAll || this.maxLines > 1) {
        this.lineBuffer = [...fm.unmatched];
        buf = null;
      }
      // fail2ban: fail = preGroups.copy(); fail.update(currFail) (key order aside, the same)
      if (pre) for (const k in pre) if (!(k in fail)) fail[k] = pre[k];
      const mlfid = fail.mlfid as string | undefined;
      if (mlfid !== undefined && mlfid !== null) {
        fail = mergeFailure(this.mlfid, mlfid, fail, fm.matched);
        if (fail.nofail && !this.checkAll) return out;
      } else fail.matches = [...((fail.matches as TupleLine[] | undefined) ?? []), ...fm.matched];
      let fid = fail.fid as string | undefined;
      let kind: EngineFailure['kind'] = 'id';
      let ip = fail.ip4 as string | undefined;
      if (ip !== undefined) kind = 'ip4';
      else if ((ip = fail.ip6 as string | undefined) !== undefined) kind = 'ip6';
      else if ((ip = fail.dns as string | undefined) !== undefined) kind = 'dns';
      else {
        if (fid === undefined && (mlfid === undefined || mlfid === null)) {
          fid = fr.failureId(fm.m);
          if (fid === undefined) continue; // fail2ban logs "No group found" and goes on
        }
        ip = fid;
      }
      if (ip === undefined) {
        fail.mlfpending = 1;
        if (!this.checkAll) return out;
        if (out === NONE) out = [];
        out.push({ regex: i, fid: null, kind: null, ip: undefined, time: date, fields: { ...fail } });
        continue;
      }
      let addr: string | undefined;
      if (fid === undefined || fid === ip) fid = ip;
      else {
        addr = ip;
        if (kind !== 'id') fail.ip = ip;
      }
      if (out === NONE) out = [];
      out.push({ regex: i, fid, kind: fid === ip ? kind : 'id', ip: addr, time: date, fields: mlfid !== undefined && mlfid !== null ? { ...fail } : fail });
      if (!this.checkAll) break;
    }
    return out;
  }
}
