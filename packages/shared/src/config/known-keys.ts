/**
 * Which keys a section may hold. Fleetban refuses keys it does not know (a typo must not pass
 * silently) but accepts, and ignores, the keys of fail2ban it does not use yet, so an existing
 * jail.local loads unchanged.
 */

import { ConfigError } from '../errors.js';
import type { IniEntry } from '../f2bconf/ini-file.js';
import { entryKey } from './value.js';

/** fail2ban jail keys fleetban accepts in jail sections and [DEFAULT] but does not use yet. */
export const FAIL2BAN_ONLY_KEYS: readonly string[] = [
  'after', 'allowipv6', 'banaction', 'banaction_allports', 'before',
  'chain', 'datepattern', 'dbfile', 'dbpurgeage',
  'destemail', 'fail2ban_agent', 'ignorecache', 'ignorecommand', 'ignoreself', 'journalmatch',
  'logencoding', 'logtimezone', 'maxlines', 'mode', 'mta', 'port', 'prefregex', 'protocol',
  'sender', 'sendername', 'usedns',
];

const FAIL2BAN_ONLY = new Set(FAIL2BAN_ONLY_KEYS);

/**
 * True for a fail2ban key fleetban ignores: one of {@link FAIL2BAN_ONLY_KEYS}, any `action_*`
 * shortcut, or any dotted key (fail2ban's action parameters) except the `bantime.*` family, whose
 * unknown members are treated as typos.
 */
export function isFail2banOnlyKey(key: string): boolean {
  if (FAIL2BAN_ONLY.has(key) || key.startsWith('action_')) return true;
  return key.includes('.') && !key.startsWith('bantime.');
}

/**
 * Throws a {@link ConfigError} for the first entry whose key is neither in `known` nor accepted
 * by `ignored`: `a known key (one of: ...)`.
 */
export function checkKnownKeys(
  entries: readonly IniEntry[],
  known: readonly string[],
  ignored: (key: string) => boolean = () => false,
): void {
  for (const e of entries) {
    if (known.includes(e.key) || ignored(e.key)) continue;
    throw new ConfigError(e.file, entryKey(e), `a known key (one of: ${known.join(', ')})`, e.key);
  }
}
