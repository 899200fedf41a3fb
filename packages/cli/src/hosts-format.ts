import type { AdminReply, HostStatus } from '@fleetban/shared';

/** One fleet member as `fleetban hosts` shows it (and prints with `--json`). */
export interface HostLine {
  readonly host: string;
  /** When the controller received its last heartbeat (ms since the epoch). */
  readonly lastHeartbeatMs: number;
  /** How long ago that was, by the controller's clock. */
  readonly heartbeatAgeMs: number;
  readonly version: string;
  /** The enforcement backend in use (nftables, dry-run, ...). */
  readonly backend: string;
  /** What the agent's detection found on the host. */
  readonly firewall: string;
  /** Ban elements in the host's sets, by its last heartbeat. */
  readonly enforced: number;
  /** The fleet's active bans, by the controller (a ban scoped to other hosts is counted too). */
  readonly activeBans: number;
  /** Differences between the kernel and the ban list found and repaired since the agent started. */
  readonly drift: number;
  /** Deciding locally (NATS or the controller unreachable when the heartbeat was sent). */
  readonly fallback: boolean;
  /** Bans the host placed on its own while the fleet was unreachable, still active. */
  readonly localBans: number;
}

/** The fleet's members as seen in a `status` overview reply, sorted by name (as the controller lists them). */
export function hostLines(r: AdminReply): HostLine[] {
  const activeBans = r.jails.reduce((n, j) => n + j.currentlyBanned, 0);
  return r.hosts.map((h: HostStatus) => ({
    host: h.host,
    lastHeartbeatMs: h.lastHeartbeatMs,
    heartbeatAgeMs: Math.max(0, r.nowMs - h.lastHeartbeatMs),
    version: h.version,
    backend: h.backend,
    firewall: h.firewall,
    enforced: h.banned,
    activeBans,
    drift: h.drift,
    fallback: h.fallback,
    localBans: h.localBans,
  }));
}

const HEADER = ['HOST', 'HEARTBEAT', 'VERSION', 'BACKEND', 'ENFORCED/ACTIVE', 'DRIFT', 'MODE', 'LOCAL BANS'];

/**
 * A table with one row per host (columns padded to their widest cell), or `No fleet host has
 * sent a heartbeat.` when there is none.
 */
export function formatHosts(lines: readonly HostLine[]): string {
  if (lines.length === 0) return 'No fleet host has sent a heartbeat.';
  const rows = [
    HEADER,
    ...lines.map((h) => [
      h.host,
      `${Math.round(h.heartbeatAgeMs / 1000)}s ago`,
      h.version || '-',
      h.backend || '-',
      `${h.enforced}/${h.activeBans}`,
      String(h.drift),
      h.fallback ? 'fallback' : 'controller',
      String(h.localBans),
    ]),
  ];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ')).join('\n');
}
