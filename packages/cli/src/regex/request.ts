/**
 * The command line of `fleetban regex`, read: the log, the filter and its options, the thread
 * choice. Used by the command and by its reader thread, which reads the same command line.
 */

import { existsSync, statSync } from 'node:fs';
import { type Args, option, UsageError } from '../args.js';
import type { RegexFilterOptions, RegexRequest } from './filter.js';

/** A regex run, as asked for. */
export interface RegexCall {
  readonly log: string;
  /** LOG is a file (else it is a line of log). */
  readonly isFile: boolean;
  readonly request: RegexRequest;
  /** `--threads`: '1', '2' or undefined (automatic). */
  readonly threads: string | undefined;
}

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

/** Reads the command line; throws UsageError (with `usage` when arguments are missing or extra). */
export function regexCallOf(args: Args, usage: string): RegexCall {
  const [log, filterArg, ignoreArg, ...extra] = args.positional;
  if (log === undefined || filterArg === undefined || extra.length > 0) throw new UsageError(usage);
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
  const isFile = existsSync(log) && statSync(log).isFile();
  return { log, isFile, request: { filterArg, ignoreArg, opts }, threads };
}
