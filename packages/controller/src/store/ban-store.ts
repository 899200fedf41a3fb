import { randomBytes } from 'node:crypto';
import {
  type BanDecision,
  type BanEvent,
  type BanGuard,
  banId,
  BanList,
  BanRefusedError,
  type CreateOptions,
  historyKey,
  isActive,
  type Logger,
  type NatsConnection,
  type Offence,
  OffenceHistory,
} from '@fleetban/shared';
import { type BanJournal, type BanListener, BanListeners } from './ban-listeners.js';
import { loadBans, pairsOf, type StoredBans } from './ban-store-load.js';
import { OffenceBook, offenceAfter, purgeableKeys } from './offence-book.js';

/** The JetStream API timeout when {@link BanStore.heal} reopens the ban list. */
const HEAL_TIMEOUT_MS = 5_000;

/**
 * The JetStream API timeout of the ban list the store writes (and reads from a snapshot on): on a
 * cluster that lost a node, a request sent while the bucket has no leader gets no answer, and the
 * list's default (60 s, for whole-list reads) held a start, or a ban, that long.
 */
const LIST_TIMEOUT_MS = 10_000;

/**
 * The JetStream API timeout of a start's whole-list read (no snapshot to start from): shorter than
 * the list's default (60 s), so a request lost to a leader election fails the start, which is
 * tried again a second later, rather than holding it a minute (test/cluster.test.ts).
 */
const WHOLE_READ_TIMEOUT_MS = 30_000;

/** Unbans written at once by {@link BanStore.unbanAll} (KV deletes in flight). */
const UNBAN_BATCH = 64;

/** A ban {@link BanStore.place placed}: held in memory, its writes in flight. */
export interface PlacedBan {
  /** Resolves once the list and the history hold it (then it is shown and told to the listeners). */
  readonly listed: Promise<void>;
  /** Resolves once the list, the history and the journal hold it. */
  readonly written: Promise<void>;
  /** After a failure: writes what memory holds now for the ban's target, and the journal events still unwritten. */
  again(): Promise<void>;
  /** After a failure, given up: memory returns to what it held before, unless the ban was replaced meanwhile. */
  forsake(): void;
}

/** Why a ban was lifted, as {@link BanStore.unban} is told. */
export type UnbanWhy = NonNullable<BanEvent['why']>;

/**
 * The controller's view of the ban list and of each address's ban history, mirrored in memory for
 * synchronous decisions and written through to the KV buckets the agents watch. The one owner of
 * ban events: after each write it tells its listeners ({@link onEvent}: actions, metrics, the
 * audit log) a ban was stored (`ban`) or lifted (`unban`, why `expired` or `admin`); the
 * {@link useJournal journal} (the durable action queue) is written in parallel with the list,
 * before the write resolves.
 */
export class BanStore {
  readonly bans = new Map<string, BanDecision>();
  readonly offences = new OffenceBook();
  readonly #listeners: BanListeners;
  #journal: BanJournal | undefined;
  /** Ids of events whose journal write failed: written again when the same ban is stored again. */
  readonly #unjournaled = new Set<string>();
  /** Targets whose ban is held in memory while its writes are in flight (or failed), with how many placements wait. */
  readonly #unstored = new Map<string, number>();
  private constructor(
    private readonly nc: NatsConnection,
    private list: BanList,
    private history: OffenceHistory,
    private readonly guard: BanGuard,
    private readonly logger: Logger,
    private readonly create: CreateOptions | undefined,
  ) {
    this.#listeners = new BanListeners(logger);
  }

  /** Tells `l` of every ban event from now on; returns its removal. */
  onEvent(l: BanListener): () => void {
    return this.#listeners.add(l);
  }

  /** Writes every ban event to `j` in parallel with the list; a write resolves once `j` has too. */
  useJournal(j: BanJournal): void {
    this.#journal = j;
  }

