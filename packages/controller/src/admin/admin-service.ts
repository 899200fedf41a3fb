import {
  ADMIN_WILDCARD,
  adminSubject,
  type AdminReply,
  type AdminRequest,
  banExpiry,
  type BanGuard,
  type BanDecision,
  type Clock,
  decodeAdminRequest,
  DecodeError,
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
import { JailSpaces } from '../decide/fleet-guard.js';
import type { HostRegistry } from '../fleet/host-registry.js';
import type { CounterSet } from '../metrics/counter-set.js';
import type { BanStore } from '../store/ban-store.js';

/** What the admin service reads and changes. */
export interface AdminDeps {
  readonly store: BanStore;
  readonly trackers: JailTrackers;
  readonly hosts: HostRegistry;
  /** The controller's guard: protected spaces, minimum prefix, maximum bantime. */
  readonly guard: BanGuard;
  readonly counters: CounterSet;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** Counters that count malformed input (the reply's `malformed` total). */
const MALFORMED = ['events.malformed', 'events.foreign-host', 'heartbeats.malformed', 'admin.malformed'];

/**
 * fail2ban-client's verbs over NATS request/reply (`fleetban.admin.<verb>`): status, ban, unban,
 * banned. A ban is asked of the guard first: one that would cover a fleet host, a NATS server,
 * the controller, an allowlist (global or the jail's) or special space is refused with its
 * reason, and so is a prefix wider than the minimum without `force`, or a bantime over the maximum.
 * A request is obeyed only on its own verb's subject, the one NATS permissions grant: a `ban` or
 * `unban` sent on `fleetban.admin.status` is malformed (`admin.malformed`), never served.
 * No request can stop the process: every failure becomes an error reply.
 */
export class AdminService {
  #sub: Subscription | undefined;
  readonly #jailSpaces = new JailSpaces();
  constructor(private readonly d: AdminDeps) {}

  /** Starts answering. */
  start(nc: NatsConnection): void {
    this.#sub = nc.subscribe(ADMIN_WILDCARD, { callback: (err, m) => (err ? undefined : void this.answer(m)) });
  }

  private async answer(m: Msg): Promise<void> {
    this.d.counters.add('admin.requests');
    let reply: AdminReply;
    try {
      const req = decodeAdminRequest(m.data);
      // NATS permissions grant by subject (hosts may ask status and banned only): obey no other verb there
      if (m.subject !== adminSubject(req.verb)) throw new DecodeError(`AdminRequest: verb ${req.verb} on subject ${m.subject}`);
      reply = await this.handle(req);
    } catch (err) {
      if (!(err instanceof FleetbanError)) this.d.logger.error({ err }, 'admin request failed');
      if (err instanceof FleetbanError && err.code === 'DECODE_FAILED') this.d.counters.add('admin.malformed');
      reply = this.reply({ ok: false, error: err instanceof Error ? err.message : String(err) });
    }
    try {
      m.respond(encodeAdminReply(reply));
    } catch (err) {
      this.d.logger.error({ err, verb: m.subject }, 'admin reply not sent');
    }
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
    const duration = req.bantimeMs === 0 ? tracker.jail.bantimeMs : req.bantimeMs;
    const refusal = this.d.guard.check(target, { force: req.force ?? false, bantimeMs: duration, extra: [this.#jailSpaces.of(tracker.jail)] });
    if (refusal) {
      this.d.counters.add(`admin.refused.${refusal.code}`);
      this.d.logger.warn({ ip: target, jail: jailName, why: refusal.code, force: req.force ?? false }, `manual ban refused: ${refusal.reason}`);
      return this.reply({ ok: false, error: refusal.reason });
    }
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
      scope: [],
    };
    await this.d.store.ban(decision);
    tracker.totalBanned++;
    this.d.logger.info({ ip: target, jail: jailName, expiresMs: decision.expiresMs, force: req.force ?? false }, 'banned by admin');
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
    const c = this.d.counters;
    const malformed = MALFORMED.reduce((n, k) => n + c.get(k), 0);
    return { ok: true, error: '', jails: [], hosts: [], bans: [], malformed, nowMs: this.d.clock(), counters: c.snapshot(), ...r };
  }

  /** Stops answering. */
  stop(): void {
    this.#sub?.unsubscribe();
  }
}
