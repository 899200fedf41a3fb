/** An agent's periodic report of itself. */
export interface Heartbeat {
  readonly host: string;
  readonly timeMs: number;
  /** The host's own addresses: never banned. */
  readonly addresses: readonly string[];
  readonly jails: readonly string[];
  /** Enforcement backend in use (nftables, dry-run, ...). */
  readonly backend: string;
  /** What firewall detection found on the host. */
  readonly firewall: string;
  /** Elements currently in the host's ban sets. */
  readonly banned: number;
  readonly version: string;
  readonly lines: number;
  readonly failures: number;
  readonly buffered: number;
}
