import { type BanDecision, type JailStatus, parseNetwork } from '@fleetban/shared';
import type { JailTrackers } from '../aggregate/jail-tracker.js';
import { jailStatuses } from '../admin/admin-views.js';
import type { HostRegistry } from '../fleet/host-registry.js';
import type { FleetSeries, SeriesPoint } from './fleet-series.js';

/** Rows of each "top" table. */
export const TOP_ROWS = 10;

/** One fleet member as the page shows it (the columns of `fleetban hosts`). */
export interface HostRow {
  readonly host: string;
  readonly heartbeatAgeMs: number;
  readonly version: string;
  readonly backend: string;
  readonly firewall: string;
  /** Ban elements in the host's sets, by its last heartbeat. */
  readonly enforced: number;
  readonly drift: number;
  readonly fallback: boolean;
  readonly localBans: number;
}

/** A target and how much it offended: bans of it (ban count) and failures behind its active ban. */
export interface TopAddress {
  readonly ip: string;
  readonly jail: string;
  readonly banCount: number;
  readonly failures: number;
}

/** A /24 (IPv4) or /64 (IPv6) and how many active bans fall in it. */
export interface TopPrefix {
  readonly prefix: string;
  readonly bans: number;
}

/** Everything on the page but the ban list: sent every few seconds while a page is open. */
export interface FleetSummary {
  readonly nowMs: number;
  readonly activeBans: number;
  readonly jails: readonly JailStatus[];
  readonly hosts: readonly HostRow[];
  readonly topAddresses: readonly TopAddress[];
  readonly topPrefixes: readonly TopPrefix[];
  readonly series: readonly SeriesPoint[];
}

/** What a summary is made from. */
export interface SummarySources {
  readonly trackers: JailTrackers;
  readonly hosts: HostRegistry;
  readonly series: FleetSeries;
}

/**
 * The page's figures at `nowMs` from the bans it shows, in one pass over them: per-jail figures
 * (the admin service's `status`), the hosts (`fleetban hosts`), the most offending addresses
 * and /24 or /64 networks, and the failures and bans per minute.
 */
export function fleetSummary(s: SummarySources, bans: Iterable<BanDecision>, nowMs: number, prefixes: PrefixCache): FleetSummary {
  const list: BanDecision[] = [];
  const byPrefix = new Map<string, number>();
  const top: BanDecision[] = [];
  for (const b of bans) {
    list.push(b);
    const p = prefixes.of(b.ip);
    byPrefix.set(p, (byPrefix.get(p) ?? 0) + 1);
    keepTop(top, b);
  }
  prefixes.trim(list.length);
  const hosts = s.hosts.list().map((h) => ({
    host: h.host,
    heartbeatAgeMs: Math.max(0, nowMs - h.lastHeartbeatMs),
    version: h.version,
    backend: h.backend,
    firewall: h.firewall,
    enforced: h.banned,
    drift: h.drift,
    fallback: h.fallback,
    localBans: h.localBans,
  }));
  const topPrefixes = [...byPrefix]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, TOP_ROWS)
    .map(([prefix, n]) => ({ prefix, bans: n }));
  return {
    nowMs,
    activeBans: list.length,
    jails: jailStatuses(s.trackers, list, nowMs, ''),
    hosts,
    topAddresses: top.map((b) => ({ ip: b.ip, jail: b.jail, banCount: b.banCount, failures: b.failures })),
    topPrefixes,
    series: s.series.points(),
  };
}

/** Orders by ban count, then failures. */
function worse(a: BanDecision, b: BanDecision): boolean {
  return a.banCount > b.banCount || (a.banCount === b.banCount && a.failures > b.failures);
}

/** Keeps the {@link TOP_ROWS} worst offenders in `top`, worst first (insertion into a short list). */
function keepTop(top: BanDecision[], b: BanDecision): void {
  if (top.length === TOP_ROWS && !worse(b, top[TOP_ROWS - 1] as BanDecision)) return;
  let i = top.length;
  while (i > 0 && worse(b, top[i - 1] as BanDecision)) i--;
  top.splice(i, 0, b);
  if (top.length > TOP_ROWS) top.pop();
}

/**
 * The /24 or /64 of each target, remembered (parsing IPv6 is the costly part of a summary). A
 * target that is a network wider than that is its own prefix.
 */
export class PrefixCache {
  readonly #byTarget = new Map<string, string>();

  /** The /24 (IPv4) or /64 (IPv6) holding `target`. */
  of(target: string): string {
    let p = this.#byTarget.get(target);
    if (p === undefined) {
      p = prefixOf(target);
      this.#byTarget.set(target, p);
    }
    return p;
  }

  /** Forgets everything when the cache holds far more targets than are banned (lifted bans). */
  trim(banned: number): void {
    if (this.#byTarget.size > 2 * banned + 1024) this.#byTarget.clear();
  }
}

/** The /24 or /64 network of an address or CIDR target (the target itself when already wider). */
export function prefixOf(target: string): string {
  try {
    const net = parseNetwork(target);
    const bits = net.family === 4 ? 24 : 64;
    if (net.bits <= bits) return net.text;
    const addr = target.split('/')[0] as string;
    return parseNetwork(`${addr}/${bits}`).text;
  } catch {
    return target;
  }
}
