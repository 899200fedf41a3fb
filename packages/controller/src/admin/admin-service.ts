import {
  ADMIN_WILDCARD,
  adminClientOf,
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
  type Logger,
  type Msg,
  type NatsConnection,
  normalizeTarget,
  type Subscription,
} from '@fleetban/shared';
import type { JailTrackers } from '../aggregate/jail-tracker.js';
import { bannedPage, jailStatuses } from './admin-views.js';
import type { ConfigService } from './config-service.js';
import type { IgnoreService } from './ignore-service.js';
import { JailSpaces } from '../decide/fleet-guard.js';
import type { HostRegistry } from '../fleet/host-registry.js';
import type { Renewal } from '../lease/controller-lease.js';
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
  /** get, set, reload. */
  readonly settings: ConfigService;
  /** ignore add|del|list. */
  readonly ignore: IgnoreService;
  /** `forget` without `force`: how old a host's last heartbeat must be (`forgetAfterMs` in fleet/host-registry.ts). */
  readonly forgetAfterMs: number;
}

/** NATS's default max_payload, assumed until the server has said its own. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/** Bytes of a reply kept for everything but its bans (counters, figures) when a `banned` page is cut. */
const REPLY_RESERVE = 16 * 1024;

/** Counters that count malformed input (the reply's `malformed` total). */
const MALFORMED = ['events.malformed', 'events.foreign-host', 'heartbeats.malformed', 'admin.malformed'];

/** Requests that wait for a suspended lease to be renewed at most; more are left to the requester's timeout. */
const MAX_HELD = 256;

/**
 * fail2ban-client's verbs over NATS request/reply (`fleetban.admin.<verb>`): status, ban, unban,
 * banned; get, set and reload (config-service.ts); ignore add|del|list (ignore-service.ts); forget
 * (a fleet host's record deleted, fleet/host-registry.ts). A ban is asked of the guard first: one that would cover a fleet host, a NATS server,
 * the controller, an allowlist (global or the jail's) or special space is refused with its
 * reason, and so is a prefix wider than the minimum without `force`, or a bantime over the maximum.
 * A request is obeyed only on its own verb's subject, the one NATS permissions grant: a `ban` or
 * `unban` sent on `fleetban.admin.status` is malformed (`admin.malformed`), never served.
 * No request can stop the process: every failure becomes an error reply, and so does a reply
 * larger than the server's max_payload (counted, `admin.oversize`). Replies are bounded: `status`
 * carries counts and at most {@link ADMIN_LIMITS}.statusBanned addresses of the jail asked, `banned`
 * one page (`offset`, `limit`, cut to max_payload) with the `total`; the whole list is for reading
 * from the KV bucket (`fleetban banned`).
 */
export class AdminService {
  #sub: Subscription | undefined;
  #nc: NatsConnection | undefined;
  readonly #jailSpaces = new JailSpaces();
  /** Requests waiting for the lease to be renewed. */
  #held = 0;
  constructor(private readonly d: AdminDeps) {}

  /**
   * Starts answering, but not while `lease` is not renewed: another controller may be active, and
   * would answer (and act on) the same request. A request then waits (up to {@link MAX_HELD} of
   * them) and is answered once the lease is renewed: a suspension lasts while a cluster elects
   * the lease bucket's leader, a few seconds, within a requester's timeout (`fleetban status` just
   * after the loss of a node timed out otherwise). Once the lease is lost, or past that many, it is
   * counted (`admin.suspended`) and left to the requester's timeout.
   */
  start(nc: NatsConnection, lease?: Renewal & { whenRenewed(): Promise<void> }): void {
    this.#nc = nc;
    this.#sub = nc.subscribe(ADMIN_WILDCARD, {
      callback: (err, m) => {
        if (err) return;
        if (lease?.renewed !== false) return void this.answer(m);
        if (this.#held >= MAX_HELD) return void this.d.counters.add('admin.suspended');
        this.#held++;
        void lease.whenRenewed().then(() => {
          this.#held--;
          if (lease.renewed && this.#sub) void this.answer(m);
          else this.d.counters.add('admin.suspended');
        });
      },
    });
  }

  private async answer(m: Msg): Promise<void> {
    this.d.counters.add('admin.requests');
    let reply: AdminReply;
    try {
      const req = decodeAdminRequest(m.data);
      // NATS permissions grant by subject (hosts may ask status and banned only): obey no other verb there
      if (m.subject !== adminSubject(req.verb)) throw new DecodeError(`AdminRequest: verb ${req.verb} on subject ${m.subject}`);
      reply = await this.handle(req, adminClientOf(m));
    } catch (err) {
      if (!(err instanceof FleetbanError)) this.d.logger.error({ err }, 'admin request failed');
      if (err instanceof FleetbanError && err.code === 'DECODE_FAILED') this.d.counters.add('admin.malformed');
      reply = this.reply({ ok: false, error: err instanceof Error ? err.message : String(err) });
    }
    try {
      m.respond(this.encode(reply, m.subject));
    } catch (err) {
      this.d.logger.error({ err, verb: m.subject }, 'admin reply not sent');
    }
  }

  /** The reply's bytes, or an error reply's when they would exceed the server's max_payload. */
  private encode(reply: AdminReply, subject: string): Uint8Array {
    const bytes = encodeAdminReply(reply);
    const max = this.maxPayload();
    if (bytes.length <= max) return bytes;
    this.d.counters.add('admin.oversize');
    this.d.logger.warn({ verb: subject, bytes: bytes.length, maxPayload: max }, 'admin reply larger than max_payload: an error reply sent instead');
    const error = `the reply (${bytes.length} bytes) exceeds the NATS server's max_payload (${max} bytes)${subject === adminSubject('banned') ? '; read the list from the KV bucket (fleetban banned) or ask a smaller page (limit)' : ''}`;
    return encodeAdminReply(this.reply({ ok: false, error }));
  }

