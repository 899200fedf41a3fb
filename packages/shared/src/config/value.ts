/**
 * Typed readers for configuration values. Each takes one {@link IniEntry} and returns the typed
 * value or throws a {@link ConfigError} naming the file, `section.key (line N)` and what was
 * expected. Foreign parse failures ({@link ParseError} from durations and addresses) become
 * ConfigErrors here, with the original as `cause`.
 */

import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { ConfigError } from '../errors.js';
import type { IniEntry } from '../f2bconf/ini-file.js';
import { parseNetwork, tryParseAddress } from '../ip/address.js';
import { PERMANENT, parseDuration } from '../time/duration.js';
import type { ListenAddress } from './types.js';

/** Where an entry was written, as used in error messages: `sshd.maxretry (line 12)`. */
export function entryKey(e: IniEntry): string {
  return `${e.section}.${e.key} (line ${e.line})`;
}

/** The ConfigError for a bad value of `e`. */
export function invalidValue(e: IniEntry, expected: string, cause?: unknown): ConfigError {
  return new ConfigError(e.file, entryKey(e), expected, e.value, cause === undefined ? undefined : { cause });
}

/** Entries by key; a later entry with the same key replaces an earlier one (jail over DEFAULT). */
export function entryMap(...lists: ReadonlyArray<readonly IniEntry[]>): Map<string, IniEntry> {
  const map = new Map<string, IniEntry>();
  for (const list of lists) for (const e of list) map.set(e.key, e);
  return map;
}

/**
 * Reads `key` from `entries` with `read`, or returns `fallback` when it is not set. (Entries of a
 * loaded file interpolate `%(name)s` when their value is read; see load.ts.)
 */
export function readOr<T>(
  entries: ReadonlyMap<string, IniEntry>,
  key: string,
  read: (e: IniEntry) => T,
  fallback: T,
): T {
  const e = entries.get(key);
  if (e === undefined) return fallback;
  return read(e);
}

/** The value as written (already trimmed by the INI reader). */
export function readText(e: IniEntry): string {
  return e.value;
}

const BOOLEANS: Record<string, boolean> = {
  true: true, yes: true, on: true, 1: true,
  false: false, no: false, off: false, 0: false,
};

/** true/false, yes/no, on/off, 1/0 (any case), as Python's configparser. */
export function readBool(e: IniEntry): boolean {
  const b = BOOLEANS[e.value.toLowerCase()];
  if (b === undefined) throw invalidValue(e, 'a boolean (true/false, yes/no, on/off, 1/0)');
  return b;
}

/** One of `choices`, exactly. */
export function readChoice<T extends string>(choices: readonly T[]): (e: IniEntry) => T {
  return (e) => {
    const found = choices.find((c) => c === e.value);
    if (found === undefined) throw invalidValue(e, `one of: ${choices.join(', ')}`);
    return found;
  };
}

/** What a duration value may also be, besides positive. */
export type DurationRange = 'positive' | 'zero-or-more' | 'permanent-allowed';

const DURATION_EXPECTED: Record<DurationRange, string> = {
  positive: 'a positive duration such as 10m or 1d12h',
  'zero-or-more': 'a duration such as 10m or 1d12h, or 0 for none',
  'permanent-allowed': 'a positive duration such as 10m or 1d12h, or -1 for permanent',
};

/** A fail2ban duration in ms (bare numbers are seconds); -1 only when `range` allows permanent. */
export function readDuration(range: DurationRange): (e: IniEntry) => number {
  return (e) => {
    let ms: number;
    try {
      ms = parseDuration(e.value);
    } catch (err) {
      throw invalidValue(e, DURATION_EXPECTED[range], err);
    }
    const ok =
      ms > 0 ||
      (ms === 0 && range === 'zero-or-more') ||
      (ms === PERMANENT && range === 'permanent-allowed');
    if (!ok) throw invalidValue(e, DURATION_EXPECTED[range]);
    return ms;
  };
}

/** A whole number ≥ 1. */
export function readPositiveInt(e: IniEntry): number {
  const n = /^\d+$/.test(e.value) ? Number(e.value) : NaN;
  if (!(n >= 1 && Number.isSafeInteger(n))) throw invalidValue(e, 'a positive whole number');
  return n;
}

/** A whole number ≥ 0. */
export function readNonNegativeInt(e: IniEntry): number {
  const n = /^\d+$/.test(e.value) ? Number(e.value) : NaN;
  if (!(n >= 0 && Number.isSafeInteger(n))) throw invalidValue(e, 'a whole number (0 or more)');
  return n;
}

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

