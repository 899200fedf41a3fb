import type { BanDecision } from './ban.js';
import type { Heartbeat } from './heartbeat.js';

/** Admin verbs served by the controller. */
export type AdminVerb = 'status' | 'ban' | 'unban' | 'banned' | 'get' | 'set' | 'reload' | 'ignore' | 'forget';

/** What `ignore` does: add networks to the fleet's ignore list, delete them, or list it. */
export type IgnoreOp = 'add' | 'del' | 'list';

/** A request to the controller's admin service. */
export interface AdminRequest {
  readonly verb: AdminVerb;
  readonly jail: string;
  readonly ip: string;
  /** For `ban`: 0 = the jail's bantime, -1 = permanent, else ms. */
  readonly bantimeMs: number;
  /**
   * For `ban`: accept a prefix shorter than the minimum (never a protected address). For `forget`:
   * forget the host even though its last heartbeat is recent.
   */
  readonly force?: boolean;
  /** For `banned`: the first active ban of the page (absent = 0). */
  readonly offset?: number;
  /** For `banned`: at most this many bans (absent = {@link ADMIN_LIMITS}.bannedPage; more is cut to bannedPageMax). */
  readonly limit?: number;
  /** For `unban`: lift every active ban (of `jail` when not empty) instead of `ip` (empty). */
  readonly all?: boolean;
  /** For `get` / `set`: the jail option (`maxretry`, `bantime.factor`, ...); `get` without one lists every option. */
  readonly option?: string;
  /** For `set`: the new value, as the configuration file would write it. */
  readonly value?: string;
  /** For `ignore`: what to do. */
  readonly op?: IgnoreOp;
  /** For `ignore add` / `ignore del`: addresses or CIDR ranges. */
  readonly networks?: readonly string[];
  /** For `ignore add`: also lift active bans lying wholly inside the networks (default: none lifted, as fail2ban). */
  readonly unban?: boolean;
  /** For `forget`: the fleet host whose record the controller deletes (its addresses are then no longer protected). */
  readonly host?: string;
}

/** One entry of the fleet's ignore list (`fleetban ignore`). */
export interface IgnoreEntry {
  /** Canonical address or CIDR. */
  readonly network: string;
  /** Who added it (`user@host`, as the admin request said). */
  readonly by: string;
  readonly atMs: number;
}

/** A jail option's value, as `fleetban get` prints it. */
export interface JailOptionValue {
  readonly jail: string;
  readonly name: string;
  readonly value: string;
}

/** One change made by `set` or `reload`. */
export interface ConfigChange {
  /** `jail.option`, `jail` (a jail added or removed) or `controller.key`. */
  readonly what: string;
  /** The value before ('' for a jail added). */
  readonly from: string;
  /** The value after ('' for a jail removed). */
  readonly to: string;
  /** What became of it when not simply applied ("applies after a restart"); '' when applied. */
  readonly note: string;
}

/**
 * How much one admin reply may carry, so that it fits in a NATS message whatever the size of the
 * ban list (the whole list is read from the KV bucket, not asked of the controller).
 */
export const ADMIN_LIMITS = {
  /** Addresses listed per jail by `status <jail>` (its `currentlyBanned` counts them all). */
  statusBanned: 100,
  /** Bans in one `banned` page when the request asks no limit. */
  bannedPage: 1000,
  /** Bans in one `banned` page at most (the page is also cut to the server's max_payload). */
  bannedPageMax: 10_000,
} as const;

/** fail2ban's per-jail figures, counted across the fleet. */
export interface JailStatus {
  readonly name: string;
  readonly currentlyFailed: number;
  readonly totalFailed: number;
  readonly currentlyBanned: number;
  readonly totalBanned: number;
  /**
   * Some of the jail's banned targets: at most {@link ADMIN_LIMITS}.statusBanned, and none in the
   * overview (`status` without a jail); `currentlyBanned` counts them all.
   */
  readonly banned: readonly string[];
  readonly maxretry: number;
  readonly findtimeMs: number;
  readonly bantimeMs: number;
}

/** What the controller knows of one host: its last heartbeat and when that arrived. */
export interface HostStatus extends Heartbeat {
  readonly lastHeartbeatMs: number;
}

/** The controller's answer. */
export interface AdminReply {
  readonly ok: boolean;
  readonly error: string;
  readonly jails: readonly JailStatus[];
  readonly hosts: readonly HostStatus[];
  readonly bans: readonly BanDecision[];
  /** Malformed messages the controller has counted since it started. */
  readonly malformed: number;
  readonly nowMs: number;
  /** The controller's input counters by name (`events.received`, `events.rejected.future`, ...). */
  readonly counters: Readonly<Record<string, number>>;
  /** For `banned`: how many bans are active, of which `bans` is the page asked; for `ignore add --unban`: bans lifted (absent = 0). */
  readonly total?: number;
  /** For `get`: the option(s) asked. */
  readonly options?: readonly JailOptionValue[];
  /** For `set` and `reload`: what changed. */
  readonly changes?: readonly ConfigChange[];
  /** For `ignore`: the whole list (`list`), or the entries added or removed. */
  readonly ignored?: readonly IgnoreEntry[];
}
