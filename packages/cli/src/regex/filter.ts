/**
 * The FILTER and IGNOREREGEX arguments of `fleetban regex`, resolved as fail2ban-regex resolves
 * them: a path to a filter file (`filter.d/sshd.conf`, options allowed: `sshd.conf[mode=ddos]`),
 * a filter name found on the search path (`sshd`, `sshd[mode=aggressive]`), or else a literal
 * failregex. `-c DIR` puts `DIR/filter.d` (or DIR itself when it is a filter.d) first on the
 * path; fleetban's own filter directory and /etc/fail2ban/filter.d follow.
 */

import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { engineError, FilterEngine, type FilterSpec, filterSearchPath, loadFilter, type LoadedFilter, systemTimeZone } from '@fleetban/agent';
import { confFilesOf } from '@fleetban/shared';
import { UsageError } from '../args.js';

/** fail2ban-regex's test for "this looks like a filter name or path, not a regex". */
const NAME_LIKE = /^\/{0,3}[\w/_\-.]+(?:\[[^]*\])?$/;
const FILE_EXT = /\.(?:conf|local)$/;

/** A FILTER argument, read. */
export interface RegexFilter {
  /** What was used, for the summary (`filter file : sshd, basedir: /etc/fail2ban`, `line : ...`). */
  readonly description: string;
  /** The filter's main file, or `(command line)` for a literal failregex. */
  readonly file: string;
  readonly spec: FilterSpec;
  /** Line of a filter key in the file, for errors. */
  readonly lineOf: (key: string) => number | undefined;
}

/** What the command line sets besides the two arguments. */
export interface RegexFilterOptions {
  /** `-c DIR`: a fail2ban configuration directory (its filter.d is searched first). */
  readonly configDir?: string | undefined;
  /** `--datepattern`: replaces the filter's. */
  readonly datepattern?: string | undefined;
  /** `--maxlines`: replaces the filter's. */
  readonly maxlines?: number | undefined;
  /** `--logtimezone`: offset of dates that carry none. */
  readonly logtimezone?: string | undefined;
  /** `--usedns`: yes, warn, no, raw. */
  readonly usedns?: 'yes' | 'warn' | 'no' | 'raw' | undefined;
}

/** What `fleetban regex` is asked for that decides the filter (plain data: it is sent to the reader thread too). */
export interface RegexRequest {
  readonly filterArg: string;
  readonly ignoreArg: string | undefined;
  readonly opts: RegexFilterOptions;
}

/** The filter and ignoreregex a request names, and the spec they make with its options. Throws as {@link readRegexFilter}. */
export function regexFilterOf(req: RegexRequest): { filter: RegexFilter; ignore: { description: string; regexes: string[] } | undefined; spec: FilterSpec } {
  const filter = readRegexFilter(req.filterArg, req.opts.configDir);
  const ignore = req.ignoreArg === undefined ? undefined : readIgnoreRegex(req.ignoreArg, req.opts.configDir);
  return { filter, ignore, spec: withOverrides(filter.spec, ignore?.regexes ?? [], req.opts) };
}

/** The directories a filter name is looked up in, in order. */
export function regexSearchPath(configDir?: string): string[] {
  const first = configDir === undefined ? [] : [basename(configDir) === 'filter.d' ? configDir : join(configDir, 'filter.d')];
  return [...first, ...filterSearchPath()];
}

function summaryOf(loaded: LoadedFilter, options: string): string {
  const dir = loaded.file.slice(0, loaded.file.length - basename(loaded.file).length).replace(/\/$/, '');
  return `filter file : ${loaded.name}, basedir: ${basename(dir) === 'filter.d' ? dir.slice(0, -'/filter.d'.length) || '/' : dir}${options}`;
}

function fromFile(ref: string, searchPath: readonly string[]): RegexFilter {
  const loaded = loadFilter(ref, { searchPath, autoLogtype: 'file' });
  const opts = ref.includes('[') ? `\nUse   filter options : ${ref.slice(ref.indexOf('['))}` : '';
  return { description: summaryOf(loaded, opts), file: loaded.file, spec: loaded.spec, lineOf: (k) => loaded.entries.get(k)?.line };
}

