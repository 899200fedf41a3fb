import { existsSync, statSync } from 'node:fs';
import { type Args, option, UsageError } from '../args.js';
import type { RegexFilterOptions, RegexRequest } from '../regex-filter.js';
import { ReaderThread } from '../regex-reader-thread.js';

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

/**
 * `fleetban regex <LOG|line> <FILTER|failregex> [IGNOREREGEX]`: fail2ban-regex's job. This module
 * reads the command line and starts the reader thread for a big log (regex-reader-thread.ts)
 * before the filter engine's modules are loaded, so that the thread's start-up overlaps with
 * theirs; the job itself is regex-job.ts.
 */
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
  const threads = option(args, 'threads');
  if (threads !== undefined && threads !== '1' && threads !== '2') throw new UsageError(`--threads: expected 1 or 2, got ${JSON.stringify(threads)}`);
  const request: RegexRequest = { filterArg, ignoreArg, opts };
  const isFile = existsSync(log) && statSync(log).isFile();
  const reader = isFile && threads !== '1' ? ReaderThread.start(log, request, threads === '2') : undefined;
  try {
    const { runRegexJob } = await import('../regex-job.js');
    return await runRegexJob(args, { log, isFile, request, reader });
  } finally {
    reader?.stop();
  }
}