  /** The connected server's max_payload (what one message may carry). */
  private maxPayload(): number {
    return this.#nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
  }

  /** Handles one request (exposed for tests); `by` is who sent it, as the request's header says. */
  async handle(req: AdminRequest, by = 'unknown'): Promise<AdminReply> {
    const now = this.d.clock();
    switch (req.verb) {
      case 'status': {
        const jails = jailStatuses(this.d.trackers, this.d.store.activeBans(now), now, req.jail).filter((j) => !req.jail || j.name === req.jail);
        if (req.jail && jails.length === 0) return this.reply({ ok: false, error: `jail '${req.jail}' does not exist` });
        return this.reply({ jails, hosts: this.d.hosts.list() });
      }
      case 'banned': {
        const budget = Math.max(0, this.maxPayload() - REPLY_RESERVE);
        const page = bannedPage(this.d.store.activeBans(now), req.offset ?? 0, req.limit ?? 0, budget);
        return this.reply({ bans: page.bans, total: page.total });
      }
      case 'ban':
        return this.ban(req, now, by);
      case 'unban': {
        if (req.all) return this.unbanAll(req, now, by);
        const target = normalizeTarget(req.ip);
        const had = await this.d.store.unban(target, now);
        for (const t of this.d.trackers.all()) t.window.reset(target);
        if (!had) return this.reply({ ok: false, error: `${target} is not banned` });
        this.d.logger.info({ ip: target, by }, 'unbanned by admin');
        return this.reply({});
      }
      case 'get':
        return this.reply({ options: this.d.settings.get(req.jail, req.option ?? '') });
      case 'set':
        if (!req.jail || !req.option) return this.reply({ ok: false, error: 'set names a jail, an option and a value' });
        return this.reply({ changes: [this.d.settings.set(req.jail, req.option, req.value ?? '', by)] });
      case 'reload':
        return this.reply({ changes: this.d.settings.reload(by) });
      case 'ignore':
        return this.ignore(req, by);
      case 'forget': {
        if (!req.host) return this.reply({ ok: false, error: 'forget names a host' });
        const h = await this.d.hosts.forget(req.host, now, { afterMs: this.d.forgetAfterMs, force: req.force ?? false });
        this.d.logger.info({ host: h.host, addresses: h.addresses, lastHeartbeatMs: h.lastHeartbeatMs, force: req.force ?? false, by }, 'fleet host forgotten by admin');
        return this.reply({ hosts: [h] });
      }
      default:
        return this.reply({ ok: false, error: `unknown admin verb '${String(req.verb)}'` });
    }
  }

  /**
   * `unban --all [--jail J]`: lifts every active ban (of the jail when one is named) on every
   * host; one audit line says who asked, which jail and how many; the reply's `total` is that count.
   */
  private async unbanAll(req: AdminRequest, now: number, by: string): Promise<AdminReply> {
    if (req.ip) return this.reply({ ok: false, error: 'unban of every ban names no address' });
    if (req.jail && !jailStatuses(this.d.trackers, this.d.store.activeBans(now), now, req.jail).some((j) => j.name === req.jail)) {
      return this.reply({ ok: false, error: `jail '${req.jail}' does not exist` });
    }
    const targets = await this.d.store.unbanAll(req.jail, now);
    for (const t of this.d.trackers.all()) for (const ip of targets) t.window.reset(ip);
    this.d.logger.info({ by, jail: req.jail || '*', unbanned: targets.length, atMs: now }, 'every ban lifted by admin');
    return this.reply({ total: targets.length });
  }

  /** `ignore add|del|list`; `add` replies the bans it covers and keeps (`bans`) and how many it lifted (`total`). */
  private async ignore(req: AdminRequest, by: string): Promise<AdminReply> {
    switch (req.op) {
      case 'add': {
        const r = await this.d.ignore.add(req.networks ?? [], by, req.unban ?? false);
        return this.reply({ ignored: r.added, bans: r.kept, total: r.lifted.length });
      }
      case 'del':
        return this.reply({ ignored: await this.d.ignore.del(req.networks ?? [], by) });
      default:
        return this.reply({ ignored: this.d.ignore.entries() });
    }
  }

  private async ban(req: AdminRequest, now: number, by: string): Promise<AdminReply> {
    const target = normalizeTarget(req.ip);
    const jailName = req.jail || 'manual';
    const tracker = this.d.trackers.get(jailName);
    const duration = req.bantimeMs === 0 ? tracker.jail.bantimeMs : req.bantimeMs;
    const refusal = this.d.guard.check(target, { force: req.force ?? false, bantimeMs: duration, extra: [this.#jailSpaces.of(tracker.jail)] });
    if (refusal) {
      this.d.counters.add(`admin.refused.${refusal.code}`);
      this.d.logger.warn({ ip: target, jail: jailName, why: refusal.code, force: req.force ?? false, by }, `manual ban refused: ${refusal.reason}`);
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
    this.d.counters.add('bans.manual', 1, [jailName, 'manual']);
    this.d.logger.info({ ip: target, jail: jailName, expiresMs: decision.expiresMs, force: req.force ?? false, by }, 'banned by admin');
    return this.reply({ bans: [decision] });
  }

  private reply(r: Partial<AdminReply>): AdminReply {
    const c = this.d.counters;
    const malformed = MALFORMED.reduce((n, k) => n + c.get(k), 0);
    return { ok: true, error: '', jails: [], hosts: [], bans: [], malformed, nowMs: this.d.clock(), counters: c.snapshot(), ...r };
  }

  /** Stops answering. */
  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
  }
}