/**
 * Reads the FILTER argument. Throws FilterError (naming the filter's file) when a filter file
 * cannot be found or read.
 */
export function readRegexFilter(arg: string, configDir?: string): RegexFilter {
  const searchPath = regexSearchPath(configDir);
  if (NAME_LIKE.test(arg)) {
    const name = arg.replace(/\[[^]*$/, '');
    const options = arg.slice(name.length);
    if (name.includes('/')) return fromFile(arg, searchPath);
    if (FILE_EXT.test(name)) {
      if (existsSync(name)) return fromFile(`./${name}${options}`, searchPath);
      const dir = searchPath.find((d) => existsSync(join(d, name)));
      if (dir !== undefined) return fromFile(`${join(dir, name)}${options}`, searchPath);
      return fromFile(arg, searchPath); // fails naming the file
    }
    if (searchPath.some((d) => confFilesOf(d, name).length > 0)) return fromFile(arg, searchPath);
  }
  return {
    description: `line : ${shorten(arg)}`,
    file: '(command line)',
    spec: { failregex: [arg], ignoreregex: [] },
    lineOf: () => undefined,
  };
}

/** The IGNOREREGEX argument: a filter file (its ignoreregex lines) or a literal ignoreregex. */
export function readIgnoreRegex(arg: string, configDir?: string): { description: string; regexes: string[] } {
  const path = arg.replace(/\[[^]*$/, '');
  if (FILE_EXT.test(path) && existsSync(path) && statSync(path).isFile()) {
    const f = fromFile(arg, regexSearchPath(configDir));
    return { description: `ignoreregex ${f.description}`, regexes: [...f.spec.ignoreregex] };
  }
  return { description: `ignoreregex line : ${shorten(arg)}`, regexes: [arg] };
}

/** fail2ban-regex's shortstr: at most 53 characters. */
export function shorten(s: string, max = 53): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** The filter's spec with the command line's overrides. */
export function withOverrides(spec: FilterSpec, extraIgnore: readonly string[], o: RegexFilterOptions): FilterSpec {
  return {
    ...spec,
    ignoreregex: [...spec.ignoreregex, ...extraIgnore],
    ...(o.datepattern === undefined ? {} : { datepattern: o.datepattern.split(/\n+/).map((s) => s.trim()).filter((s) => s !== '') }),
    ...(o.maxlines === undefined ? {} : { maxlines: o.maxlines }),
    ...(o.logtimezone === undefined ? {} : { logtimezone: o.logtimezone }),
    ...(o.usedns === undefined ? {} : { usedns: o.usedns }),
  };
}

/**
 * The clock a regex run passes to the engine: it reads the system clock once every 256 calls
 * (once per line is a measurable share of the run). The engine uses it to resolve dates without a
 * year or day and to age multi-line sessions (minutes), so being a few lines late is harmless.
 */
export function coarseClock(): () => number {
  let calls = 0;
  let now = Date.now();
  return () => ((++calls & 255) === 0 ? (now = Date.now()) : now);
}

/**
 * Compiles the filter. Throws FilterError naming the filter's file, the key's line and the regex
 * when a regex cannot be translated, UsageError for an unknown `--logtimezone`.
 */
export function compileRegexFilter(
  filter: RegexFilter,
  spec: FilterSpec,
  opts: { checkAllRegex: boolean; onIgnoreRegex?: (index: number) => void },
): FilterEngine {
  try {
    return new FilterEngine(spec, {
      clock: coarseClock(),
      zone: systemTimeZone,
      checkAllRegex: opts.checkAllRegex,
      ...(opts.onIgnoreRegex ? { onIgnoreRegex: opts.onIgnoreRegex } : {}),
    });
  } catch (err) {
    const e = engineError(filter.file, err, filter.lineOf);
    if (e.regex?.list === 'datepattern' && spec.logtimezone !== undefined && e.regex.source === spec.logtimezone) {
      throw new UsageError(`--logtimezone: unknown or unsupported time zone ${JSON.stringify(spec.logtimezone)} (expected UTC, +0200, CET, UTC-0500 ...)`);
    }
    throw e;
  }
}
