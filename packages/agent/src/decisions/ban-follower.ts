import type { BanChange, BanDecision, BanGuard, BanListWatch, Clock, Logger } from '@fleetban/shared';
import { isActive, scopeIncludes } from '@fleetban/shared';
import type { BanEntry, Enforcer } from '../enforce/enforcer.js';

/** What the follower watches: the fleet's `BanList` (or, in tests, any source of the same changes). */
export interface BanSource {
  watch(w: BanListWatch): Promise<{ stop(): void }>;
}

/** Bans this host placed on its own (the fallback stage), kept along with the list. */
export interface LocalBanSource {
  /** Local bans in force at `nowMs`. */
  entries(nowMs: number): BanEntry[];
  /** The local ban of `ip` in force at `nowMs`, if any. */
  banOf(ip: string, nowMs: number): BanEntry | undefined;
  /** Drops the local ban of `ip` (the fleet unbanned the address). */
  forget(ip: string): boolean;
}

const NO_LOCAL_BANS: LocalBanSource = { entries: () => [], banOf: () => undefined, forget: () => false };

/** Who this host is, for the bans of the list it takes. */
export interface FollowerIdentity {
  /** This host's name: a ban scoped to other hosts is not enforced here. */
  readonly host: string;
  /** This host's guard: a ban covering its own or its NATS servers' addresses is refused. */
  readonly guard: BanGuard;
}

/**
 * Follows the fleet's ban list and keeps this host's firewall equal to it: a full reconcile once the
 * current list has been read (start), after every reconnect and every `reconcileMs`; in between,
 * changes are applied in batches (everything that arrived in the same tick goes in one transaction).
 * What it keeps in the firewall is the list plus the host's active local bans (fallback/): a
 * reconcile never undoes a local ban, a fleet ban never shortens one, and an unban from the fleet
 * lifts a local ban of the same address too. A ban of the list is taken only when its scope
 * includes this host and this host's guard allows it; a refused ban is counted, logged once per
 * change and never reaches the firewall (the link stays up).
 */
export class BanFollower {
  readonly #desired = new Map<string, BanDecision>();
  #pendingBans = new Map<string, BanEntry>();
  #pendingUnbans = new Set<string>();
  #initialized = false;
  #stopped = false;
  #flushScheduled = false;
  #chain: Promise<void> = Promise.resolve();
  #watch: { stop(): void } | undefined;
  #timer: NodeJS.Timeout | undefined;
  malformed = 0;
  /** Bans of the list this host's guard refused. */
  refused = 0;

  constructor(
    private readonly enforcer: Enforcer,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly local: LocalBanSource = NO_LOCAL_BANS,
    private readonly identity?: FollowerIdentity,
  ) {}

  /**
   * Starts following `list`; resolves once the first full reconcile is done. Every
   * `reconcileMs` the firewall is compared with the list and repaired (self-healing: a flushed
   * ruleset, a set emptied by hand, jumps removed by a Docker restart).
   */
  async start(list: BanSource, reconcileMs: number): Promise<void> {
    let ready!: () => void;
    const initialized = new Promise<void>((r) => (ready = r));
    const watch = await list.watch({
      onChange: (c, initial) => this.change(c, initial),
      onInitialized: () => {
        this.#initialized = true;
        void this.reconcile('start').then(ready);
      },
      onMalformed: (key, err) => {
        this.malformed++;
        this.logger.warn({ key, err }, 'malformed ban entry ignored');
      },
    });
    if (this.#stopped) {
      watch.stop();
      return;
    }
    this.#watch = watch;
    this.#timer = setInterval(() => void this.reconcile('periodic'), reconcileMs);
    await initialized;
  }

