import { type Clock, type JailConfig, type JailOption, type Logger, tryParseAddress } from '@fleetban/shared';
import type { LogLine } from '../tail/source.js';
import { systemTimeZone, type TimeZone } from './date/time-zone.js';
import { FilterError } from './filter-error.js';
import { FilterEngine, FilterEngineError, type FilterSpec } from './filter-engine.js';
import { FILTER_KEYS, filterSearchPath, type LoadedFilter, loadFilter } from './filter-file.js';
import { RegexSyntaxError } from './pyre/regex-error.js';

/** One failure found in a line. */
export interface FailureMatch {
  /** Canonical address. */
  readonly ip: string;
  /** The `<F-USER>` capture (else `<F-ALT_USER>`), or `''`. Attacker-controlled text. */
  readonly user: string;
  /** When it happened (ms): the line's own date when it has one, else the time it was read. */
  readonly timeMs: number;
  /** Which failregex matched (zero-based). */
  readonly regex: number;
}

/** What a jail's filter has seen. */
export interface FilterCounters {
  /** Lines reported as failures. */
  matched: number;
  /** Lines that matched a failregex and an ignoreregex. */
  ignored: number;
  /** Lines no failregex matched (including lines over the length limit and helper lines). */
  missed: number;
  /** Failures per failregex, by index. */
  perRegex: number[];
  /** Failures whose address was a DNS name (not resolved: not reported). */
  unresolved: number;
}

/** A jail's filter: turns lines into failures. */
export interface JailFilter {
  readonly name: string;
  /** The filter's own journalmatch lines (a jail's `journalmatch` replaces them, see tail/source-spec.ts). */
  readonly journalmatch: readonly string[];
  match(line: LogLine): FailureMatch | null;
  counters(): FilterCounters;
}

/** What a jail filter is built with. */
export interface JailFilterDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** Filter search path; default: project filter.d, /etc/fail2ban/filter.d, then the jail's `filterPath`. */
  readonly searchPath?: readonly string[];
  /** Local time zone of the logs; default the machine's. */
  readonly zone?: TimeZone;
  /** Lines longer than this are counted as missed without running any regex; default 65536. */
  readonly maxLineChars?: number;
}

/** The jail keys that replace a filter's. */
const JAIL_FILTER_KEYS = FILTER_KEYS.filter((k) => k !== 'journalmatch');
const DAY_MS = 86_400_000;

function jailOverrides(jail: JailConfig): Map<string, string> {
  const m = new Map<string, string>();
  if (jail.failregex.length > 0) m.set('failregex', jail.failregex.join('\n'));
  if (jail.ignoreregex.length > 0) m.set('ignoreregex', jail.ignoreregex.join('\n'));
  for (const k of JAIL_FILTER_KEYS) {
    if (k === 'failregex' || k === 'ignoreregex') continue;
    const o = jail.options[k];
    if (o !== undefined) m.set(k, o.value);
  }
  return m;
}

function where(o: JailOption | undefined): string {
  return o ? `${o.file}: ${o.section}.` : '';
}

/** Turns an engine construction error into a FilterError naming the file, the key's line and the regex. */
export function engineError(filter: string, err: unknown, lineOf: (key: string) => number | undefined): FilterError {
  if (!(err instanceof FilterEngineError)) return new FilterError(`filter ${filter}: ${(err as Error).message}`, undefined, { cause: err });
  const cause = err.cause;
  const line = lineOf(err.list);
  const construct = cause instanceof RegexSyntaxError ? cause.construct : undefined;
  const problem = cause instanceof RegexSyntaxError ? `cannot be translated (${cause.message})` : `is not usable (${(cause as Error).message})`;
  return FilterError.forRegex(
    { filter, list: err.list, index: err.index, source: err.source, ...(line === undefined ? {} : { line }), ...(construct === undefined ? {} : { construct }) },
    problem,
    { cause },
  );
}

/** Compiles a loaded filter into an engine; throws FilterError naming the file, key line and regex. */
export function compileFilter(f: LoadedFilter, opts: { clock: Clock; zone: TimeZone; logtimezone?: string; checkAllRegex?: boolean }): FilterEngine {
  const spec: FilterSpec = opts.logtimezone === undefined ? f.spec : { ...f.spec, logtimezone: opts.logtimezone };
  try {
    return new FilterEngine(spec, { clock: opts.clock, zone: opts.zone, ...(opts.checkAllRegex ? { checkAllRegex: true } : {}) });
  } catch (err) {
    throw engineError(f.file, err, (k) => f.entries.get(k)?.line);
  }
}

