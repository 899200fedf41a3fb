/**
 * The job of `fleetban regex` once the command line is read: the filter read and compiled, the
 * log's lines run through it (their first half done by the reader thread when there is one, see
 * reader-thread.ts), fail2ban-regex's summary or `--json` failures printed.
 */

import { statSync } from 'node:fs';
import { FleetbanError } from '@fleetban/shared';
import type { FilterEngine, LineFront } from '@fleetban/agent';
import type { Args } from '../args.js';
import { forEachLine } from '../log-lines.js';
import { compileRegexFilter, type RegexRequest, regexFilterOf, shorten } from './filter.js';
import { progressOn } from './progress.js';
import type { ReaderThread } from './reader-thread.js';
import { FailureJson, formatSummary } from './report.js';
import { failuresOf, RegexTester } from './tester.js';

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

/** The size of the file at `path` (0 when it cannot be read: the read itself reports why). */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The regex job of `fleetban regex` (../commands/regex.ts read the command line): see {@link runRegexJob}. */
export interface RegexJob {
  readonly log: string;
  readonly isFile: boolean;
  readonly request: RegexRequest;
  /** The thread reading the log, when one was started. */
  readonly reader: ReaderThread | undefined;
}

/** Reads the filter, runs it over the log and prints fail2ban-regex's summary, or `--json` failures. */
export async function runRegexJob(args: Args, job: RegexJob): Promise<number> {
  const { log, isFile, reader: thread, request } = job;
  const { opts } = request;
  const json = args.options.has('json');
  const { filter, ignore, spec } = regexFilterOf(request);
  const feed = async (engine: FilterEngine, tested: (lineNl: string, front?: LineFront) => void): Promise<void> => {
    // a log file read with stderr on a terminal: a progress line there (none when piped)
    const progress = isFile ? progressOn(process.stderr, sizeOf(log)) : undefined;
    const each = progress
      ? (l: string, front?: LineFront) => {
          progress.line(l.length);
          tested(l, front);
        }
      : tested;
    try {
      await feedLines(engine, each);
    } finally {
      progress?.done();
    }
  };
  const feedLines = async (engine: FilterEngine, each: (lineNl: string, front?: LineFront) => void): Promise<void> => {
    if (thread) {
      thread.useMisses(engine.missTable());
      await thread.forEachLine(engine.newFront(), spec, each);
    }
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
