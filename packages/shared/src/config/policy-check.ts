/**
 * Checks that need more than one section: a recidive jail counts bans in the ban history, which
 * the controller forgets after `[controller] dbpurgeage`, and keeps at most
 * {@link RECENT_BANS_KEPT} bans per (jail, address).
 */

import { ConfigError } from '../errors.js';
import { RECENT_BANS_KEPT } from '../policy/recidive.js';
import { formatDuration } from '../time/duration.js';
import type { ControllerConfig, JailConfig } from './types.js';

function where(file: string, jail: JailConfig, key: string): [string, string] {
  const o = jail.options[key];
  return o ? [o.file || file, `${o.section}.${key} (line ${o.line})`] : [file, `${jail.name}.${key}`];
}

/**
 * Throws a {@link ConfigError} when an enabled recidive jail's findtime is longer than
 * dbpurgeage (its bans would be forgotten before they are counted: fail2ban's jail.conf warns of
 * the same), or its maxretry exceeds {@link RECENT_BANS_KEPT}.
 */
export function checkJailPolicies(file: string, jails: readonly JailConfig[], controller: ControllerConfig): void {
  for (const j of jails) {
    if (j.policy !== 'recidive' || !j.enabled) continue;
    if (j.findtimeMs > controller.dbPurgeAgeMs) {
      const [f, key] = where(file, j, 'findtime');
      throw new ConfigError(
        f,
        key,
        `a recidive findtime no longer than [controller] dbpurgeage (${formatDuration(controller.dbPurgeAgeMs)}): older bans are purged from the history; raise dbpurgeage`,
        formatDuration(j.findtimeMs),
      );
    }
    if (j.maxretry > RECENT_BANS_KEPT) {
      const [f, key] = where(file, j, 'maxretry');
      throw new ConfigError(f, key, `a recidive maxretry of at most ${RECENT_BANS_KEPT} bans`, String(j.maxretry));
    }
  }
}
