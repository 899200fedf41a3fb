import { type AdminReply, type BanDecision, formatDuration, type HostStatus, type JailStatus } from '@fleetban/shared';

/** `fleetban status`: fail2ban-client's overview plus the fleet's hosts. */
export function formatOverview(r: AdminReply): string {
  const lines = [
    'Status',
    `|- Number of jail:\t${r.jails.length}`,
    `|- Jail list:\t${r.jails.map((j) => j.name).join(', ')}`,
    `|- Malformed messages:\t${r.malformed}`,
    `|- Rejected inputs:\t${formatRejected(r.counters)}`,
    ...formatHosts(r.hosts, r.nowMs),
  ];
  return lines.join('\n');
}

/** `fleetban status <jail>`: fail2ban-client's figures for one jail, across the fleet. */
export function formatJail(j: JailStatus, r: AdminReply): string {
  return [
    `Status for the jail: ${j.name}`,
    '|- Filter',
    `|  |- Currently failed:\t${j.currentlyFailed}`,
    `|  |- Total failed:\t${j.totalFailed}`,
    `|  \`- Thresholds:\tmaxretry ${j.maxretry} within ${formatDuration(j.findtimeMs)}, bantime ${formatDuration(j.bantimeMs)}`,
    '|- Actions',
    `|  |- Currently banned:\t${j.currentlyBanned}`,
    `|  |- Total banned:\t${j.totalBanned}`,
    `|  \`- Banned IP list:\t${j.banned.join(' ')}${j.currentlyBanned > j.banned.length ? ` (${j.currentlyBanned - j.banned.length} more: fleetban banned)` : ''}`,
    ...formatHosts(r.hosts.filter((h) => h.jails.includes(j.name)), r.nowMs),
  ].join('\n');
}

function formatHosts(hosts: readonly HostStatus[], nowMs: number): string[] {
  const out = [`\`- Fleet hosts:\t${hosts.length}`];
  hosts.forEach((h, i) => {
    const last = i === hosts.length - 1;
    const age = Math.max(0, Math.round((nowMs - h.lastHeartbeatMs) / 1000));
    const pad = `   ${last ? ' ' : '|'}  `;
    out.push(
      `   ${last ? '`' : '|'}- ${h.host}\tlast heartbeat ${age}s ago (${new Date(h.lastHeartbeatMs).toISOString()}), backend ${h.backend}, ${h.banned} banned`,
      `${pad}reading: ${h.lines} lines, ${h.matched} matched, ${h.skipped} skipped, ${h.undecodable} undecodable, ${h.bytesBehind} bytes behind`,
      `${pad}reporting: ${h.failures} failures sent, ${h.buffered} waiting (${h.spoolBytes} bytes spooled)`,
      `${pad}enforcing: ${h.drift} drift repaired, ${h.enforceFailed} elements refused, ${h.refused} bans refused by its guard`,
      `${pad}autonomy: ${h.fallback ? 'fallback (fleet unreachable when sent): deciding locally' : 'following the controller'}, ${h.localBans} local ${h.localBans === 1 ? 'ban' : 'bans'}`,
      `${pad}firewall: ${h.firewall}`,
      `${pad}addresses: ${h.addresses.join(' ')}`,
    );
  });
  return out;
}

/** The controller's counters of rejected and refused input, `none` when all are zero. */
function formatRejected(counters: Readonly<Record<string, number>>): string {
  const shown = Object.entries(counters).filter(([k, v]) => v > 0 && /\.(rejected|refused|malformed|foreign-host)/.test(k));
  return shown.length === 0 ? 'none' : shown.map(([k, v]) => `${k} ${v}`).join(', ');
}

/** Active bans, one line each ({@link formatBan}). */
export function formatBans(bans: readonly BanDecision[], nowMs: number): string {
  if (bans.length === 0) return 'No address is banned.';
  return bans.map((b) => formatBan(b, nowMs)).join('\n');
}

/** One ban's line of `fleetban banned`: target, jail, reason and reporters, time left, ban count, scope. */
export function formatBan(b: BanDecision, nowMs: number): string {
  const left = b.expiresMs === 0 ? 'permanent' : `${formatDuration(Math.ceil(Math.max(0, b.expiresMs - nowMs) / 1000) * 1000)} left`;
  const from = b.hosts.length > 0 ? ` from ${b.hosts.join(',')}` : '';
  const on = b.scope.length > 0 ? `\ton ${b.scope.join(',')} only` : '';
  return `${b.ip}\t${b.jail}\t${b.reason}${from}\t${left}\t(ban #${b.banCount})${on}`;
}
