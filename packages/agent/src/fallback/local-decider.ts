/**
 * The agent's own decisions while the fleet is unreachable: the shared threshold rule
 * (`judgeFailure`, the one the controller's decider applies) over what this host sees. Every
 * failure the host reports is counted, per jail, with the jail's own maxretry, findtime and
 * ignoreip, and the host's guard (its own addresses, its NATS servers, special space); when an
 * address reaches maxretry while the fleet is unreachable, it is banned here for the jail's
 * bantime (as a first offence: the history is the controller's). Pure and synchronous.
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
  /** maxretry reached while the fleet is reachable: the controller decides (the window starts over). */
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

/** Per-jail failure windows of this host and the threshold rule. */
export class LocalDecider {
  readonly #jails = new Map<string, LocalJail>();
  readonly #guard: BanGuard;
  readonly #clockSkewMs: number;
  readonly #random: () => number;

  constructor(jails: readonly JailConfig[], opts: LocalDeciderOptions = {}) {
    const maxTracked = opts.maxTracked ?? 10_000;
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
    j.window.reset(e.ip);
    if (ctx.unreachable === null) return { kind: 'fleet-decides', failures };
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
