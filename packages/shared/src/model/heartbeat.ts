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
  /** Log lines read since start. */
  readonly lines: number;
  /** Failures published since start. */
  readonly failures: number;
  /** Failures waiting to be published (memory and spool). */
  readonly buffered: number;
  /** Lines skipped (too long, binary, not an entry). */
  readonly skipped: number;
  /** Lines read with bytes the encoding could not decode. */
  readonly undecodable: number;
  /** Lines that matched a failregex (before ignoreip). */
  readonly matched: number;
  /** Bytes written to the logs and not read yet. */
  readonly bytesBehind: number;
  /** Bytes of failures waiting in the on-disk spool. */
  readonly spoolBytes: number;
  /** Differences found between the kernel and the ban list (each repaired). */
  readonly drift: number;
  /** Ban elements the firewall refused. */
  readonly enforceFailed: number;
  /** Deciding locally when sent: NATS or the controller was unreachable (agent fallback). */
  readonly fallback: boolean;
  /** Bans this host placed on its own while the fleet was unreachable, still active. */
  readonly localBans: number;
  /** Bans this host's guard refused (they would cover its own or its NATS servers' addresses). */
  readonly refused: number;
}
