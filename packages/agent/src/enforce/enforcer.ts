/**
 * The enforcement stage: the last arrow of the flow. The agent's ban-list follower hands each
 * batch of decisions to an {@link Enforcer}, which puts them into the host's firewall (or, for
 * the dry-run backend, only says what it would do). One file per backend.
 */

/** One address or network to drop. */
export interface BanEntry {
  /** Canonical address or CIDR text, e.g. `192.0.2.7`, `2001:db8::/64`. */
  readonly target: string;
  /** Expiry in ms since the epoch; 0 = permanent. */
  readonly expiresMs: number;
  /**
   * The jail that banned it: a jail with `port` / `protocol` keys closes only those ports;
   * absent, or a jail without ports, closes the whole address.
   */
  readonly jail?: string;
}

/** What {@link Enforcer.stop} leaves: `flush` removes everything fleetban added, `keep` leaves it all. */
export type StopMode = 'flush' | 'keep';

/** Counters of an enforcer since it was created (for `status` and logs). */
export interface EnforcerReport {
  /** Backend name: `nftables`, `iptables` or `dry-run`. */
  backend: string;
  /** Elements currently in the sets (as last seen or written by this enforcer). */
  elements: number;
  /** Elements added (including re-added with a new timeout). */
  applied: number;
  /** Elements deleted (unbans and reconcile removals). */
  removed: number;
  /** Elements that could not be applied (invalid target, rejected by the kernel). */
  failed: number;
  /**
   * Differences found between the kernel and what this enforcer last wrote: a missing or
   * altered structure (table, set, chain, rule, jump) counts one, each element missing, extra
   * or with a wrong timeout counts one.
   */
  drift: number;
  /** Times the structure (tables, sets, chains, rules, jumps) was found drifted and rebuilt. */
  repairs: number;
  /** Reconciles run. */
  reconciles: number;
}

/** Options of {@link Enforcer.reconcile}. */
export interface ReconcileOptions {
  /** Read every element back from the kernel (start, after a reconnect), whatever the cheap look says. */
  readonly full?: boolean;
}

/** A firewall backend: batched, idempotent and reconciled. */
export interface Enforcer {
  /** `nftables`, `iptables` or `dry-run`. */
  readonly name: string;
  /** Creates fleetban's sets, chains and rules; idempotent (a restart does not duplicate rules). */
  start(): Promise<void>;
  /**
   * Applies one batch in one transaction. Unbans are applied before bans, so a target in both
   * lists ends up banned. Expired bans are skipped; a failing element never blocks the others.
   */
  apply(bans: readonly BanEntry[], unbans: readonly string[]): Promise<void>;
  /**
   * Makes the kernel equal to `all`: looks at it (every element read back when `full`, or when a
   * cheap look cannot vouch for the last read), repairs missing structure, diffs and applies.
   */
  reconcile(all: readonly BanEntry[], opts?: ReconcileOptions): Promise<{ added: number; removed: number }>;
  /** Elements currently in the sets (keys: `192.0.2.7`, or `192.0.2.7 tcp/22` when port-scoped). */
  list(): Promise<string[]>;
  /** Counters so far. */
  report(): EnforcerReport;
  /** `flush` removes everything fleetban added; `keep` leaves it (bans keep expiring in the kernel). */
  stop(mode: StopMode): Promise<void>;
}
