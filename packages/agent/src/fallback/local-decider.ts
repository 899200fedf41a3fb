/**
 * The agent's own decisions while the fleet is unreachable: the shared threshold rule
 * (`judgeFailure`, the one the controller's decider applies) over what this host sees. Every
 * failure the host reports is counted, per jail, with the jail's own maxretry, findtime and
 * ignoreip, and the host's guard (its own addresses, its NATS servers, special space); when an
 * address reaches maxretry while the fleet is unreachable, it is banned here for the jail's
 * bantime (as a first offence: the history is the controller's). The windows are kept whether the
 * fleet is reachable or not: an address that reached maxretry while the fleet seemed reachable
 * stays "awaiting the fleet", and if the fleet turns out unreachable before it banned the
 * address, {@link LocalDecider.catchUp} bans it here — the failures seen in the seconds before
 * the link was declared down are not lost. Pure and synchronous.
 */
import {
  Allowlist,
  allowlistSpace,
  banDuration,
  banExpiry,
  BanGuard,
  type FailureEvent,
  FailureWindow,
  type JailConfig,
  judgeFailure,
  type ProtectedSpace,
  type Refusal,
} from '@fleetban/shared';

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
}

/** What became of one failure on this host. */
export type LocalVerdict =
  /** stale / future: the failure's time is outside [now − findtime, now + clock skew]. */
  | { readonly kind: 'ignored'; readonly why: 'unknown-jail' | 'stale' | 'future' | 'banned' | 'dealt-with' }
  /** The guard refuses a ban of the address (allowlisted, this host's own, special space). */
  | { readonly kind: 'refused'; readonly refusal: Refusal }
  | { readonly kind: 'counted'; readonly failures: number }
  /** maxretry reached while the fleet is reachable: the controller decides (the address awaits it). */
  | { readonly kind: 'fleet-decides'; readonly failures: number }
  | { readonly kind: 'ban'; readonly ban: LocalBan };

/** Options of {@link LocalDecider}. */
export interface LocalDeciderOptions {
  /** Addresses tracked per jail before the least recently failing is dropped; default 10000. */
  readonly maxTracked?: number;
  /** Addresses never banned in any jail (the agent's own config `[controller] ignoreip`); default none. */
  readonly ignoreip?: readonly string[];
  /** The host's guard (its own and its NATS servers' addresses); default special space only. */
  readonly guard?: BanGuard;
  /** How far in the future a failure's time may lie; default 60 s. */
  readonly clockSkewMs?: number;
  /** Random source for bantime.rndtime; default Math.random. */
  readonly random?: () => number;
}

interface LocalJail {
  readonly jail: JailConfig;
  readonly window: FailureWindow;
  readonly spaces: readonly ProtectedSpace[];
}

/** An address that reached maxretry while the fleet was reachable, left to the fleet. */
interface Awaiting {
  readonly jail: LocalJail;
  readonly ip: string;
  /** Its failure times when it last reached maxretry (a copy: later failures do not change it). */
  readonly times: readonly number[];
  /** When it reached maxretry (the host's clock). */
  readonly reachedMs: number;
}

/** Per-jail failure windows of this host and the threshold rule. */
export class LocalDecider {
  readonly #jails = new Map<string, LocalJail>();
  /** By `jail ip`, least recently updated first; at most `maxTracked`. */
  readonly #awaiting = new Map<string, Awaiting>();
  readonly #maxTracked: number;
  #awaitingEvicted = 0;
  readonly #guard: BanGuard;
  readonly #clockSkewMs: number;
  readonly #random: () => number;

  constructor(jails: readonly JailConfig[], opts: LocalDeciderOptions = {}) {
    const maxTracked = opts.maxTracked ?? 10_000;
    this.#maxTracked = maxTracked;
    const global = allowlistSpace('ignoreip', "in this host's [controller] ignoreip", new Allowlist(opts.ignoreip ?? []));
    for (const jail of jails) {
      const window = new FailureWindow({ findtimeMs: jail.findtimeMs, maxmatches: 0, maxTracked }, jail.maxretry);
      const own = allowlistSpace('jail-ignoreip', `in jail ${jail.name}'s ignoreip`, new Allowlist(jail.ignoreip));
      this.#jails.set(jail.name, { jail, window, spaces: [own, global] });
    }
    this.#guard = opts.guard ?? new BanGuard([]);
    this.#clockSkewMs = opts.clockSkewMs ?? 60_000;
    this.#random = opts.random ?? Math.random;
  }

