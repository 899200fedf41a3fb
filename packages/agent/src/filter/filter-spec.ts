/**
 * What the filter engine (filter-engine.ts) is built from and what it returns: a filter's
 * definition, the engine's options, one failure, and the error a regex that cannot be used raises.
 */

import type { Fields } from './fail-regex.js';
import type { TimeZone } from './date/time-zone.js';
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

/** Where the date of a line is (the date detector's answer). */
export interface FoundDate {
  /** A date template matched. */
  found: boolean;
  /** The date text's span in the line (empty for a template without text, such as {NONE}). */
  start: number;
  end: number;
  /** Its time (seconds since the epoch), null when the text is not a valid date. */
  time: number | null;
}

/** The first half of the engine's work on a line (filled in place by its frontNl). */
export interface LineFront {
  /** The text the regexes see: the line's [0, preEnd) and [postStart, end), then "\n". */
  preEnd: number;
  postStart: number;
  /** The date text: 0 none, 1 the line's [preEnd, postStart), 2 the last one, carried over. */
  timeKind: number;
  /** The line's time (seconds since the epoch), null when none. */
  date: number | null;
  /**
   * 0: the prefregex was not searched (or there is none); 1: it does not match; 2: it matches;
   * 3: it matches, and no failregex can match its content (see FilterEngine.missTable).
   */
  pref: number;
  /** The prefregex's match: per capture (0: the whole match), its start and end in that text, -1 when unset. */
  spans: Int32Array;
}

/** Throws RegexSyntaxError (with the regex list and index in `where`) when a regex cannot be used. */
export class FilterEngineError extends Error {
  constructor(readonly list: 'prefregex' | 'failregex' | 'ignoreregex' | 'datepattern', readonly index: number, readonly source: string, override readonly cause: unknown) {
    super(`${list}[${index}]: ${(cause as Error).message}`);
  }
}
