import { type BanDecision, type BanGuard, banExpiry, type Clock, FleetbanError, type Logger, normalizeTarget } from '@fleetban/shared';
import type { JailTrackers } from '../aggregate/jail-tracker.js';
import { JailSpaces } from '../decide/fleet-guard.js';
import type { CounterSet } from '../metrics/counter-set.js';
import type { Renewal } from '../lease/controller-lease.js';
import type { BanStore } from '../store/ban-store.js';

/** What the page's ban and unban change and ask. */
export interface WebAdminDeps {
  readonly store: BanStore;
  readonly trackers: JailTrackers;
  readonly guard: BanGuard;
  readonly counters: CounterSet;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Nothing is changed while it is not renewed (another controller may be active). */
  readonly lease?: Renewal;
}

/** Why a suspended controller's page changes nothing. */
const SUSPENDED = "this controller's lease is not renewed (another controller may be active): nothing changed; try again";

/** The answer to a ban or unban from the page: done, or why not (shown to the admin as text). */
export type WebAdminResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * Ban and unban from the web view, by the same path as `fleetban ban` and `fleetban unban` (the
 * admin service): the guard is asked with the jail's ignoreip, the minimum prefix and the
 * maximum bantime (no `force` from the page: a network wider than the minimum prefix is for the
 * CLI), then the store writes the list the agents follow; the jails' windows forget an unbanned
 * address, and each change is logged with who made it (`web`).
 */
export class WebAdmin {
  readonly #jailSpaces = new JailSpaces();
  constructor(private readonly d: WebAdminDeps) {}

  /** Bans `ip` in `jail` (default `manual`) for the jail's bantime. */
  async ban(ip: string, jail = 'manual'): Promise<WebAdminResult> {
    if (this.d.lease?.renewed === false) return { ok: false, error: SUSPENDED };
    const now = this.d.clock();
    let target: string;
    try {
      target = normalizeTarget(ip);
      const tracker = this.d.trackers.get(jail || 'manual');
      const duration = tracker.jail.bantimeMs;
      const refusal = this.d.guard.check(target, { force: false, bantimeMs: duration, extra: [this.#jailSpaces.of(tracker.jail)] });
      if (refusal) {
        this.d.counters.add(`admin.refused.${refusal.code}`);
        this.d.logger.warn({ ip: target, jail: tracker.jail.name || jail, why: refusal.code, by: 'web' }, `manual ban refused: ${refusal.reason}`);
        return { ok: false, error: refusal.reason };
      }
      const name = jail || 'manual';
      const decision: BanDecision = { ip: target, jail: name, atMs: now, expiresMs: banExpiry(now, duration), reason: 'manual', banCount: 1, hosts: [], matches: [], failures: 0, scope: [] };
      await this.d.store.ban(decision);
      tracker.totalBanned++;
      this.d.counters.add('bans.manual', 1, [name, 'manual']);
      this.d.logger.info({ ip: target, jail: name, expiresMs: decision.expiresMs, by: 'web' }, 'banned by admin');
      return { ok: true };
    } catch (err) {
      return this.#failed(err, 'web ban failed');
    }
  }

  /** Lifts the ban of `ip` on every host. */
  async unban(ip: string): Promise<WebAdminResult> {
    if (this.d.lease?.renewed === false) return { ok: false, error: SUSPENDED };
    const now = this.d.clock();
    try {
      const target = normalizeTarget(ip);
      const had = await this.d.store.unban(target, now);
      for (const t of this.d.trackers.all()) t.window.reset(target);
      if (!had) return { ok: false, error: `${target} is not banned` };
      this.d.logger.info({ ip: target, by: 'web' }, 'unbanned by admin');
      return { ok: true };
    } catch (err) {
      return this.#failed(err, 'web unban failed');
    }
  }

  #failed(err: unknown, what: string): WebAdminResult {
    // ours (a bad address, a jail limit, a refused write) are the admin's to read; anything else is logged
    if (!(err instanceof FleetbanError)) this.d.logger.error({ err }, what);
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