  /** Counts `e` and decides: a local ban only while the fleet is unreachable. */
  decide(e: FailureEvent, ctx: LocalContext): LocalVerdict {
    const j = this.#jails.get(e.jail);
    if (!j) return { kind: 'ignored', why: 'unknown-jail' };
    const v = judgeFailure(j.window, j.jail, e, {
      nowMs: ctx.nowMs,
      clockSkewMs: this.#clockSkewMs,
      refused: this.#guard.check(e.ip, { extra: j.spaces }),
      bannedOn: ctx.isBanned(e.ip) ? [] : null,
      clearedAtMs: 0,
    });
    if (v.kind === 'refused' || v.kind === 'ignored') return v;
    if (v.kind === 'counted') return { kind: 'counted', failures: v.failures };
    const failures = v.tracked.times.length;
    const key = `${j.jail.name} ${e.ip}`;
    this.#awaiting.delete(key);
    if (ctx.unreachable === null) {
      this.#awaiting.set(key, { jail: j, ip: e.ip, times: v.tracked.times, reachedMs: ctx.nowMs });
      if (this.#awaiting.size > this.#maxTracked) {
        this.#awaiting.delete(this.#awaiting.keys().next().value as string);
        this.#awaitingEvicted++;
      }
      return { kind: 'fleet-decides', failures };
    }
    j.window.reset(e.ip);
    return { kind: 'ban', ban: this.#ban(j, e.ip, Math.max(ctx.nowMs, e.timeMs), failures, ctx.unreachable) };
  }

  /**
   * The fleet has just been found unreachable (`why`): every address left to it after `sinceMs`
   * (the controller's last sign of life: what reached maxretry before that, the controller had the
   * chance to decide, and it may have refused) that still has maxretry failures inside findtime
   * and is not banned yet is banned here now.
   */
  catchUp(nowMs: number, why: string, sinceMs: number, isBanned: (ip: string) => boolean): LocalBan[] {
    const bans: LocalBan[] = [];
    for (const [key, a] of this.#awaiting) {
      this.#awaiting.delete(key); // banned now, banned by the fleet, decided by it, or aged out
      const failures = a.times.filter((t) => t > nowMs - a.jail.jail.findtimeMs).length;
      if (a.reachedMs <= sinceMs || failures < a.jail.jail.maxretry || isBanned(a.ip)) continue;
      bans.push(this.#ban(a.jail, a.ip, nowMs, failures, why));
      a.jail.window.reset(a.ip);
    }
    return bans;
  }

  #ban(j: LocalJail, ip: string, atMs: number, failures: number, why: string): LocalBan {
    const expiresMs = banExpiry(atMs, banDuration(j.jail, 0, this.#random));
    return { ip, jail: j.jail.name, atMs, expiresMs, failures, why };
  }

  /** Drops addresses whose newest failure is older than findtime. */
  prune(nowMs: number): void {
    for (const j of this.#jails.values()) j.window.prune(nowMs);
    for (const [key, a] of this.#awaiting) if ((a.times.at(-1) ?? 0) <= nowMs - a.jail.jail.findtimeMs) this.#awaiting.delete(key);
  }

  /** Addresses currently tracked, over every jail (at most `maxTracked` per jail). */
  get tracked(): number {
    let n = 0;
    for (const j of this.#jails.values()) n += j.window.size;
    return n;
  }

  /**
   * Addresses dropped since start because a jail's window was full (the least recently failing
   * go first), and addresses awaiting the fleet dropped for the same reason: a spray from more
   * addresses than the windows hold costs counts, not memory.
   */
  get evicted(): number {
    let n = this.#awaitingEvicted;
    for (const j of this.#jails.values()) n += j.window.dropped;
    return n;
  }

  /** Addresses tracked at most per jail. */
  get maxTracked(): number {
    return this.#maxTracked;
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

  /** The ban of `ip` in force at `nowMs`, as the enforcer takes it. */
  get(ip: string, nowMs: number): { target: string; expiresMs: number; jail: string } | undefined {
    const b = this.#byIp.get(ip);
    return b !== undefined && (b.expiresMs === 0 || b.expiresMs > nowMs) ? { target: b.ip, expiresMs: b.expiresMs, jail: b.jail } : undefined;
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
