import { existsSync, statSync } from 'node:fs';
import { FleetbanError } from '@fleetban/shared';
import { type Args, option, UsageError } from '../args.js';
import { forEachLine } from '../log-lines.js';
import type { FilterEngine, FilterSpec, LineFront } from '@fleetban/agent';
import { compileRegexFilter, readIgnoreRegex, readRegexFilter, type RegexFilter, type RegexFilterOptions, shorten, withOverrides } from '../regex-filter.js';
import { ReaderThread } from '../regex-reader-thread.js';
import { FailureJson, formatSummary } from '../regex-report.js';
import { failuresOf, RegexTester } from '../regex-run.js';

const USAGE = `usage: fleetban regex [options] <LOG|line> <FILTER|failregex> [IGNOREREGEX]

Tests a fail2ban filter on a log, as fail2ban-regex does. Needs no fleetban configuration.

  LOG                      a log file, or else one log line (several when it holds newlines)
  FILTER                   a filter file (filter.d/sshd.conf), a filter name with options found
                           in -c DIR/filter.d, fleetban's filter.d or /etc/fail2ban/filter.d
                           (sshd, 'sshd[mode=aggressive]'), or else a literal failregex
  IGNOREREGEX              a literal ignoreregex (or a filter file: its ignoreregex lines)

  -c, --config DIR         fail2ban configuration directory: DIR/filter.d is searched first
  -d, --datepattern P      date pattern replacing the filter's
  -L, --maxlines N         lines buffered for multi-line failregexes, replacing the filter's
  --logtimezone TZ         zone of dates that carry none: UTC, +0200, CET (also --timezone)
  --usedns V               yes, warn, no (addresses only), raw
  --json                   one JSON object per failure, in log order: {"ip", "time", "regex", <F-* fields>}
                           (first matching failregex wins, as in production; no summary)
  --print-all-matched      print every matched line
  --print-all-missed       print every missed line (default: only when fewer than 20)
  --print-all-ignored      print every ignored line
  --print-no-missed        print no missed line
  --print-no-ignored       print no ignored line
  --threads N              1: one thread; 2: a second thread reads the log, finds the dates and
                           searches the prefregex
                           (default: 2 for a log file over 32 MiB when there is more than one CPU)
`;

