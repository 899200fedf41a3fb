/** Why an address was banned. */
export type BanReason = 'threshold' | 'manual' | 'recidive';

/** The controller's decision for one address: the value stored in the ban list. */
export interface BanDecision {
  /** Address or CIDR, canonical text. */
  readonly ip: string;
  readonly jail: string;
  readonly atMs: number;
  /** Expiry, ms since the epoch; 0 = permanent. */
  readonly expiresMs: number;
  readonly reason: BanReason;
  /** 1 for a first ban, then +1 for each repeat (drives bantime.increment). */
  readonly banCount: number;
  /** Hosts whose reports led to the ban. */
  readonly hosts: readonly string[];
  /** Evidence lines, at most the jail's maxmatches. */
  readonly matches: readonly string[];
  readonly failures: number;
  /**
   * Hosts that enforce the ban; empty = every host. A ban below the jail's `min_hosts` holds only
   * on the hosts that saw maxretry failures on their own.
   */
  readonly scope: readonly string[];
  /**
   * Stable across a controller failover (a threshold ban's id comes from the failure event that
   * caused it, which a replay decides again): de-duplicates the ban's actions. Absent in records
   * written before ids existed; {@link banId} gives those one.
   */
  readonly id?: string;
  /** The user named by the failure that caused the ban (actions' `<F-USER>`); absent or '' when none. */
  readonly user?: string;
}

/** The ban's id: its own, or for a record without one `<jail>:<ip>:<atMs>`. */
export function banId(ban: BanDecision): string {
  return ban.id || `${ban.jail}:${ban.ip}:${ban.atMs}`;
}

/** True when the decision is still in force at `nowMs`. */
export function isActive(ban: BanDecision, nowMs: number): boolean {
  return ban.expiresMs === 0 || ban.expiresMs > nowMs;
}
