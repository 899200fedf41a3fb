import type { Logger } from '@fleetban/shared';
import type { BanListener } from './ban-listeners.js';

/**
 * The audit log of the ban list: one line per ban stored and per ban lifted (`ban event`, with
 * kind, id, address, jail, reason and, for an unban, why), as the store tells them.
 */
export function banAudit(logger: Logger): BanListener {
  return (e) => logger.info({ kind: e.kind, id: e.id, ip: e.ban.ip, jail: e.ban.jail, reason: e.ban.reason, why: e.why, atMs: e.atMs }, 'ban event');
}
