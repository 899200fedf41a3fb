import { type BanDecision, type BanEvent, banId } from '@fleetban/shared';
import type { LocalBan } from '../fallback/local-decider.js';

/** Told of each ban this host's firewall took or let go (host-site actions). Must not throw or block. */
export type HostBanListener = (e: BanEvent) => void;

/**
 * The ban events of this host's firewall, for the {@link FirewallWriter}: it remembers the fleet
 * decision behind each fleet ban it holds, makes a `ban` event for a ban newly held (a ban
 * written again with the same id, e.g. widened, is none) and an `unban` for one let go, and keeps
 * them until the firewall holds the change ({@link applied}); a write that failed keeps them for
 * the next one that succeeds. Without a listener (no host action) it remembers nothing: a
 * decision carries its matched log lines, which the firewall does not need.
 */
export class HostBanEvents {
  readonly #decisions = new Map<string, BanDecision>();
  #pending: BanEvent[] = [];

  constructor(private readonly listener: HostBanListener | undefined) {}

  /** The fleet bans `ban` here; `live` false while the list is first read (nothing is told then). */
  fleetPut(ban: BanDecision, live: boolean, nowMs: number): void {
    if (!this.listener) return;
    const before = this.#decisions.get(ban.ip);
    this.#decisions.set(ban.ip, ban);
    if (live && (!before || banId(before) !== banId(ban))) this.#pending.push({ kind: 'ban', id: `ban:${banId(ban)}`, ban, atMs: nowMs });
  }

  /** The fleet no longer bans `target` here: an unban (`expired` when its time was up, else `admin`). */
  fleetDelete(target: string, live: boolean, nowMs: number): void {
    const ban = this.#decisions.get(target);
    this.#decisions.delete(target);
    if (!ban || !live || !this.listener) return;
    const why = ban.expiresMs !== 0 && ban.expiresMs <= nowMs ? 'expired' : 'admin';
    this.#pending.push({ kind: 'unban', id: `unban:${banId(ban)}`, ban, atMs: nowMs, why });
  }

  /** This host bans on its own. */
  localBan(b: LocalBan, host: string): void {
    if (this.listener) this.#pending.push({ kind: 'ban', id: `ban:${banId(localDecision(b, host))}`, ban: localDecision(b, host), atMs: b.atMs });
  }

  /** Local bans whose time is up (the kernel's set timeout removes them): told at once. */
  localExpired(bans: readonly LocalBan[], host: string, nowMs: number): void {
    for (const b of bans) this.listener?.({ kind: 'unban', id: `unban:${banId(localDecision(b, host))}`, ban: localDecision(b, host), atMs: nowMs, why: 'expired' });
  }

  /** The events of the change about to be written; give them to {@link applied} or {@link failed}. */
  take(): BanEvent[] {
    const out = this.#pending;
    this.#pending = [];
    return out;
  }

  /** The firewall holds the change: tells the listener. */
  applied(events: readonly BanEvent[]): void {
    for (const e of events) this.listener?.(e);
  }

  /** The write failed: told after the next one that succeeds. */
  failed(events: readonly BanEvent[]): void {
    this.#pending = [...events, ...this.#pending];
  }
}

/** A local ban as the ban of a host-site action. */
function localDecision(b: LocalBan, host: string): BanDecision {
  return { ip: b.ip, jail: b.jail, atMs: b.atMs, expiresMs: b.expiresMs, reason: 'threshold', banCount: 1, hosts: [host], matches: [], failures: b.failures, scope: [host], id: `local:${host}:${b.jail}:${b.ip}:${b.atMs}` };
}
