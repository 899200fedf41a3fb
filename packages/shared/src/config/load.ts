/**
 * Loading a configuration file: read it with its includes and `.local` override (fail2ban's
 * rules, see ../f2bconf/conf-store.ts), send each section to its reader and return one validated
 * {@link FleetbanConfig}. Values fleetban reads are `%(name)s`-interpolated (errors name the file,
 * key and line). The file format is documented in README.md.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hostname as osHostname } from 'node:os';
import { ConfigError } from '../errors.js';
import { type ConfStore, readConfFiles } from '../f2bconf/conf-store.js';
import { DEFAULT_SECTION, type IniDocument, type IniEntry, type IniSection, parseIni } from '../f2bconf/ini-file.js';
import { interpolate } from '../f2bconf/interpolate.js';
import { readAgent } from './agent-section.js';
import { readController } from './controller-section.js';
import { readFleet } from './fleet-section.js';
import { readJailSections } from './jail-section.js';
import { checkJailPolicies } from './policy-check.js';
import type { FleetbanConfig } from './types.js';

/** Options of {@link loadConfig}. */
export interface LoadOptions {
  /** Hostname used when the file sets no `host`; default os.hostname(). */
  readonly hostname?: string;
}

/** Sections that are fleetban's own; every other section (but {@link SKIPPED_SECTIONS}) is a jail. */
export const FLEETBAN_SECTIONS: readonly string[] = ['fleetban', 'agent', 'controller', DEFAULT_SECTION];

/** Sections of fail2ban files that are neither settings nor jails, skipped whole. */
export const SKIPPED_SECTIONS: readonly string[] = ['INCLUDES', 'Definition', 'Init'];

/**
 * Reads, validates and returns a configuration file, with its includes and its `.local`. An
 * unreadable file is a ConfigError with key `file`; everything else as {@link parseConfig}.
 */
export function loadConfig(file: string, opts: LoadOptions = {}): FleetbanConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(file, 'file', 'a readable file', code, { cause: err });
  }
  return parseConfig(text, file, opts);
}

/**
 * Validates configuration text as if read from `file` (`''` text gives the built-in defaults);
 * its `[INCLUDES]` are read relative to `file`'s directory. Throws ConfigError naming the file,
 * the key (`section.key (line N)`) and what was expected.
 */
export function parseConfig(text: string, file: string, opts: LoadOptions = {}): FleetbanConfig {
  return configFromIni(parseIni(text, file), opts);
}

/** Builds the configuration from a parsed document and the files it includes. Throws ConfigError. */
export function configFromIni(doc: IniDocument, opts: LoadOptions = {}): FleetbanConfig {
  return configFromStore(readConfFiles([doc.file], [doc]), doc.file, opts);
}

const REFERENCE = /%\(([^)]*)\)s/g;

/** Keys some value refers to with `%(key)s` (lower-cased): helper keys, not typos. */
function referencedKeys(store: ConfStore): Set<string> {
  const refs = new Set<string>();
  const scan = (e: IniEntry): void => {
    for (const m of e.value.matchAll(REFERENCE)) refs.add((m[1] as string).toLowerCase());
  };
  for (const e of store.defaults.values()) scan(e);
  for (const s of store.sections.values()) for (const e of s.values()) scan(e);
  return refs;
}

/**
 * An entry whose `value` is interpolated in `section` when read (so keys fleetban never reads may
 * use references it cannot resolve, such as fail2ban's `%(action_mwl)s`). `%(known/...)s` is kept
 * for the filter stage, which resolves it against the jail's filter.
 */
const RAW = new WeakMap<IniEntry, IniEntry>();

function lazyEntry(store: ConfStore, section: string, e: IniEntry): IniEntry {
  let value: string | undefined;
  const lazy: IniEntry = {
    key: e.key,
    section: e.section,
    file: e.file,
    line: e.line,
    get value(): string {
      value ??= interpolate(e, { store, section, keep: (n) => n.toLowerCase().startsWith('known/') });
      return value;
    },
  };
  RAW.set(lazy, RAW.get(e) ?? e);
  return lazy;
}

/** The same, leaving unresolvable references as written instead of failing (raw jail options). */
export function lenientValue(store: ConfStore, section: string, entry: IniEntry): string {
  const e = RAW.get(entry) ?? entry;
  try {
    return interpolate(e, { store, section, keep: () => true });
  } catch {
    return e.value;
  }
}

function sectionOf(store: ConfStore, name: string): IniSection {
  const entries = name === DEFAULT_SECTION ? store.defaults : store.sections.get(name) ?? new Map<string, IniEntry>();
  const h = store.headers.get(name) ?? { file: '', line: 0 };
  return { name, file: h.file, line: h.line, entries: [...entries.values()].map((e) => lazyEntry(store, name, e)) };
}

/** Builds the configuration from merged files. Throws ConfigError. */
export function configFromStore(store: ConfStore, file: string, opts: LoadOptions = {}): FleetbanConfig {
  const mainFiles = new Set([resolve(file), resolve(file.replace(/\.conf$/, '.local'))]);
  const refs = referencedKeys(store);
  const own = (name: string): IniEntry[] => (store.has(name) ? [...sectionOf(store, name).entries] : []);
  const fleet = readFleet(own('fleetban'), opts.hostname ?? osHostname());
  const agent = readAgent(own('agent'));
  const controller = readController(own('controller'));
  const jailNames = [...store.sections.keys()].filter(
    (n) => !n.startsWith('KNOWN/') && !FLEETBAN_SECTIONS.includes(n) && !SKIPPED_SECTIONS.includes(n),
  );
  const { jails, jailDefaults } = readJailSections(
    store.defaults.size > 0 ? sectionOf(store, DEFAULT_SECTION) : undefined,
    jailNames.map((n) => sectionOf(store, n)),
    {
      // keys from included files (paths-*.conf) and helper keys other values refer to are not checked
      checked: (e) => mainFiles.has(resolve(e.file)) && !refs.has(e.key.toLowerCase()),
      raw: (section, e) => lenientValue(store, section, e),
      actionValue: (section, e) => interpolate(RAW.get(e) ?? e, { store, section, keep: (n) => /^action_/i.test(n) }),
      inherited: (section) => [...store.defaults.values()].map((e) => lazyEntry(store, section, e)),
      filterPath: agent.filterPath,
    },
  );
  checkJailPolicies(file, jails, controller);
  return { file, fleet, agent, controller, jails, jailDefaults };
}