/**
 * Builds the filter of a jail: the fail2ban filter named by `filter` (with `name[key=value]`
 * options and the jail's `mode`), found on the search path, with the jail's own failregex,
 * ignoreregex, prefregex, datepattern, maxlines and usedns replacing the filter's (`%(known/key)s`
 * brings the filter's value back). Throws {@link FilterError} naming the filter file.
 *
 * Time: a line's own date is used (a journal entry's time for journal lines); a line without one
 * takes the time its source gives, else the time it was read; a date more than a minute away from
 * the read time (latency, or a time zone problem) is replaced by the read time, as fail2ban does in
 * operation, with a warning at most once a day. DNS names matched by `<HOST>` are not resolved (counted as `unresolved`).
 */
export function createJailFilter(jail: JailConfig, deps: JailFilterDeps): JailFilter {
  const searchPath = deps.searchPath ?? filterSearchPath(jail.filterPath ?? []);
  const options = new Map<string, string>();
  const mode = jail.options.mode?.value;
  if (mode !== undefined && mode !== '') options.set('mode', mode);
  const overrides = jailOverrides(jail);
  let loaded: LoadedFilter;
  if (jail.filter.trim() === '') {
    loaded = {
      name: jail.name,
      file: `jail ${jail.name}`,
      files: [],
      spec: {
        failregex: jail.failregex,
        ignoreregex: jail.ignoreregex,
        prefregex: overrides.get('prefregex'),
        datepattern: overrides.get('datepattern')?.split(/\n+/).map((s) => s.trim()).filter((s) => s !== ''),
        maxlines: overrides.has('maxlines') ? Number(overrides.get('maxlines')) : undefined,
      },
      journalmatch: [],
      entries: new Map(),
    };
  } else {
    loaded = loadFilter(jail.filter, { searchPath, options, jail: overrides, autoLogtype: jail.backend.kind === 'systemd' ? 'journal' : 'file' });
  }
  const tzOpt = jail.options.logtimezone;
  const zone = deps.zone ?? systemTimeZone;
  let engine: FilterEngine;
  try {
    engine = compileFilter(loaded, { clock: deps.clock, zone, ...(tzOpt ? { logtimezone: tzOpt.value } : {}) });
  } catch (err) {
    if (tzOpt && err instanceof FilterError && err.regex?.list === 'datepattern' && err.regex.source === tzOpt.value) {
      throw new FilterError(`jail ${jail.name}: ${where(tzOpt)}logtimezone (line ${tzOpt.line}): unknown or unsupported time zone ${JSON.stringify(tzOpt.value)} (expected UTC, +0200, CET ...)`, undefined, { cause: err });
    }
    throw err;
  }
  const maxLine = deps.maxLineChars ?? 64 * 1024;
  const perRegex = new Array<number>(engine.fail.length).fill(0);
  const c = { matched: 0, ignored: 0, missed: 0, unresolved: 0 };
  let nextTimeWarning = 0;
  const name = jail.filter.trim() === '' ? jail.name : jail.filter;
  return {
    name,
    journalmatch: loaded.journalmatch,
    match: (line) => {
      if (line.text.length > maxLine) {
        c.missed++;
        return null;
      }
      // a journal entry carries its time and no date in its text (fail2ban's systemd backend)
      const found = line.path === 'journal' && line.timeMs > 0
        ? engine.processLine(line.text, { timeText: '', time: line.timeMs / 1000 })
        : engine.processLine(line.text);
      for (const f of found) {
        if (f.fid === null || f.fields.nofail) continue;
        const text = f.ip ?? f.fid;
        const addr = tryParseAddress(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
        if (!addr) {
          if (f.kind === 'dns') c.unresolved++;
          continue;
        }
        c.matched++;
        perRegex[f.regex] = (perRegex[f.regex] ?? 0) + 1;
        let timeMs = f.time === null ? (line.timeMs > 0 ? line.timeMs : line.readMs) : Math.round(f.time * 1000);
        if (f.time !== null && Math.abs(timeMs - line.readMs) > 60_000) {
          if (line.readMs >= nextTimeWarning) {
            nextTimeWarning = line.readMs + DAY_MS;
            deps.logger.warn({ line: line.text, deltaS: Math.round((timeMs - line.readMs) / 1000) }, 'log date is more than a minute away from the time the line was read (latency or a time zone problem, see logtimezone): such lines count as read now');
          }
          timeMs = line.readMs;
        }
        const user = f.fields.user;
        return { ip: addr.text, user: typeof user === 'string' ? user : '', timeMs, regex: f.regex };
      }
      if (found.length === 0 && engine.lastIgnored >= 0) c.ignored++;
      else c.missed++;
      return null;
    },
    counters: () => ({ ...c, perRegex: [...perRegex] }),
  };
}
