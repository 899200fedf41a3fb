import { isAbsolute } from 'node:path';
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

const FILE_BACKENDS = ['auto', 'polling', 'pyinotify', 'gamin'];
const BACKEND = /^([a-z]+)\s*(?:\[(.*)\])?$/s;
const MATCH_TERM = /^[A-Z0-9_]+=.*$/s;

/**
 * Reads a jail's source. A journal source matches the jail's `journalmatch`, else its filter's
 * (`filterJournalmatch`, as fail2ban 1.1 does: sshd.conf's `_SYSTEMD_UNIT=sshd.service + _COMM=sshd`).
 * Throws ConfigError naming the key, its line and what was expected.
 */
export function sourceSpec(jail: JailConfig, filterJournalmatch: readonly string[] = []): SourceSpec {
  const o = jail.options;
  const decoder = o.logencoding ? readEncoding(o.logencoding) : utf8Decoder;
  const backend = o.backend;
  if (!backend) return { kind: 'file', ...readLogpath(jail), decoder };
  const m = BACKEND.exec(backend.value.trim());
  const name = m?.[1] ?? '';
  const params = readParams(backend, m?.[2] ?? '');
  if (FILE_BACKENDS.includes(name) && params.size === 0) return { kind: 'file', ...readLogpath(jail), decoder };
  if (name === 'systemd') {
    checkParams(backend, params, ['journalpath', 'journalfiles']);
    const directory = params.get('journalpath') ?? '';
    const files = (params.get('journalfiles') ?? '').split(/\s+/).filter((f) => f !== '');
    if ([directory, ...files].some((p) => p !== '' && !isAbsolute(p))) throw bad('backend', backend, 'absolute paths in journalpath and journalfiles');
    const fromFilter = filterJournalmatch.join(' ').trim();
    const match = o.journalmatch ?? (fromFilter === '' ? undefined : { value: fromFilter, file: `filter ${jail.filter}`, section: 'Definition', line: 0 });
    return { kind: 'journal', matches: match ? readJournalMatch(match) : [], directory, files };
  }
  if (name === 'docker') {
    checkParams(backend, params, ['container', 'root']);
    const container = params.get('container') ?? '';
    const root = params.get('root') ?? '/var/lib/docker';
    if (!/^\/?[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(container)) throw bad('backend', backend, 'docker[container=NAME or ID] (optionally root=/var/lib/docker)');
    if (!isAbsolute(root)) throw bad('backend', backend, 'docker[...] with an absolute root');
    return { kind: 'docker', container: container.replace(/^\//, ''), root };
  }
  throw bad('backend', backend, 'auto, polling, pyinotify, systemd[journalpath=DIR, journalfiles=FILE ...] or docker[container=NAME or ID, root=DIR]');
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

/** `k=v, k2="v 2"` inside a backend's brackets. */
function readParams(e: JailOption, text: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^,]*?))\s*(?:,|$)/gy;
  let at = 0;
  const body = text.trim();
  if (!BACKEND.test(e.value.trim())) throw bad('backend', e, 'a backend name, optionally with options as name[key=value, key=value]');
  while (at < body.length) {
    re.lastIndex = at;
    const m = re.exec(body);
    if (!m || m[0] === '') throw bad('backend', e, 'backend options as name[key=value, key=value]');
    params.set(m[1] as string, m[2] ?? m[3] ?? m[4] ?? '');
    at = re.lastIndex;
  }
  return params;
}

function checkParams(e: JailOption, params: ReadonlyMap<string, string>, allowed: readonly string[]): void {
  for (const k of params.keys()) if (!allowed.includes(k)) throw bad('backend', e, `options among: ${allowed.join(', ')} (not ${k})`);
}

function bad(key: string, e: JailOption, expected: string): ConfigError {
  return new ConfigError(e.file, `${e.section}.${key} (line ${e.line})`, expected, e.value);
}
