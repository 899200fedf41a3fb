/**
 * Finding and reading fail2ban filter files. A filter is named (`sshd`, `sshd[mode=aggressive]`)
 * and looked up in the search path, first directory that has `<name>.conf` (or `<name>.local`)
 * wins: the project's own `filter.d/` (packages/agent/filter.d, found next to this module at run
 * time, also from dist/), then `/etc/fail2ban/filter.d`, then the directories the user adds. A
 * filter can also be a path to a `.conf` file. Its includes, `.local` overrides and `name.d/`
 * drop-ins are read as fail2ban reads them (see @fleetban/shared's f2bconf).
 */

import { existsSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  type ConfStore,
  confFilesOf,
  type IniEntry,
  parseNameOptions,
  readConfFiles,
  readDefinition,
} from '@fleetban/shared';
import { FilterError } from './filter-error.js';
import type { FilterSpec } from './filter-engine.js';
import type { UseDns } from './tags.js';

/** The project's own filter directory (packages/agent/filter.d). */
export const PROJECT_FILTER_DIR = fileURLToPath(new URL('../../filter.d/', import.meta.url)).replace(/\/$/, '');
/** fail2ban's filter directory, searched when it exists. */
export const SYSTEM_FILTER_DIR = '/etc/fail2ban/filter.d';

/** The keys a filter file provides (fail2ban's FilterReader). */
export const FILTER_KEYS = ['usedns', 'prefregex', 'ignoreregex', 'failregex', 'maxlines', 'datepattern', 'journalmatch'] as const;

/** The search path: the project's directory, /etc/fail2ban/filter.d when present, then `extra`. */
export function filterSearchPath(extra: readonly string[] = []): string[] {
  return [PROJECT_FILTER_DIR, ...(existsSync(SYSTEM_FILTER_DIR) ? [SYSTEM_FILTER_DIR] : []), ...extra];
}

/** A filter read from its files, ready for the engine. */
export interface LoadedFilter {
  /** The filter's name (file name without extension). */
  readonly name: string;
  /** The main file (the `.conf`, else the `.local`). */
  readonly file: string;
  /** Every file read, in order. */
  readonly files: readonly string[];
  readonly spec: FilterSpec;
  /** journalmatch lines (for journal sources). */
  readonly journalmatch: readonly string[];
  /** Where each filter key was written (for error messages). */
  readonly entries: ReadonlyMap<string, IniEntry>;
}

/** What a filter is read with. */
export interface FilterRequest {
  /** Directories searched for a named filter, in order. */
  readonly searchPath: readonly string[];
  /** Filter options (besides those written in the name), e.g. mode or logtype. */
  readonly options?: ReadonlyMap<string, string>;
  /**
   * The jail's own values of filter keys (failregex, ignoreregex, prefregex, datepattern, maxlines,
   * usedns): they replace the filter's; `%(known/key)s` in them is the filter's value.
   */
  readonly jail?: ReadonlyMap<string, string>;
  /**
   * `logtype` given when neither the options nor the filter's [Definition] set one (fail2ban sets
   * `file`, or `journal` for systemd backends).
   */
  readonly autoLogtype?: string;
}

/** Locates a filter: a path to a file, or a name in the search path. Throws FilterError. */
export function locateFilter(name: string, searchPath: readonly string[]): { name: string; files: string[] } {
  if (name.includes('/') || /\.(conf|local)$/.test(name)) {
    if (!existsSync(name)) throw new FilterError(`filter file ${name} does not exist`);
    const dir = dirname(name);
    const base = basename(name, extname(name));
    const files = confFilesOf(dir, base);
    return { name: base, files: files.length > 0 ? files : [name] };
  }
  for (const dir of searchPath) {
    const files = confFilesOf(dir, name);
    if (files.length > 0) return { name, files };
  }
  throw new FilterError(`no filter named '${name}' in ${searchPath.join(', ')}`);
}

function lines(v: string | undefined): string[] {
  return v === undefined ? [] : v.split('\n').filter((l) => l !== '');
}

const KNOWN_REF = /%\(known\/([^)]+)\)s/gi;

/**
 * Reads filter `ref` (`name`, `name[key=value,...]` or a file path). Throws FilterError naming
 * the filter's file when it cannot be found, read or interpolated.
 */
export function loadFilter(ref: string, req: FilterRequest): LoadedFilter {
  let parsed: { name: string; options: Map<string, string> };
  try {
    parsed = parseNameOptions(ref);
  } catch (cause) {
    throw new FilterError(`filter ${ref}: ${(cause as Error).message}`, undefined, { cause });
  }
  const where = locateFilter(parsed.name, req.searchPath);
  const file = where.files[0] as string;
  let store: ConfStore;
  try {
    store = readConfFiles(where.files);
  } catch (cause) {
    throw new FilterError(`filter ${file}: ${(cause as Error).message}`, undefined, { cause });
  }
  if (!store.has('Definition')) throw new FilterError(`filter ${file}: has no [Definition] section`);
  const options = new Map<string, string>();
  for (const [k, v] of req.options ?? []) options.set(k.toLowerCase(), v);
  for (const [k, v] of parsed.options) options.set(k.toLowerCase(), v);
  if (req.autoLogtype !== undefined && !options.has('logtype') && !store.entry('Definition', 'logtype', true)) {
    options.set('logtype', req.autoLogtype);
  }
  try {
    let jail = req.jail;
    if (jail && [...jail.values()].some((v) => /%\(known\//i.test(v))) {
      const base = readDefinition(store, { keys: FILTER_KEYS, options }).values;
      jail = new Map([...jail].map(([k, v]) => [k, v.replace(KNOWN_REF, (_m, key: string) => base.get(key.toLowerCase()) ?? '')]));
    }
    const { values, entries } = readDefinition(store, { keys: FILTER_KEYS, options, ...(jail ? { jail } : {}) });
    const get = (k: string): string | undefined => jail?.get(k) ?? values.get(k);
    const maxlines = get('maxlines');
    const n = maxlines === undefined ? undefined : Number(maxlines.trim());
    if (n !== undefined && !(Number.isInteger(n) && n > 0)) {
      throw new FilterError(`filter ${file}: maxlines must be a whole number above zero, got ${JSON.stringify(maxlines)}`);
    }
    const usedns = get('usedns');
    const spec: FilterSpec = {
      prefregex: get('prefregex') || undefined,
      failregex: lines(get('failregex')),
      ignoreregex: lines(get('ignoreregex')),
      maxlines: n,
      datepattern: get('datepattern') === undefined ? undefined : (get('datepattern') as string).split(/\n+/).map((s) => s.trim()).filter((s) => s !== ''),
      usedns: usedns === undefined ? undefined : (['yes', 'warn', 'no', 'raw'].includes(usedns.toLowerCase()) ? usedns.toLowerCase() as UseDns : 'no'),
    };
    return { name: where.name, file, files: store.files, spec, journalmatch: lines(get('journalmatch')), entries };
  } catch (cause) {
    if (cause instanceof FilterError) throw cause;
    const detail = cause instanceof ConfigError ? cause.message : `${(cause as Error).message}`;
    throw new FilterError(`filter ${file}: ${detail}`, undefined, { cause });
  }
}
