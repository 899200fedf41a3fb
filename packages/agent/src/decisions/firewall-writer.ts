import { join } from 'node:path';
import type { BanDecision, Clock, Logger } from '@fleetban/shared';
import type { BanEntry, Enforcer } from '../enforce/enforcer.js';
import { type LocalBan, LocalBans } from '../fallback/local-decider.js';
import { readStateFile, writeStateFile } from '../state/state-file.js';
import { HostBanEvents, type HostBanListener } from './host-ban-events.js';

/** Options of {@link FirewallWriter}. */
export interface WriterOptions {
  /** `[fleetban] state_dir`: the ban list and the local bans are saved there. */
  readonly stateDir: string;
  /** How often the firewall is compared with the bans and repaired, in ms (`[agent] reconcile`). */
  readonly reconcileMs: number;
  /** How often a changed fleet ban list is saved, in ms; default 5000 (local bans are saved at once). */
  readonly saveMs?: number;
  /** How often local bans are expired, in ms; default 500. */
  readonly tickMs?: number;
  /** False for a target this host must never ban (its guard); saved bans are checked again on restore. Default: every target. */
  readonly admit?: (target: string) => boolean;
  /** Told, for each fleet ban applied, the seconds from its arrival (a change of the list) to the firewall holding it (metrics). */
  readonly enforced?: (seconds: number) => void;
  /** Told of each ban the firewall took and let go, once it holds the change (host-site actions); default nobody. */
  readonly banEvents?: HostBanListener;
  /** This host's name (the scope of its local bans, as host actions see them); default ''. */
  readonly host?: string;
}

/** File names under state_dir. */
const FLEET_FILE = 'fleet-bans.json';
const LOCAL_FILE = 'local-bans.json';

/**
 * The one writer of this host's firewall. It owns what the firewall must hold — the fleet's bans
 * (as the ban-list follower hands them over) and this host's own local bans (as the fallback
 * decides them) — and is the only caller of the enforcer: changes that arrive in the same tick go
 * in one transaction, a full reconcile runs once the fleet's list has been read, after every
 * reconnect and every `reconcileMs`, and calls never overlap.
 *
 * Of two bans of one address (fleet and local), the one that ends last is enforced; an unban
 * from the fleet lifts a local ban too. Both kinds are saved in `state_dir`, so a restart — also
 * one with the fleet unreachable — puts them back into the firewall before anything else.
 */
export class FirewallWriter {
  readonly #fleet = new Map<string, BanEntry>();
  readonly #local = new LocalBans();
  readonly #files: { readonly fleet: string; readonly local: string };
  #pendingBans = new Map<string, BanEntry>();
  #pendingUnbans = new Set<string>();
  #pendingLocal: LocalBan[] = [];
  /** When each pending fleet ban arrived. */
  #pendingSince = new Map<string, number>();
  #listRead = false;
  #fleetDirty = false;
  #flushScheduled = false;
  #stopped = false;
  #chain: Promise<void> = Promise.resolve();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #events: HostBanEvents;

  constructor(
    private readonly enforcer: Enforcer,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly opts: WriterOptions,
  ) {
    this.#files = { fleet: join(opts.stateDir, FLEET_FILE), local: join(opts.stateDir, LOCAL_FILE) };
    this.#events = new HostBanEvents(opts.banEvents);
  }