function intOption(args: Args, ...names: string[]): number | undefined {
  const v = option(args, ...names);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${names[0]}: expected a whole number above zero, got ${JSON.stringify(v)}`);
  return n;
}

function usedns(args: Args): RegexFilterOptions['usedns'] {
  const v = option(args, 'usedns');
  if (v === undefined) return undefined;
  if (v === 'yes' || v === 'warn' || v === 'no' || v === 'raw') return v;
  throw new UsageError(`--usedns: expected yes, warn, no or raw, got ${JSON.stringify(v)}`);
}

/** Batches output into large writes. */
function writer(): { write(s: string): void; flush(): void } {
  let buf = '';
  return {
    write(s) {
      buf += s;
      if (buf.length > 65_536) {
        process.stdout.write(buf);
        buf = '';
      }
    },
    flush() {
      if (buf !== '') process.stdout.write(buf);
      buf = '';
    },
  };
}

/** `fleetban regex <LOG|line> <FILTER|failregex> [IGNOREREGEX]`: fail2ban-regex's job. */
export async function runRegex(args: Args): Promise<number> {
  if (args.options.has('help') || args.options.has('h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [log, filterArg, ignoreArg, ...extra] = args.positional;
  if (log === undefined || filterArg === undefined || extra.length > 0) throw new UsageError(USAGE);
  if (log.startsWith('systemd-journal')) throw new UsageError('fleetban regex: reading the systemd journal is not supported yet (pipe journalctl -o short-iso into a file)');
  const configDir = option(args, 'config', 'c');
  if (configDir !== undefined && !existsSync(configDir)) throw new UsageError(`-c ${configDir}: no such directory`);
  const opts: RegexFilterOptions = {
    configDir,
    datepattern: option(args, 'datepattern', 'd'),
    maxlines: intOption(args, 'maxlines', 'L'),
    logtimezone: option(args, 'logtimezone', 'timezone', 'TZ'),
    usedns: usedns(args),
  };
  const filter = readRegexFilter(filterArg, configDir);
  const ignore = ignoreArg === undefined ? undefined : readIgnoreRegex(ignoreArg, configDir);
  const spec = withOverrides(filter.spec, ignore?.regexes ?? [], opts);
  const isFile = existsSync(log) && statSync(log).isFile();
  // a big log is read by a second thread (started first, to overlap with compiling)
  const threads = option(args, 'threads');
  if (threads !== undefined && threads !== '1' && threads !== '2') throw new UsageError(`--threads: expected 1 or 2, got ${JSON.stringify(threads)}`);
  const thread = isFile && threads !== '1' ? ReaderThread.start(log, spec, threads === '2') : undefined;
  try {
    return await run(args, { log, isFile, thread, filter, ignore, spec, opts, json: args.options.has('json') });
  } finally {
    thread?.stop();
  }
}

interface RegexRun {
  readonly log: string;
  readonly isFile: boolean;
  readonly thread: ReaderThread | undefined;
  readonly filter: RegexFilter;
  readonly ignore: { readonly description: string } | undefined;
  readonly spec: FilterSpec;
  readonly opts: RegexFilterOptions;
  readonly json: boolean;
}

async function run(args: Args, r: RegexRun): Promise<number> {
  const { log, isFile, thread, filter, ignore, spec, opts, json } = r;
  const feed = async (engine: FilterEngine, each: (lineNl: string, front?: LineFront) => void): Promise<void> => {
    if (thread) await thread.forEachLine(engine.newFront(), each);
    else if (isFile) forEachLine(log, (l) => each(l));
    else for (const l of log.split('\n')) each(`${l.replace(/[\r\n]+$/, '')}\n`);
  };

  const out = writer();
  if (json) {
    const engine = compileRegexFilter(filter, spec, { checkAllRegex: false });
    const fmt = new FailureJson(engine);
    await feed(engine, failuresOf(engine, (f) => out.write(`${fmt.format(f, Date.now() / 1000)}\n`)));
    out.flush();
    return 0;
  }

  const limit = opts.maxlines ?? 20;
  const print = {
    matched: args.options.has('print-all-matched'),
    missed: args.options.has('print-all-missed'),
    ignored: args.options.has('print-all-ignored'),
    noMissed: args.options.has('print-no-missed'),
    noIgnored: args.options.has('print-no-ignored'),
  };
  const tester = new RegexTester({ matched: print.matched, missed: print.missed && !print.noMissed, ignored: print.ignored && !print.noIgnored }, limit);
  const engine = compileRegexFilter(filter, spec, { checkAllRegex: true, onIgnoreRegex: tester.onIgnoreRegex });
  tester.use(engine, spec.maxlines ?? 1);
  let head = '\nRunning tests\n=============\n\n';
  head += `Use   failregex ${filter.description}\n`;
  if (ignore) head += `Use ${ignore.description}\n`;
  if (opts.maxlines !== undefined || spec.maxlines !== undefined) head += `Use         maxlines : ${spec.maxlines ?? 1}\n`;
  if (spec.datepattern !== undefined) head += `Use      datepattern : ${spec.datepattern.join(' ')}\n`;
  if (isFile) head += `Use         log file : ${log}\nUse         encoding : UTF-8\n`;
  else head += `Use      single line : ${shorten(log.replace(/\n/g, '\\n'))}\n`;
  if (thread) head += 'Use          threads : 2 (the second reads the log, finds the dates, searches the prefregex)\n';
  out.write(`${head}\n`);
  const t0 = performance.now();
  try {
    await feed(engine, (l, front) => tester.test(l, front));
  } catch (err) {
    if (err instanceof FleetbanError) throw err;
    throw new FleetbanError('LOG_UNREADABLE', `cannot read ${log}: ${(err as Error).message}`, { cause: err });
  }
  const seconds = (performance.now() - t0) / 1000;
  const dateHits = thread?.templateHits ?? engine.detector.templateHits().map((h) => ({ name: h.template.name, hits: h.hits }));
  out.write(formatSummary({ engine, tester, seconds, print, limit, dateHits }));
  out.flush();
  return 0;
}
