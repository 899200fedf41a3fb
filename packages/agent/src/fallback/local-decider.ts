/**
 * The agent's own decisions while the fleet is unreachable: the controller's rules
 * (decide/ban-decider.ts in the controller) reduced to what one host sees. Every failure the
 * host reports is counted, per jail, with the jail's own maxretry, findtime and ignoreip; when
 * an address reaches maxretry while the fleet is unreachable, it is banned here for the jail's
 * bantime (as a first offence: the history is the controller's). Pure and synchronous.
 */
import { Allowlist, banDuration, banExpiry, type FailureEvent, FailureWindow, type JailConfig } from '@fleetban/shared';

/** A ban this host placed on its own. */
export interface LocalBan {
  readonly ip: string;
  readonly jail: string;
  readonly atMs: number;
  /** Expiry, ms since the epoch; 0 = permanent (a jail with `bantime = -1`). */
  readonly expiresMs: number;
  /** Failures inside findtime when it was decided. */
  readonly failures: number;
  /** Why the fleet could not decide (`nats disconnected`, `no controller liveness`). */
  readonly why: string;
}

/** What the decider is told about the moment of a failure. */
export interface LocalContext {
  readonly nowMs: number;
  /** null while the fleet (NATS and the controller) is reachable; otherwise why not. */
  readonly unreachable: string | null;
  /** True when the address is banned already (by the fleet's list or locally). */
  isBanned(ip: string): boolean;
  /** True for this host's own addresses: never banned. */
  isOwn(ip: string): boolean;
}

/** What became of one failure on this host. */
export type LocalVerdict =
  | { readonly kind: 'ignored'; readonly why: 'unknown-jail' | 'allowlisted' | 'stale' | 'banned' | 'own-address' }
  | { readonly kind: 'counted'; readonly failures: number }
  /** maxretry reached while the fleet is reachable: the controller decides (the window starts over). */
  | { readonly kind: 'fleet-decides'; readonly failures: number }
  | { readonly kind: 'ban'; readonly ban: LocalBan };

/** Options of {@link LocalDecider}. */
export interface LocalDeciderOptions {
  /** Addresses tracked per jail before the least recently failing is dropped; default 10000. */
  readonly maxTracked?: number;
  /** Addresses never banned in any jail (the agent's own config `[controller] ignoreip`); default none. */
  readonly ignoreip?: readonly string[];
  /** Random source for bantime.rndtime; default Math.random. */
  readonly random?: () => number;
}

interface LocalJail {
  readonly jail: JailConfig;
  readonly window: FailureWindow;
  readonly allow: Allowlist;
}

/** Per-jail failure windows of this host and the threshold rule. */
export class LocalDecider {
  readonly #jails = new Map<string, LocalJail>();
  readonly #globalAllow: Allowlist;
  readonly #random: () => number;

  constructor(jails: readonly JailConfig[], opts: LocalDeciderOptions = {}) {
    const maxTracked = opts.maxTracked ?? 10_000;
    for (const jail of jails) {
      const window = new FailureWindow({ findtimeMs: jail.findtimeMs, maxmatches: 0, maxTracked }, jail.maxretry);
      this.#jails.set(jail.name, { jail, window, allow: new Allowlist(jail.ignoreip) });
    }
    this.#globalAllow = new Allowlist(opts.ignoreip ?? []);
    this.#random = opts.random ?? Math.random;
  }

  /** Counts `e` and decides: a local ban only while the fleet is unreachable. */
  decide(e: FailureEvent, ctx: LocalContext): LocalVerdict {
    const j = this.#jails.get(e.jail);
    if (!j) return { kind: 'ignored', why: 'unknown-jail' };
    if (j.allow.has(e.ip) || this.#globalAllow.has(e.ip)) return { kind: 'ignored', why: 'allowlisted' };
    if (e.timeMs <= ctx.nowMs - j.jail.findtimeMs) return { kind: 'ignored', why: 'stale' };
    if (ctx.isBanned(e.ip)) return { kind: 'ignored', why: 'banned' };
    const t = j.window.add(e.ip, e.timeMs, e.host, '');
    const failures = t.times.length;
    if (failures < j.jail.maxretry) return { kind: 'counted', failures };
    j.window.reset(e.ip);
    if (ctx.unreachable === null) return { kind: 'fleet-decides', failures };
    if (ctx.isOwn(e.ip)) return { kind: 'ignored', why: 'own-address' };
    const atMs = Math.max(ctx.nowMs, e.timeMs);
    const expiresMs = banExpiry(atMs, banDuration(j.jail, 0, this.#random));
    return { kind: 'ban', ban: { ip: e.ip, jail: e.jail, atMs, expiresMs, failures, why: ctx.unreachable } };
  }

  /** Drops addresses whose newest failure is older than findtime. */
  prune(nowMs: number): void {
    for (const j of this.#jails.values()) j.window.prune(nowMs);
  }

  /** Addresses currently tracked, over every jail. */
  get tracked(): number {
    let n = 0;
    for (const j of this.#jails.values()) n += j.window.size;
    return n;
  }
}

/** The local bans in force, by address; each leaves at its expiry (the kernel drops it on its own). */
export class LocalBans {
  readonly #byIp = new Map<string, LocalBan>();

  /** Records a ban (replacing one for the same address). */
  add(b: LocalBan): void {
    this.#byIp.set(b.ip, b);
  }

  /** True when `ip` has a local ban in force at `nowMs`. */
  has(ip: string, nowMs: number): boolean {
    const b = this.#byIp.get(ip);
    return b !== undefined && (b.expiresMs === 0 || b.expiresMs > nowMs);
  }

  /** Forgets a ban (an unban from the fleet); true when there was one. */
  forget(ip: string): boolean {
    return this.#byIp.delete(ip);
  }

  /** Removes and returns the bans whose time is up at `nowMs`. */
  expire(nowMs: number): LocalBan[] {
    const out: LocalBan[] = [];
    for (const b of this.#byIp.values()) if (b.expiresMs !== 0 && b.expiresMs <= nowMs) out.push(b);
    for (const b of out) this.#byIp.delete(b.ip);
    return out;
  }

  /** Bans in force at `nowMs`. */
  active(nowMs: number): LocalBan[] {
    return [...this.#byIp.values()].filter((b) => b.expiresMs === 0 || b.expiresMs > nowMs);
  }

  /** Bans held (expired ones leave at the next {@link expire}). */
  get size(): number {
    return this.#byIp.size;
  }
}
