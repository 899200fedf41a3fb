import {
  ADMIN_WILDCARD,
  type AdminReply,
  type AdminRequest,
  type Allowlist,
  banExpiry,
  type BanDecision,
  type Clock,
  decodeAdminRequest,
  encodeAdminReply,
  FleetbanError,
  type JailStatus,
  type Logger,
  type Msg,
  type NatsConnection,
  normalizeTarget,
  type Subscription,
} from '@fleetban/shared';
import type { JailTrackers } from '../aggregate/jail-tracker.js';
import type { HostRegistry } from '../fleet/host-registry.js';
import type { BanStore } from '../store/ban-store.js';

/** What the admin service reads and changes. */
export interface AdminDeps {
  readonly store: BanStore;
  readonly trackers: JailTrackers;
  readonly hosts: HostRegistry;
  readonly globalAllow: Allowlist;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly malformed: () => number;
}

/**
 * fail2ban-client's verbs over NATS request/reply (`fleetban.admin.<verb>`): status, ban, unban,
 * banned. Requests that would lock out the fleet (banning one of its hosts or an allowlisted
 * address) are refused.
 */
export class AdminService {
  #sub: Subscription | undefined;
  #malformed = 0;
  constructor(private readonly d: AdminDeps) {}

  /** Starts answering. */
  start(nc: NatsConnection): void {
    this.#sub = nc.subscribe(ADMIN_WILDCARD, { callback: (err, m) => (err ? undefined : void this.answer(m)) });
  }

  /** Malformed admin requests seen. */
  get malformed(): number {
    return this.#malformed;
  }

  private async answer(m: Msg): Promise<void> {
    let reply: AdminReply;
    try {
      reply = await this.handle(decodeAdminRequest(m.data));
    } catch (err) {
      if (!(err instanceof FleetbanError)) this.d.logger.error({ err }, 'admin request failed');
      if (err instanceof FleetbanError && err.code === 'DECODE_FAILED') this.#malformed++;
      reply = this.reply({ ok: false, error: err instanceof Error ? err.message : String(err) });
    }
    m.respond(encodeAdminReply(reply));
  }

  /** Handles one request (exposed for tests). */
  async handle(req: AdminRequest): Promise<AdminReply> {
    const now = this.d.clock();
    switch (req.verb) {
      case 'status': {
        const jails = this.jailStatus(now).filter((j) => !req.jail || j.name === req.jail);
        if (req.jail && jails.length === 0) return this.reply({ ok: false, error: `jail '${req.jail}' does not exist` });
        return this.reply({ jails, hosts: this.d.hosts.list() });
      }
      case 'banned':
        return this.reply({ bans: this.d.store.active(now) });
      case 'ban':
        return this.ban(req, now);
      case 'unban': {
        const target = normalizeTarget(req.ip);
        const had = await this.d.store.unban(target, now);
        for (const t of this.d.trackers.all()) t.window.reset(target);
        if (!had) return this.reply({ ok: false, error: `${target} is not banned` });
        this.d.logger.info({ ip: target }, 'unbanned by admin');
        return this.reply({});
      }
      default:
        return this.reply({ ok: false, error: `unknown admin verb '${String(req.verb)}'` });
    }
  }

  private async ban(req: AdminRequest, now: number): Promise<AdminReply> {
    const target = normalizeTarget(req.ip);
    const jailName = req.jail || 'manual';
    const tracker = this.d.trackers.get(jailName);
    if (this.d.hosts.isFleetAddress(target)) return this.reply({ ok: false, error: `${target} is a fleet host's address: not banned` });
    if (this.d.globalAllow.has(target)) return this.reply({ ok: false, error: `${target} is in the controller's ignoreip: not banned` });
    const duration = req.bantimeMs === 0 ? tracker.jail.bantimeMs : req.bantimeMs;
    const decision: BanDecision = {
      ip: target,
      jail: jailName,
      atMs: now,
      expiresMs: banExpiry(now, duration),
      reason: 'manual',
      banCount: 1,
      hosts: [],
      matches: [],
      failures: 0,
    };
    await this.d.store.ban(decision);
    tracker.totalBanned++;
    this.d.logger.info({ ip: target, jail: jailName, expiresMs: decision.expiresMs }, 'banned by admin');
    return this.reply({ bans: [decision] });
  }

  private jailStatus(now: number): JailStatus[] {
    const active = this.d.store.active(now);
    return this.d.trackers.all().map((t) => {
      t.window.prune(now);
      const banned = active.filter((b) => b.jail === t.jail.name).map((b) => b.ip);
      return {
        name: t.jail.name,
        currentlyFailed: t.window.size,
        totalFailed: t.totalFailed,
        currentlyBanned: banned.length,
        totalBanned: t.totalBanned,
        banned,
        maxretry: t.jail.maxretry,
        findtimeMs: t.jail.findtimeMs,
        bantimeMs: t.jail.bantimeMs,
      };
    });
  }

  private reply(r: Partial<AdminReply>): AdminReply {
    return { ok: true, error: '', jails: [], hosts: [], bans: [], malformed: this.d.malformed() + this.#malformed, nowMs: this.d.clock(), ...r };
  }

  /** Stops answering. */
  stop(): void {
    this.#sub?.unsubscribe();
  }
}