  /**
   * Opens the buckets and loads what they hold. `guard` is asked again before every write: the
   * last door on the controller's side, whatever door the ban came through. `create` sets the
   * replica count of a bucket created (here or by {@link heal}). With `from` (a snapshot), only
   * the changes made after it are read (when the buckets are still those it was taken of).
   */
  static async open(nc: NatsConnection, guard: BanGuard, logger: Logger, create?: CreateOptions, from?: StoredBans): Promise<BanStore> {
    const store = new BanStore(nc, await BanList.open(nc, true, { ...create, apiTimeoutMs: LIST_TIMEOUT_MS }), await OffenceHistory.open(nc, create), guard, logger, create);
    // a whole-list read has a longer API timeout (its consumer counts every key first)
    const whole = () => BanList.open(nc, true, { ...create, apiTimeoutMs: WHOLE_READ_TIMEOUT_MS });
    const source = await loadBans(store, store.list, store.history, logger, from, whole);
    logger.info({ bans: store.bans.size, offences: store.offences.size, from: source }, 'ban list loaded');
    return store;
  }

  /** Where the list and the history stand now (taken before {@link capture}, for a snapshot). */
  async positions(): Promise<Pick<StoredBans, 'bansAt' | 'historyAt'>> {
    const [bansAt, historyAt] = await Promise.all([this.list.position(), this.history.position()]);
    return { bansAt, historyAt };
  }