  /**
   * Makes the firewall equal to the list (on start, reconnect and periodically). Does nothing
   * before the list has been read: an empty list must not wipe the bans the kernel kept.
   */
  reconcile(why: string): Promise<void> {
    if (!this.#initialized) return Promise.resolve();
    return this.serial(async () => {
      const now = this.clock();
      const all = new Map<string, BanEntry>();
      for (const b of this.#desired.values()) if (isActive(b, now)) all.set(b.ip, toEntry(b));
      const local = this.local.entries(now);
      for (const l of local) all.set(l.target, longer(all.get(l.target), l));
      try {
        const r = await this.enforcer.reconcile([...all.values()]);
        const level = why === 'periodic' && r.added + r.removed === 0 ? 'debug' : 'info';
        this.logger[level]({ why, bans: all.size, localBans: local.length, added: r.added, removed: r.removed }, 'firewall reconciled');
      } catch (err) {
        this.logger.error({ err, why }, 'reconcile failed');
      }
    });
  }

  /** Bans of the fleet's list this host enforces. */
  get size(): number {
    return this.#desired.size;
  }

  /** True when the fleet's list bans `ip` at `nowMs`. */
  has(ip: string, nowMs: number): boolean {
    const b = this.#desired.get(ip);
    return b !== undefined && isActive(b, nowMs);
  }

  /** A put this host does not enforce becomes, here, the removal of whatever it held for the target. */
  private taken(c: BanChange): BanChange {
    if (c.kind !== 'put' || !this.identity) return c;
    const b = c.ban;
    if (!scopeIncludes(b.scope, this.identity.host)) {
      this.logger.debug({ ip: b.ip, jail: b.jail, scope: b.scope }, 'ban not for this host (scoped to others)');
      return { kind: 'delete', target: b.ip };
    }
    const refusal = this.identity.guard.check(b.ip);
    if (!refusal) return c;
    this.refused++;
    this.logger.warn({ ip: b.ip, jail: b.jail, reason: b.reason, why: refusal.code, refused: this.refused }, `ban refused by this host: ${refusal.reason}`);
    return { kind: 'delete', target: b.ip };
  }

  private change(raw: BanChange, initial: boolean): void {
    const c = this.taken(raw);
    if (c.kind === 'delete' && raw.kind === 'put' && !this.#desired.has(c.target)) return;
    if (c.kind === 'put') {
      this.#desired.set(c.ban.ip, c.ban);
      if (initial || !this.#initialized) return;
      this.#pendingUnbans.delete(c.ban.ip);
      this.#pendingBans.set(c.ban.ip, longer(toEntry(c.ban), this.local.banOf(c.ban.ip, this.clock())));
      this.logger.info({ ip: c.ban.ip, jail: c.ban.jail, expiresMs: c.ban.expiresMs, reason: c.ban.reason }, 'ban received');
    } else {
      this.#desired.delete(c.target);
      if (initial || !this.#initialized) return;
      this.#pendingBans.delete(c.target);
      this.#pendingUnbans.add(c.target);
      this.local.forget(c.target);
      this.logger.info({ ip: c.target }, 'unban received');
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  private flush(): Promise<void> {
    this.#flushScheduled = false;
    const bans = [...this.#pendingBans.values()];
    const unbans = [...this.#pendingUnbans];
    this.#pendingBans = new Map();
    this.#pendingUnbans = new Set();
    return this.serial(async () => {
      try {
        await this.enforcer.apply(bans, unbans);
        this.logger.info({ bans: bans.map((b) => b.target), unbans }, 'enforced');
      } catch (err) {
        this.logger.error({ err }, 'enforcement failed; the next reconcile retries');
      }
    });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(fn);
    return this.#chain;
  }

  /** Stops following. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#watch?.stop();
    await this.#chain;
  }
}

/** Of two bans of the same target, the one that ends last (0 = permanent ends never). */
function longer(a: BanEntry | undefined, b: BanEntry | undefined): BanEntry {
  if (!a) return b as BanEntry;
  if (!b) return a;
  if (a.expiresMs === 0) return a;
  if (b.expiresMs === 0) return b;
  return b.expiresMs > a.expiresMs ? b : a;
}

/** The enforcer's view of a decision: the jail travels along, for its port scope. */
function toEntry(b: BanDecision): BanEntry {
  return { target: b.ip, expiresMs: b.expiresMs, jail: b.jail };
}
