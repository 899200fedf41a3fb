import {
  type BanDecision,
  type BanGuard,
  BanList,
  BanRefusedError,
  type CreateOptions,
  historyKey,
  isActive,
  type Logger,
  type NatsConnection,
  type Offence,
  OffenceHistory,
  withBanTime,
} from '@fleetban/shared';
import { OffenceBook, purgeableKeys } from './offence-book.js';

/** The JetStream API timeout when {@link BanStore.heal} reopens the ban list. */
const HEAL_TIMEOUT_MS = 5_000;

/** Unbans written at once by {@link BanStore.unbanAll} (KV deletes in flight). */
const UNBAN_BATCH = 64;

/** The end of a ban that does not end. */
const NEVER = Number.MAX_SAFE_INTEGER;

/**
 * The controller's view of the ban list and of each address's ban history, mirrored in memory for
 * synchronous decisions and written through to the KV buckets the agents watch.
 */
export class BanStore {
  readonly bans = new Map<string, BanDecision>();
  readonly offences = new OffenceBook();
  private constructor(
    private readonly nc: NatsConnection,
    private list: BanList,
    private history: OffenceHistory,
    private readonly guard: BanGuard,
    private readonly logger: Logger,
    private readonly create: CreateOptions | undefined,
  ) {}

  /**
   * Opens the buckets and loads what they hold. `guard` is asked again before every write: the
   * last door on the controller's side, whatever door the ban came through. `create` sets the
   * replica count of a bucket created (here or by {@link heal}).
   */
  static async open(nc: NatsConnection, guard: BanGuard, logger: Logger, create?: CreateOptions): Promise<BanStore> {
    const store = new BanStore(nc, await BanList.open(nc, true, create), await OffenceHistory.open(nc, create), guard, logger, create);
    const malformed = (key: string, err: unknown) => logger.warn({ key, err }, 'ban list entry does not decode: skipped');
    for await (const b of store.list.entries(malformed)) store.bans.set(b.ip, b);
    for (const [k, o] of await store.history.load()) store.offences.set(k, o);
    logger.info({ bans: store.bans.size, offences: store.offences.size }, 'ban list loaded');
    return store;
  }

  /**
   * Publishes a ban to the fleet and records it in the history: a threshold or recidive ban counts
   * as an offence (bantime.increment), a manual one only marks its failures as dealt with; the
   * start of a fleet-wide threshold ban is kept for recidive to count. The ban is
   * held in memory only once the list holds it. Throws {@link BanRefusedError} when the guard
   * refuses the target (its protected spaces: force and limits are the caller's to check).
   */
  async ban(b: BanDecision): Promise<void> {
    const refusal = this.guard.check(b.ip, { force: true });
    if (refusal) throw new BanRefusedError(refusal.code, refusal.reason);
    await this.list.put(b);
    this.bans.set(b.ip, b);
    const key = historyKey(b.jail, b.ip);
    const before = this.offences.get(key);
    const count = b.reason === 'manual' ? (before?.count ?? 0) : b.banCount;
    const endsMs = b.expiresMs === 0 ? NEVER : b.expiresMs;
    // a ban scoped to some hosts has not dealt with the failures other hosts see: those still count
    const clearedAtMs = b.scope.length > 0 ? (before?.clearedAtMs ?? 0) : endsMs;
    const times = before?.banTimesMs ?? [];
    // recidive counts fleet-wide threshold bans only: a host whose logs can be forged cannot
    // escalate its own scoped bans to a fleet-wide recidive ban
    const banTimesMs = b.reason === 'threshold' && b.scope.length === 0 ? withBanTime(times, b.atMs) : times;
    await this.record(key, { count, lastBanMs: b.atMs, clearedAtMs, endsMs, banTimesMs });
  }

  /**
   * After a failed write: opens the buckets again, creating one that was deleted, and writes back
   * every active ban the controller holds when the list came back empty (the agents reconcile to
   * it). Throws when NATS still refuses.
   */
  async heal(nowMs: number): Promise<void> {
    // a short API timeout: a request lost while the bucket elects a leader fails soon and is retried
    this.list = await BanList.open(this.nc, true, { ...this.create, apiTimeoutMs: HEAL_TIMEOUT_MS });
    this.history = await OffenceHistory.open(this.nc, this.create);
    if ((await this.list.size()) > 0 || this.bans.size === 0) return;
    const active = [...this.bans.values()].filter((b) => isActive(b, nowMs));
    for (const b of active) await this.list.put(b);
    for (const [k, o] of this.offences) await this.history.save(k, o);
    this.logger.warn({ bans: active.length }, 'ban list was empty after a failed write: the controller wrote its bans back');
  }

  /** Lifts a ban on every host at `nowMs`; false when the target was not banned. */
  async unban(target: string, nowMs: number): Promise<boolean> {
    const ban = this.bans.get(target);
    await this.list.remove(target);
    this.bans.delete(target);
    if (!ban) return false;
    const key = historyKey(ban.jail, target);
    const o = this.offences.get(key);
    if (o && (o.clearedAtMs > nowMs || o.endsMs > nowMs)) {
      await this.record(key, { ...o, clearedAtMs: Math.min(o.clearedAtMs, nowMs), endsMs: Math.min(o.endsMs, nowMs) });
    }
    return true;
  }

  /**
   * Lifts every active ban of `jail` (of every jail when empty) on every host at `nowMs`, as
   * {@link unban} does one, {@link UNBAN_BATCH} at a time; returns the targets lifted.
   */
  async unbanAll(jail: string, nowMs: number): Promise<string[]> {
    const targets: string[] = [];
    for (const b of this.activeBans(nowMs)) if (!jail || b.jail === jail) targets.push(b.ip);
    for (let i = 0; i < targets.length; i += UNBAN_BATCH) await Promise.all(targets.slice(i, i + UNBAN_BATCH).map((t) => this.unban(t, nowMs)));
    return targets;
  }

  /**
   * Offences to forget at `nowMs` (fail2ban's dbpurgeage): the last ban ended more than `ageMs`
   * ago, and the target holds no active ban of that jail. Permanent bans are never purged.
   */
  purgeable(nowMs: number, ageMs: number): string[] {
    return purgeableKeys(this.offences, this.bans, nowMs, ageMs);
  }

  /** Forgets one offence, in memory and in the history bucket. */
  async forget(key: string): Promise<void> {
    await this.history.remove(key);
    this.offences.delete(key);
  }

  private async record(key: string, o: Offence): Promise<void> {
    this.offences.set(key, o);
    await this.history.save(key, o);
  }

  /** Active bans at `nowMs`. */
  active(nowMs: number): BanDecision[] {
    return [...this.activeBans(nowMs)];
  }

  /** Active bans at `nowMs`, one at a time (no array of the whole list), in the order the store first held them. */
  *activeBans(nowMs: number): Generator<BanDecision> {
    for (const b of this.bans.values()) if (isActive(b, nowMs)) yield b;
  }

  /** Bans whose expiry has passed at `nowMs`. */
  expired(nowMs: number): BanDecision[] {
    // called every expire interval: no copy of the whole list, only the expired ones
    const out: BanDecision[] = [];
    for (const b of this.bans.values()) if (!isActive(b, nowMs)) out.push(b);
    return out;
  }

  /** Logs and swallows a write failure (the expiry loop and the kernel timeouts still hold). */
  warn(err: unknown, what: string): void {
    this.logger.error({ err }, what);
  }
}
