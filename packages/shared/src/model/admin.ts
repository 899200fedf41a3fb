import type { BanDecision } from './ban.js';
import type { Heartbeat } from './heartbeat.js';

/** Admin verbs served by the controller. */
export type AdminVerb = 'status' | 'ban' | 'unban' | 'banned';

/** A request to the controller's admin service. */
export interface AdminRequest {
  readonly verb: AdminVerb;
  readonly jail: string;
  readonly ip: string;
  /** For `ban`: 0 = the jail's bantime, -1 = permanent, else ms. */
  readonly bantimeMs: number;
  /** For `ban`: accept a prefix shorter than the minimum (never a protected address). */
  readonly force?: boolean;
}

/** fail2ban's per-jail figures, counted across the fleet. */
export interface JailStatus {
  readonly name: string;
  readonly currentlyFailed: number;
  readonly totalFailed: number;
  readonly currentlyBanned: number;
  readonly totalBanned: number;
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
}
