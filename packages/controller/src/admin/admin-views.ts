import { ADMIN_LIMITS, type BanDecision, encodeBan, type JailStatus } from '@fleetban/shared';
import type { JailTrackers } from '../aggregate/jail-tracker.js';

/** Bytes a protobuf `repeated` field adds around one embedded message: its tag and length varint. */
const FIELD_OVERHEAD = 6;

/**
 * fail2ban's per-jail figures from the active bans, in one pass over them. `currentlyBanned`
 * counts every ban of the jail; `banned` lists at most {@link ADMIN_LIMITS}.statusBanned of them,
 * and only for `listed` (the jail `status <jail>` asked for): the overview carries counts only,
 * so the reply stays small whatever the number of bans and jails.
 */
export function jailStatuses(trackers: JailTrackers, active: Iterable<BanDecision>, nowMs: number, listed: string): JailStatus[] {
  const counts = new Map<string, number>();
  const shown: string[] = [];
  for (const b of active) {
    counts.set(b.jail, (counts.get(b.jail) ?? 0) + 1);
    if (b.jail === listed && shown.length < ADMIN_LIMITS.statusBanned) shown.push(b.ip);
  }
  return trackers.all().map((t) => {
    t.window.prune(nowMs);
    return {
      name: t.jail.name,
      currentlyFailed: t.window.size,
      totalFailed: t.totalFailed,
      currentlyBanned: counts.get(t.jail.name) ?? 0,
      totalBanned: t.totalBanned,
      banned: t.jail.name === listed ? shown : [],
      maxretry: t.jail.maxretry,
      findtimeMs: t.jail.findtimeMs,
      bantimeMs: t.jail.bantimeMs,
    };
  });
}

/** One page of the active bans, and how many there are. */
export interface BannedPage {
  readonly bans: BanDecision[];
  readonly total: number;
}

/**
 * The page of `banned` asked by `offset` and `limit` (0 = {@link ADMIN_LIMITS}.bannedPage, cut to
 * bannedPageMax), in the store's order, also cut so that its bans' encoding stays within
 * `budgetBytes`: a client pages on from `offset + bans.length` until it reaches `total`. The first
 * ban of a page is always included, so a page moves forward; a reply that still exceeds the
 * server's max_payload becomes an error reply (see the admin service).
 */
export function bannedPage(active: Iterable<BanDecision>, offset: number, limit: number, budgetBytes: number): BannedPage {
  const max = Math.min(limit > 0 ? limit : ADMIN_LIMITS.bannedPage, ADMIN_LIMITS.bannedPageMax);
  const bans: BanDecision[] = [];
  let total = 0;
  let bytes = 0;
  let full = false;
  for (const b of active) {
    if (total++ < offset || full) continue;
    const size = encodeBan(b).length + FIELD_OVERHEAD;
    if (bans.length > 0 && bytes + size > budgetBytes) {
      full = true;
      continue;
    }
    bans.push(b);
    bytes += size;
    full = bans.length >= max;
  }
  return { bans, total };
}
