import { ConfigError, type JailConfig, type JailOption } from '@fleetban/shared';
import { lineDecoder, type LineDecoder, UnknownEncodingError, utf8Decoder } from './line-decoder.js';

/** Where a file with no saved position starts: fail2ban's `logpath = PATH head|tail`. */
export type StartAt = 'start' | 'end';

/** A jail's log source, read from its fail2ban keys (`backend`, `logpath`, `journalmatch`, `logencoding`). */
export type SourceSpec = FileSpec | JournalSpec | DockerSpec;

/** backend = auto | polling | pyinotify | gamin: the logpath files. */
export interface FileSpec {
  readonly kind: 'file';
  readonly globs: readonly string[];
  /** Per glob, where a file present at the first start begins (default `end`, see README). */
  readonly startAt: ReadonlyMap<string, StartAt>;
  readonly decoder: LineDecoder;
}

/** backend = systemd[journalpath=DIR, journalfiles=FILE ...]: `journalctl -o json` with journalmatch. */
export interface JournalSpec {
  readonly kind: 'journal';
  /** journalctl match arguments: `FIELD=value` terms, `+` between alternatives. */
  readonly matches: readonly string[];
  /** --directory (journalpath); '' for the system journal. */
  readonly directory: string;
  /** --file (journalfiles); none for the system journal. */
  readonly files: readonly string[];
}

/** backend = docker[container=NAME|ID, root=DIR]: a container's json-file log. */
export interface DockerSpec {
  readonly kind: 'docker';
  /** Container name (with or without the leading `/`) or id (full, or a prefix of 12 or more hex digits). */
  readonly container: string;
  /** Docker's data root; default /var/lib/docker. */
  readonly root: string;
}

const MATCH_TERM = /^[A-Z0-9_]+=.*$/s;

/**
 * Reads a jail's source from its `backend` (read by the config loader), `logpath`, `journalmatch`
 * and `logencoding`. A journal source matches the jail's `journalmatch`, else its filter's
 * (`filterJournalmatch`, as fail2ban 1.1 does: sshd.conf's `_SYSTEMD_UNIT=sshd.service + _COMM=sshd`).
 * Throws ConfigError naming the key, its line and what was expected.
 */
export function sourceSpec(jail: JailConfig, filterJournalmatch: readonly string[] = []): SourceSpec {
  const b = jail.backend;
  const decoder = jail.options.logencoding ? readEncoding(jail.options.logencoding) : utf8Decoder;
  switch (b.kind) {
    case 'systemd':
      return { kind: 'journal', matches: journalMatches(jail, filterJournalmatch), directory: b.journalpath, files: b.journalfiles };
    case 'docker':
      return { kind: 'docker', container: b.container, root: b.root };
    default:
      return { kind: 'file', ...readLogpath(jail), decoder };
  }
}

/** The journalctl matches of a journal source: the jail's `journalmatch`, else the filter's; none = every entry. */
export function journalMatches(jail: JailConfig, filterJournalmatch: readonly string[] = []): string[] {
  const fromFilter = filterJournalmatch.join(' ').trim();
  const match = jail.options.journalmatch ?? (fromFilter === '' ? undefined : { value: fromFilter, file: `filter ${jail.filter}`, section: 'Definition', line: 0 });
  return match ? readJournalMatch(match) : [];
}

/** logpath with fail2ban's per-line `head` / `tail` word kept. */
function readLogpath(jail: JailConfig): { globs: string[]; startAt: Map<string, StartAt> } {
  const startAt = new Map<string, StartAt>();
  const raw = jail.options.logpath?.value ?? '';
  for (const line of raw.split('\n')) {
    const words = line.trim().split(/\s+/);
    const last = words[words.length - 1];
    if (words.length < 2 || (last !== 'head' && last !== 'tail')) continue;
    for (const p of words.slice(0, -1)) startAt.set(p, last === 'head' ? 'start' : 'end');
  }
  return { globs: [...jail.logpath], startAt };
}

function readEncoding(e: JailOption): LineDecoder {
  try {
    return lineDecoder(e.value);
  } catch (err) {
    if (err instanceof UnknownEncodingError) throw bad('logencoding', e, 'auto, utf-8, latin-1 or another ASCII-compatible encoding such as windows-1252');
    throw err;
  }
}

/** journalmatch: `FIELD=value` terms separated by spaces or newlines, `+` between alternatives. */
export function readJournalMatch(e: JailOption): string[] {
  const terms = e.value.split(/\s+/).filter((t) => t !== '');
  if (terms.some((t) => t !== '+' && !MATCH_TERM.test(t)) || terms[0] === '+' || terms[terms.length - 1] === '+') {
    throw bad('journalmatch', e, 'FIELD=value terms such as _SYSTEMD_UNIT=sshd.service + _COMM=sshd');
  }
  return terms;
}

function bad(key: string, e: JailOption, expected: string): ConfigError {
  return new ConfigError(e.file, `${e.section}.${key} (line ${e.line})`, expected, e.value);
}
