/**
 * Loading a configuration file: read it, parse the INI dialect, send each section to its reader
 * and return one validated {@link FleetbanConfig}. The file format is documented in README.md.
 */

import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { ConfigError } from '../errors.js';
import { DEFAULT_SECTION, findSection, parseIni, type IniDocument } from '../f2bconf/ini-file.js';
import { readAgent } from './agent-section.js';
import { readController } from './controller-section.js';
import { readFleet } from './fleet-section.js';
import { readJailSections } from './jail-section.js';
import type { FleetbanConfig } from './types.js';

/** Options of {@link loadConfig}. */
export interface LoadOptions {
  /** Hostname used when the file sets no `host`; default os.hostname(). */
  readonly hostname?: string;
}

/** Sections that are fleetban's own; every other section (but {@link SKIPPED_SECTIONS}) is a jail. */
export const FLEETBAN_SECTIONS: readonly string[] = ['fleetban', 'agent', 'controller', DEFAULT_SECTION];

/** Sections of fail2ban files that are neither settings nor jails, skipped whole for now. */
export const SKIPPED_SECTIONS: readonly string[] = ['INCLUDES', 'Definition', 'Init'];

/**
 * Reads, validates and returns a configuration file. An unreadable file is a ConfigError with
 * key `file`; everything else as {@link parseConfig}. Throws ConfigError.
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
 * Validates configuration text as if read from `file` (`''` text gives the built-in defaults).
 * Throws ConfigError naming the file, the key (`section.key (line N)`) and what was expected.
 */
export function parseConfig(text: string, file: string, opts: LoadOptions = {}): FleetbanConfig {
  return configFromIni(parseIni(text, file), opts);
}

/**
 * Builds the configuration from an already parsed document (the step includes will feed with a
 * merged document). Throws ConfigError.
 */
export function configFromIni(doc: IniDocument, opts: LoadOptions = {}): FleetbanConfig {
  const entries = (name: string) => findSection(doc, name)?.entries ?? [];
  const jailSections = doc.sections.filter(
    (s) => !FLEETBAN_SECTIONS.includes(s.name) && !SKIPPED_SECTIONS.includes(s.name),
  );
  const fleet = readFleet(entries('fleetban'), opts.hostname ?? osHostname());
  const agent = readAgent(entries('agent'));
  const controller = readController(entries('controller'));
  const { jails, jailDefaults } = readJailSections(findSection(doc, DEFAULT_SECTION), jailSections);
  return { file: doc.file, fleet, agent, controller, jails, jailDefaults };
}
