import {
  type BanGuard,
  type Clock,
  controllerAliveSubject,
  decodeControllerAlive,
  type FailureEvent,
  type JailConfig,
  type Logger,
  type NatsConnection,
  onConnectionChange,
  type Subscription,
} from '@fleetban/shared';
import type { BanEntry, Enforcer } from '../enforce/enforcer.js';
import { FleetLink } from './fleet-link.js';
import { type LocalBan, LocalBans, LocalDecider } from './local-decider.js';

/** What the fallback stage is given. */
export interface FallbackDeps {
  /** The enabled jails of this host (their thresholds are applied locally). */
  readonly jails: readonly JailConfig[];
  readonly enforcer: Enforcer;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The host's guard (its own and its NATS servers' addresses, special space): never banned. */
  readonly guard: BanGuard;
  /** How far in the future a failure's time may lie; default 60 s. */
  readonly clockSkewMs?: number;
  /** True when the fleet's ban list bans `ip` now (the follower); default never. */
  readonly fleetBanned?: (ip: string, nowMs: number) => boolean;
  /** Addresses never banned in any jail (this file's `[controller] ignoreip`); default none. */
  readonly ignoreip?: readonly string[];
  /** How often the link is checked and local bans expired, in ms; default 500. */
  readonly tickMs?: number;
}

/**
 * The agent's fallback: it sees every failure the host reports and, while the fleet is
 * unreachable (NATS disconnected, or no controller liveness for three intervals), bans an address
 * that reaches a jail's maxretry on this host directly through the enforcer, for the jail's
 * bantime. Local bans are kept in a set the ban-list follower adds to what it reconciles, and
 * leave it at their expiry (the kernel drops the element by its own timeout). Independent of the
 * follower: it works while the agent still waits for the ban list.
 */
export class LocalFallback {
  readonly #d: FallbackDeps;
  readonly #link: FleetLink;
  readonly #decider: LocalDecider;
  readonly #bans = new LocalBans();
  readonly #log: Logger;
  #sub: Subscription | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastPrune: number;
  /** The state last logged: null = reachable. */
  #logged: string | null = null;
  #malformed = 0;

  constructor(deps: FallbackDeps) {
    this.#d = deps;
    this.#log = deps.logger;
    const now = deps.clock();
    this.#link = new FleetLink(now);
    this.#decider = new LocalDecider(deps.jails, { ignoreip: deps.ignoreip ?? [], guard: deps.guard, clockSkewMs: deps.clockSkewMs });
    this.#lastPrune = now;
  }

  /** Listens to the controller's liveness and to `nc`'s connection changes; checks the link periodically. */
  start(nc: NatsConnection): void {
    this.#sub = nc.subscribe(controllerAliveSubject(), {
      callback: (err, m) => {
        if (err) {
          this.#log.error({ err: err.message }, 'cannot hear the controller liveness; deciding locally');
          return;
        }
        try {
          const a = decodeControllerAlive(m.data);
          this.#link.alive(a.intervalMs, this.#d.clock());
          this.#check();
        } catch (err) {
          if (this.#malformed++ === 0) this.#log.warn({ err }, 'malformed controller liveness message ignored');
        }
      },
    });
    onConnectionChange(nc, (connected) => {
      this.#link.connection(connected);
      this.#check();
    });
    this.#timer = setInterval(() => this.#check(), this.#d.tickMs ?? 500);
  }

  /** Counts one failure this host reports; bans locally when the fleet cannot. */
  observe(e: FailureEvent): void {
    const nowMs = this.#d.clock();
    const state = this.#link.state(nowMs);
    const v = this.#decider.decide(e, {
      nowMs,
      unreachable: state.reachable ? null : state.why,
      isBanned: (ip) => this.#bans.has(ip, nowMs) || (this.#d.fleetBanned?.(ip, nowMs) ?? false),
    });
    if (v.kind === 'refused' && v.refusal.code !== 'jail-ignoreip' && v.refusal.code !== 'ignoreip' && v.refusal.code !== 'special-address') {
      this.#log.warn({ jail: e.jail, ip: e.ip, why: v.refusal.code }, `failure not counted locally: ${v.refusal.reason}`);
    } else if (v.kind === 'ban') {
      this.#ban(v.ban);
    }
  }

  /** Local bans in force, as the enforcer takes them (the follower reconciles them along with the list). */
  entries(nowMs: number): BanEntry[] {
    return this.#bans.active(nowMs).map((b) => ({ target: b.ip, expiresMs: b.expiresMs, jail: b.jail }));
  }

  /** The local ban of `ip` in force at `nowMs`, if any. */
  banOf(ip: string, nowMs: number): BanEntry | undefined {
    return this.entries(nowMs).find((b) => b.target === ip);
  }

  /** Drops the local ban of `ip` (the fleet unbanned it); true when there was one. */
  forget(ip: string): boolean {
    const had = this.#bans.forget(ip);
    if (had) this.#log.info({ ip }, 'local ban lifted by an unban from the fleet');
    return had;
  }

  /** Whether the host decides locally now, and how many local bans it holds. */
  status(): { fallback: boolean; localBans: number } {
    const nowMs = this.#d.clock();
    return { fallback: !this.#link.state(nowMs).reachable, localBans: this.#bans.active(nowMs).length };
  }

  /** Stops listening and checking (local bans stay in the kernel until their timeouts). */
  stop(): void {
    clearInterval(this.#timer);
    this.#sub?.unsubscribe();
  }

  /** Records a local ban and enforces it; `local ban` is logged once the firewall holds it. */
  #ban(b: LocalBan): void {
    this.#bans.add(b);
    this.#d.enforcer.apply([{ target: b.ip, expiresMs: b.expiresMs, jail: b.jail }], []).then(
      () => this.#log.warn({ jail: b.jail, ip: b.ip, why: b.why, failures: b.failures, expiresMs: b.expiresMs }, 'local ban'),
      (err: unknown) => this.#log.error({ err, ip: b.ip }, 'local ban not enforced; the next reconcile retries'),
    );
  }

  /** Logs link changes, expires local bans, prunes the windows now and then. */
  #check(): void {
    const nowMs = this.#d.clock();
    const state = this.#link.state(nowMs);
    const now = state.reachable ? null : state.why;
    if (now !== this.#logged) {
      if (now === null) this.#log.info({ localBans: this.#bans.size }, 'fleet reachable: the controller decides again');
      else this.#log.warn({ why: now, afterMs: now === 'no controller liveness' ? this.#link.timeoutMs : 0 }, 'fleet unreachable: deciding locally with the jail thresholds');
      this.#logged = now;
    }
    for (const b of this.#bans.expire(nowMs)) this.#log.info({ jail: b.jail, ip: b.ip }, 'local ban expired');
    if (nowMs - this.#lastPrune >= 60_000) {
      this.#decider.prune(nowMs);
      this.#lastPrune = nowMs;
    }
  }
}