function positiveNumber(s: string): number {
  const n = DECIMAL.test(s) ? Number(s) : NaN;
  return n > 0 && Number.isFinite(n) ? n : NaN;
}

/** A decimal number > 0. */
export function readPositiveNumber(e: IniEntry): number {
  const n = positiveNumber(e.value);
  if (Number.isNaN(n)) throw invalidValue(e, 'a positive number such as 1 or 1.5');
  return n;
}

/** Whitespace-separated decimal numbers > 0 (bantime.multipliers); empty is allowed. */
export function readPositiveNumbers(e: IniEntry): number[] {
  const nums = words(e.value).map(positiveNumber);
  if (nums.some(Number.isNaN)) throw invalidValue(e, 'space-separated positive numbers such as 1 2 4 8');
  return nums;
}

/** Words separated by whitespace, newlines or commas (fail2ban's `splitwords`). */
export function words(s: string): string[] {
  return s.split(/[\s,]+/).filter((w) => w !== '');
}

/** Non-blank lines, each kept verbatim (failregex, ignoreregex). */
export function readLines(e: IniEntry): string[] {
  return e.value.split('\n').filter((l) => l.trim() !== '');
}

/** Absolute directory paths separated by whitespace, newlines or commas (filter_path). */
export function readDirs(e: IniEntry): string[] {
  const dirs = words(e.value);
  if (!dirs.every((d) => isAbsolute(d))) throw invalidValue(e, 'absolute directory paths, space or newline separated, such as /etc/fleetban/filter.d');
  return dirs;
}

/**
 * Absolute paths or globs, one per line or space-separated (logpath). A trailing `head` or
 * `tail` word on a line is fail2ban's start-position option and is dropped.
 */
export function readPaths(e: IniEntry): string[] {
  const paths: string[] = [];
  for (const line of readLines(e)) {
    const parts = line.trim().split(/\s+/);
    const last = parts[parts.length - 1];
    if (parts.length > 1 && (last === 'head' || last === 'tail')) parts.pop();
    paths.push(...parts);
  }
  if (!paths.every((p) => isAbsolute(p))) {
    throw invalidValue(e, 'absolute paths or globs, one per line (or space-separated), such as /var/log/auth.log');
  }
  return paths;
}

/**
 * Addresses and CIDR ranges separated by whitespace, newlines or commas (ignoreip), each in
 * canonical text (`parseNetwork(x).text`). A word `file:/absolute/path` (fail2ban 1.1) reads that
 * file's addresses and ranges: one or more per line, `#` starts a comment; its errors name that
 * file and line. The file is read when the configuration is loaded (and again on reload). DNS
 * names are refused for now.
 */
export function readNetworks(e: IniEntry): string[] {
  const out: string[] = [];
  for (const w of words(e.value)) {
    if (w.startsWith('file:')) {
      out.push(...readNetworkFile(e, w.slice('file:'.length)));
      continue;
    }
    try {
      out.push(parseNetwork(w).text);
    } catch (err) {
      throw invalidValue(e, `IP addresses or CIDR ranges such as 192.0.2.0/24, or file:/path (DNS names are not supported yet; bad entry "${w}")`, err);
    }
  }
  return out;
}

/** The networks of an `ignoreip = file:PATH` list. Throws ConfigError naming `path` (or `e` for a relative path). */
function readNetworkFile(e: IniEntry, path: string): string[] {
  if (!isAbsolute(path)) throw invalidValue(e, 'file: followed by an absolute path, such as file:/etc/fleetban/ignoreip.list');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(path, `file (named by ${entryKey(e)} in ${e.file})`, 'a readable file of addresses and CIDR ranges, one per line', code, { cause: err });
  }
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '');
    for (const w of words(line)) {
      try {
        out.push(parseNetwork(w).text);
      } catch (err) {
        throw new ConfigError(path, `line ${i + 1} (named by ${entryKey(e)} in ${e.file})`, 'an IP address or CIDR range such as 192.0.2.0/24', w, { cause: err });
      }
    }
  });
  return out;
}

const LISTEN = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;
const LISTEN_EXPECTED = 'a listen address host:port such as 127.0.0.1:9608 or [::1]:9608, or empty for none';

/** `host:port` or `[v6]:port` to listen on; empty = none (null). The port is 1 to 65535. */
export function readListenAddress(e: IniEntry): ListenAddress | null {
  if (e.value === '') return null;
  const m = LISTEN.exec(e.value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65_535)) throw invalidValue(e, LISTEN_EXPECTED);
  const v6 = m[1];
  if (v6 !== undefined && tryParseAddress(v6)?.family !== 6) throw invalidValue(e, LISTEN_EXPECTED);
  return { host: v6 ?? (m[2] as string), port };
}