  /**
   * Puts the bans saved by the last run back: the fleet's list as it was last seen and the local
   * bans, those still in force, added to the firewall (nothing is removed: the fleet's current list
   * decides that once it is read). Then starts the periodic work.
   */
  async restore(): Promise<{ fleet: number; local: number }> {
    const now = this.clock();
    const admit = this.opts.admit ?? (() => true);
    for (const e of savedEntries(readStateFile(this.#files.fleet, 'fleet ban list', this.logger), now)) if (admit(e.target)) this.#fleet.set(e.target, e);
    for (const b of savedLocalBans(readStateFile(this.#files.local, 'local bans', this.logger), now)) if (admit(b.ip)) this.#local.add(b);
    const restored = { fleet: this.#fleet.size, local: this.#local.size };
    if (restored.fleet + restored.local > 0) {
      await this.#serial(async () => {
        try {
          await this.enforcer.apply(this.#all(this.clock()), []);
          this.logger.info(restored, 'saved bans restored to the firewall');
        } catch (err) {
          this.logger.error({ err }, 'saved bans not restored; the first reconcile retries');
        }
      });
    }
    this.#timers.push(
      setInterval(() => this.#expireLocal(), this.opts.tickMs ?? 500),
      setInterval(() => this.#saveFleet(), this.opts.saveMs ?? 5_000),
      setInterval(() => void this.reconcile('periodic'), this.opts.reconcileMs),
    );
    return restored;
  }

  /**
   * The fleet bans `entry.target` (a change of the list; `initial` while the current list is
   * read); `ban` is the decision, for the host actions.
   */
  fleetPut(entry: BanEntry, initial: boolean, ban?: BanDecision): void {
    this.#fleet.set(entry.target, entry);
    this.#fleetDirty = true;
    if (ban) this.#events.fleetPut(ban, !initial && this.#listRead, this.clock());
    if (initial || !this.#listRead) return;
    this.#pendingUnbans.delete(entry.target);
    this.#pendingBans.set(entry.target, longer(entry, this.#local.get(entry.target, this.clock())));
    if (!this.#pendingSince.has(entry.target)) this.#pendingSince.set(entry.target, this.clock());
    this.#schedule();
  }

  /**
   * The fleet no longer bans `target` here: an unban (`lift`: a live one also lifts this host's
   * local ban of it), or a ban this host does not take (scoped to others, refused by its guard),
   * which leaves a local ban alone.
   */
  fleetDelete(target: string, initial: boolean, lift = true): void {
    const had = this.#fleet.delete(target);
    this.#fleetDirty ||= had;
    this.#events.fleetDelete(target, !initial && this.#listRead, this.clock());
    if (initial || !this.#listRead || (!had && !lift)) return;
    if (lift && this.#local.forget(target)) {
      this.logger.info({ ip: target }, 'local ban lifted by an unban from the fleet');
      this.#saveLocal();
    }
    this.#pendingBans.delete(target);
    this.#pendingSince.delete(target);
    if (!this.#local.has(target, this.clock())) this.#pendingUnbans.add(target);
    this.#schedule();
  }

  /**
   * The fleet's whole current list has been handed over: the saved copy is replaced and the
   * firewall reconciled to it (plus the local bans). Resolves once that reconcile is done.
   */
  fleetListRead(): Promise<void> {
    this.#listRead = true;
    this.#fleetDirty = true;
    this.#saveFleet();
    return this.reconcile('start');
  }

  /** This host bans `b.ip` on its own (the fleet is unreachable); saved at once, enforced in the next batch. */
  localBan(b: LocalBan): void {
    this.#local.add(b);
    this.#saveLocal();
    const entry: BanEntry = { target: b.ip, expiresMs: b.expiresMs, jail: b.jail };
    this.#pendingUnbans.delete(b.ip);
    this.#pendingBans.set(b.ip, longer(this.#pendingBans.get(b.ip) ?? this.#fleetActive(b.ip, this.clock()), entry));
    this.#pendingLocal.push(b);
    this.#events.localBan(b, this.opts.host ?? '');
    this.#schedule();
  }

  /** True when `ip` is banned at `nowMs`, by the fleet's list or locally. */
  banned(ip: string, nowMs: number): boolean {
    return this.#fleetActive(ip, nowMs) !== undefined || this.#local.has(ip, nowMs);
  }

  /** Bans of the fleet's list this host enforces (as last seen, or restored). */
  get fleetSize(): number {
    return this.#fleet.size;
  }

  /** Local bans in force. */
  localCount(nowMs: number): number {
    return this.#local.active(nowMs).length;
  }

  /**
   * Makes the firewall equal to the fleet's list plus the local bans (start, reconnect, periodic).
   * Does nothing before the fleet's list has been read in this run: a stale or empty list must not
   * remove the bans the kernel kept.
   */
  reconcile(why: string): Promise<void> {
    if (!this.#listRead || this.#stopped) return Promise.resolve();
    return this.#serial(async () => {
      const all = this.#all(this.clock());
      const events = this.#events.take();
      try {
        // a periodic reconcile may trust a cheap look at the kernel; the others read it all back
        const r = await this.enforcer.reconcile(all, { full: why !== 'periodic' });
        this.#events.applied(events);
        const level = why === 'periodic' && r.added + r.removed === 0 ? 'debug' : 'info';
        this.logger[level]({ why, bans: all.length, localBans: this.#local.size, added: r.added, removed: r.removed }, 'firewall reconciled');
      } catch (err) {
        this.#events.failed(events);
        this.logger.error({ err, why }, 'reconcile failed');
      }
    });
  }

  /** Stops the periodic work, waits for the write in progress, saves both lists. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    await this.#chain;
    this.#saveFleet();
  }

  /** Every ban in force at `nowMs`: the fleet's, merged with the local ones (the longer wins). */
  #all(nowMs: number): BanEntry[] {
    const all = new Map<string, BanEntry>();
    for (const e of this.#fleet.values()) if (live(e, nowMs)) all.set(e.target, e);
    for (const b of this.#local.active(nowMs)) all.set(b.ip, longer(all.get(b.ip), { target: b.ip, expiresMs: b.expiresMs, jail: b.jail }));
    return [...all.values()];
  }

  #fleetActive(ip: string, nowMs: number): BanEntry | undefined {
    const e = this.#fleet.get(ip);
    return e && live(e, nowMs) ? e : undefined;
  }

  #schedule(): void {
    if (this.#flushScheduled || this.#stopped) return;
    this.#flushScheduled = true;
    setImmediate(() => void this.#flush());
  }

  #flush(): Promise<void> {
    this.#flushScheduled = false;
    const bans = [...this.#pendingBans.values()];
    const unbans = [...this.#pendingUnbans];
    const local = this.#pendingLocal;
    const since = this.#pendingSince;
    this.#pendingSince = new Map();
    this.#pendingBans = new Map();
    this.#pendingUnbans = new Set();
    this.#pendingLocal = [];
    const events = this.#events.take();
    return this.#serial(async () => {
      try {
        await this.enforcer.apply(bans, unbans);
        this.#events.applied(events);
        const applied = this.clock();
        for (const t of since.values()) this.opts.enforced?.((applied - t) / 1000);
        this.logger.info({ bans: bans.map((b) => b.target), unbans }, 'enforced');
        for (const b of local) this.logger.warn({ jail: b.jail, ip: b.ip, why: b.why, failures: b.failures, expiresMs: b.expiresMs }, 'local ban');
      } catch (err) {
        this.#events.failed(events);
        this.logger.error({ err }, 'enforcement failed; the next reconcile retries');
      }
    });
  }

  #serial(fn: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(fn);
    return this.#chain;
  }

  #expireLocal(): void {
    const expired = this.#local.expire(this.clock());
    this.#events.localExpired(expired, this.opts.host ?? '', this.clock());
    for (const b of expired) this.logger.info({ jail: b.jail, ip: b.ip }, 'local ban expired');
    if (expired.length > 0) this.#saveLocal();
  }

  #saveLocal(): void {
    writeStateFile(this.#files.local, this.#local.active(this.clock()), 'local bans', this.logger);
  }

  #saveFleet(): void {
    if (!this.#fleetDirty) return;
    const now = this.clock();
    const entries = [...this.#fleet.values()].filter((e) => live(e, now));
    if (writeStateFile(this.#files.fleet, entries, 'fleet ban list', this.logger)) this.#fleetDirty = false;
  }
}

/** In force at `nowMs` (0 = permanent). */
function live(e: { readonly expiresMs: number }, nowMs: number): boolean {
  return e.expiresMs === 0 || e.expiresMs > nowMs;
}

/** Of two bans of the same target, the one that ends last (0 = permanent ends never). */
export function longer(a: BanEntry | undefined, b: BanEntry | undefined): BanEntry {
  if (!a) return b as BanEntry;
  if (!b) return a;
  if (a.expiresMs === 0) return a;
  if (b.expiresMs === 0) return b;
  return b.expiresMs > a.expiresMs ? b : a;
}

/** The entries of a saved fleet list still in force; anything malformed is skipped. */
function savedEntries(saved: unknown, nowMs: number): BanEntry[] {
  if (!Array.isArray(saved)) return [];
  return saved.filter((e): e is BanEntry =>
    typeof e === 'object' && e !== null && typeof e.target === 'string' && typeof e.expiresMs === 'number'
    && (e.jail === undefined || typeof e.jail === 'string') && live(e, nowMs));
}

/** The saved local bans still in force; anything malformed is skipped. */
function savedLocalBans(saved: unknown, nowMs: number): LocalBan[] {
  if (!Array.isArray(saved)) return [];
  return saved.filter((b): b is LocalBan =>
    typeof b === 'object' && b !== null && typeof b.ip === 'string' && typeof b.jail === 'string' && typeof b.expiresMs === 'number'
    && typeof b.atMs === 'number' && typeof b.failures === 'number' && typeof b.why === 'string' && live(b, nowMs));
}