  /**
   * The bans and offences held now, for a snapshot: a ban whose writes are in flight is left out
   * and its target named in `unsure` (the next controller reads it from the list).
   */
  capture(): Pick<StoredBans, 'bans' | 'offences' | 'unsure'> {
    const unsure = [...this.#unstored.keys()];
    // a spread, not a for-of loop: run once per snapshot, the loop stayed unoptimised (10–30 ms
    // for 100,000 bans, where the spread takes a few)
    const all = [...this.bans.values()];
    const bans = this.#unstored.size === 0 ? all : all.filter((b) => !this.#unstored.has(b.ip));
    return { bans, offences: pairsOf(this.offences), unsure };
  }

  /**
   * Publishes a ban to the fleet and records it in the history, as {@link place} does, and
   * resolves once the list, the history and the journal hold it. When the list or the history
   * could not be written, the store forgets the ban again (unless it was replaced meanwhile) and
   * rethrows; when only the journal failed, the ban is stored and the journal is written again the
   * next time the same ban is stored.
   */
  async ban(given: BanDecision): Promise<void> {
    const placed = this.place(given);
    try {
      await placed.listed;
    } catch (err) {
      placed.forsake();
      throw err;
    }
    await placed.written;
  }

  /**
   * Holds a ban in memory at once and starts its writes: the list, the history and the journal, in
   * parallel. A threshold or recidive ban counts as an offence (bantime.increment), a manual one
   * only marks its failures as dealt with; the start of a fleet-wide threshold ban is kept for
   * recidive to count. Throws {@link BanRefusedError} at once when the guard refuses the target
   * (its protected spaces: force and limits are the caller's to check).
   *
   * The decider sees the ban from the next failure on, so failures handled while the writes are
   * in flight are decided as if they had been awaited; what is shown (`active`, `activeBans`) and
   * told to the listeners is only what the list holds. Writes to the same key go out in the order
   * of the calls, on one connection, so the list ends with the last. The caller awaits
   * {@link PlacedBan.written} before acknowledging what caused the ban, and after a failure
   * calls {@link PlacedBan.again} until it succeeds (or {@link PlacedBan.forsake}).
   *
   * A ban without an id (a manual one) gets `manual:<ip>:<atMs>:<random>`. A ban whose id the
   * store does not hold yet is a `ban` event; writing the same ban again (widened, or retried)
   * is none. An active ban it replaces (another jail's, a manual one over a threshold one) is
   * lifted (`unban`, no why; `expired` when its time was up but not swept yet).
   */
  place(given: BanDecision): PlacedBan {
    const refusal = this.guard.check(given.ip, { force: true });
    if (refusal) throw new BanRefusedError(refusal.code, refusal.reason);
    const b = given.id ? given : { ...given, id: `manual:${given.ip}:${given.atMs}:${randomBytes(4).toString('hex')}` };
    const prior = this.bans.get(b.ip);
    const events: BanEvent[] = [];
    const id = `ban:${banId(b)}`;
    const fresh = !prior || banId(prior) !== banId(b);
    if (prior && fresh) {
      const lifted: BanEvent = { kind: 'unban', id: `unban:${banId(prior)}`, ban: prior, atMs: b.atMs };
      events.push(isActive(prior, b.atMs) ? lifted : { ...lifted, why: 'expired' });
    }
    if (fresh || this.#unjournaled.has(id)) events.push({ kind: 'ban', id, ban: b, atMs: b.atMs });
    const key = historyKey(b.jail, b.ip);
    const before = this.offences.get(key);
    const offence = offenceAfter(before, b);
    this.bans.set(b.ip, b);
    this.offences.set(key, offence);
    this.#unstored.set(b.ip, (this.#unstored.get(b.ip) ?? 0) + 1);
    let told = !fresh;
    let settled = false;
    /** Once the list and the history hold the ban: shown, and told to the listeners (once). */
    const stored = () => {
      if (!settled) this.#settle(b.ip);
      settled = true;
      if (!told) for (const e of events) this.#listeners.emit(e);
      told = true;
    };
    const write = (journal: readonly BanEvent[]) => {
      const journaled = this.#journalAll(journal);
      const listed = this.#writeCurrent(b.ip, key).then(stored);
      // observed here: a caller that awaits only one of the two leaves no rejection unhandled
      const written = Promise.all([listed, journaled]).then(() => undefined);
      listed.catch(() => undefined);
      written.catch(() => undefined);
      return { listed, written };
    };
    const first = write(events);
    return {
      ...first,
      again: () => write(events.filter((e) => this.#unjournaled.has(e.id))).written,
      forsake: () => {
        if (settled) return;
        settled = true;
        this.#settle(b.ip);
        if (this.bans.get(b.ip) === b) {
          if (prior) this.bans.set(b.ip, prior);
          else this.bans.delete(b.ip);
        }
        if (this.offences.get(key) === offence) {
          if (before) this.offences.set(key, before);
          else this.offences.delete(key);
        }
      },
    };
  }

  /** Writes what memory holds now for `target`'s list entry and the history key `key`. */
  async #writeCurrent(target: string, key: string): Promise<void> {
    const ban = this.bans.get(target);
    const offence = this.offences.get(key);
    await Promise.all([ban && this.list.put(ban), offence && this.history.save(key, offence)]);
  }

  /** One placement of `target` fewer waits for its writes. */
  #settle(target: string): void {
    const n = (this.#unstored.get(target) ?? 1) - 1;
    if (n > 0) this.#unstored.set(target, n);
    else this.#unstored.delete(target);
  }

  /**
   * Writes `events` to the journal (all at once); resolves when every one is held, rejects with
   * the first failure once all have settled. Never rejects unobserved: the caller awaits it last.
   */
  #journalAll(events: readonly BanEvent[]): Promise<void> {
    const journal = this.#journal;
    if (!journal || events.length === 0) return Promise.resolve();
    const done = Promise.allSettled(
      events.map((e) => {
        this.#unjournaled.add(e.id);
        return journal(e).then(() => void this.#unjournaled.delete(e.id));
      }),
    ).then((results) => {
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    });
    // observed here too: the list write may fail first, and then nobody awaits it
    done.catch(() => undefined);
    return done;
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

  /**
   * Lifts a ban on every host at `nowMs`, `why` (default `admin`); false when the target was not
   * banned. An `unban` event once the list no longer holds it (journaled in parallel).
   */
  async unban(target: string, nowMs: number, why: UnbanWhy = 'admin'): Promise<boolean> {
    const ban = this.bans.get(target);
    const event: BanEvent | undefined = ban && { kind: 'unban', id: `unban:${banId(ban)}`, ban, atMs: nowMs, why };
    const journaled = this.#journalAll(event ? [event] : []);
    await this.list.remove(target);
    this.bans.delete(target);
    if (!ban || !event) return false;
    this.#listeners.emit(event);
    const key = historyKey(ban.jail, target);
    const o = this.offences.get(key);
    if (o && (o.clearedAtMs > nowMs || o.endsMs > nowMs)) {
      await this.record(key, { ...o, clearedAtMs: Math.min(o.clearedAtMs, nowMs), endsMs: Math.min(o.endsMs, nowMs) });
    }
    await journaled;
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

  /**
   * Active bans at `nowMs` that the list holds, one at a time (no array of the whole list), in the
   * order the store first held them; a ban whose writes are still in flight is not among them.
   */
  *activeBans(nowMs: number): Generator<BanDecision> {
    for (const b of this.bans.values()) if (isActive(b, nowMs) && !this.#unstored.has(b.ip)) yield b;
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
