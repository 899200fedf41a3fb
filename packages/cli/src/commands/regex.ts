import type { Args } from '../args.js';
import { ReaderThread } from '../regex/reader-thread.js';
import { worthAReader } from '../regex/reader-start.js';
import { regexCallOf } from '../regex/request.js';

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

On a terminal, reading a log file shows a progress line on stderr (lines read, bytes of the file,
lines/s), redrawn every $FLEETBAN_REGEX_PROGRESS_MS ms (default 250) and erased before the
summary; none when stderr is piped or redirected.
`;

/**
 * `fleetban regex <LOG|line> <FILTER|failregex> [IGNOREREGEX]`: fail2ban-regex's job. This module
 * reads the command line (`argv`, also parsed as `args`) and starts the reader thread for a big
 * log (regex/reader-thread.ts), or adopts the one main.ts started, before the filter engine's
 * modules are loaded; the job itself is regex/job.ts.
 */
export async function runRegex(args: Args, argv: readonly string[]): Promise<number> {
  if (args.options.has('help') || args.options.has('h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const call = regexCallOf(args, USAGE);
  const reader = call.isFile && worthAReader(call.log, call.threads) ? ReaderThread.start(argv) : ReaderThread.none();
  try {
    const { runRegexJob } = await import('../regex/job.js');
    return await runRegexJob(args, { log: call.log, isFile: call.isFile, request: call.request, reader });
  } finally {
    reader?.stop();
  }
}
