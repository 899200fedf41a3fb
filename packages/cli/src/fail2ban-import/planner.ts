/**
 * The importer's working state: the merged fail2ban files, the report being written, and the
 * one check every carried value passes (fleetban's own loader reads it, alone in its section).
 */

import { basename } from 'node:path';
import { ConfigError, type ConfStore, type IniEntry, interpolate, parseConfig, parseNetwork } from '@fleetban/shared';
import { entryLines } from './conf-text.js';
import { ACTION_SHORTCUT_REASON, JAIL_KEY_REASONS } from './key-rules.js';

/** One key written into the fleetban configuration. */
export interface CarriedKey {
  readonly key: string;
  /** The resolved value (continuation lines joined with "\n"); `%` not yet escaped. */
  readonly value: string;
  /** Where fail2ban read it (`file:line`), for a comment. */
  readonly from: string;
}

/** A section of the fleetban configuration to write. */
export interface PlannedSection {
  readonly name: string;
  readonly keys: readonly CarriedKey[];
}

/** One line of the import report: a key left out (with why), or carried with a note. */
export interface ImportNote {
  /** The jail, `DEFAULT`, or fail2ban.conf's section (`Definition`). */
  readonly jail: string;
  readonly key: string;
  readonly value: string;
  /** `file:line` in the fail2ban configuration. */
  readonly from: string;
  readonly carried: boolean;
  readonly reason: string;
}

const CHECK_FILE = '/nonexistent/fleetban-import-check.conf';

/** `file:line` of an entry. */
export const at = (e: IniEntry): string => `${e.file}:${e.line}`;

/** Every key set for `section`: its own and `[DEFAULT]`'s (lower-cased). */
export function keysOf(store: ConfStore, section: string): string[] {
  return [...new Set([...store.keys(section), ...store.defaults.keys()])];
}

/** Keys other values refer to with `%(key)s` (helper keys such as paths-*.conf's). */
function referenced(store: ConfStore): Set<string> {
  const refs = new Set<string>();
  const scan = (e: IniEntry): void => {
    for (const m of e.value.matchAll(/%\(([^)]*)\)s/g)) refs.add((m[1] as string).toLowerCase());
  };
  for (const e of store.defaults.values()) scan(e);
  for (const [name, s] of store.sections) if (!name.startsWith('KNOWN/')) for (const e of s.values()) scan(e);
  return refs;
}

/** The checked value of a key as the loader would read it, or the loader's complaint. */
export function loaderComplaint(section: string, key: string, value: string): string | undefined {
  try {
    parseConfig(`[${section}]\n${entryLines(key, value).join('\n')}\n`, CHECK_FILE, { hostname: 'import' });
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return `fleetban expects ${err.expected}`;
    throw err;
  }
}

/** Decides and reports, value by value. */
export class Planner {
  readonly notes: ImportNote[] = [];
  private readonly refs: Set<string>;
  constructor(private readonly store: ConfStore, readonly dir: string) {
    this.refs = referenced(store);
  }

  note(jail: string, e: IniEntry, value: string, carried: boolean, reason: string): void {
    this.notes.push({ jail, key: e.key, value, from: at(e), carried, reason });
  }

  /** The value of `e` in `section`, `%(name)s` resolved; `known/` kept (the filter stage's). */
  value(section: string, e: IniEntry, lenient = false): string {
    return interpolate(e, { store: this.store, section, keep: (n) => lenient || n.toLowerCase().startsWith('known/') });
  }

  /** Carries `key` of `section` (values already resolved), checking it as the loader would. */
  carry(out: CarriedKey[], section: string, e: IniEntry, value: string): void {
    const key = e.key.toLowerCase();
    if (key === 'ignoreip') value = this.addresses(section, e, value);
    const complaint = loaderComplaint(section, key, value);
    if (complaint !== undefined) this.note(section, e, value, false, complaint);
    else out.push({ key, value, from: at(e) });
  }

  /** ignoreip without the entries fleetban refuses (DNS names), each reported unless `quiet`. */
  addresses(section: string, e: IniEntry, value: string, quiet = false): string {
    const kept: string[] = [];
    for (const item of value.split(/[\s,]+/).filter((x) => x !== '')) {
      try {
        parseNetwork(item);
        kept.push(item);
      } catch {
        if (!quiet) this.note(section, e, item, false, 'fleetban takes addresses and CIDRs only in ignoreip, no DNS names');
      }
    }
    return kept.join(' ');
  }

  /** Reports a key that is not carried (silently skips helper keys other values refer to). */
  skip(section: string, e: IniEntry, value: string, reason?: string): void {
    const key = e.key.toLowerCase();
    if (value.trim() === '') return;
    const why = reason ?? JAIL_KEY_REASONS[key] ?? (key.startsWith('action_') ? ACTION_SHORTCUT_REASON : undefined);
    // helper keys: paths-*.conf's log locations, and keys other values use as %(key)s
    if (why === undefined && (this.refs.has(key) || basename(e.file).startsWith('paths-'))) return;
    this.note(section, e, value, false, why ?? 'not a key fleetban knows');
  }
}

