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
import { FleetLink } from './fleet-link.js';
import { type LocalBan, LocalDecider } from './local-decider.js';

/** Where local bans go: the host's firewall writer, which also knows every ban in force. */
export interface LocalBanSink {
  localBan(b: LocalBan): void;
  /** True when `ip` is banned at `nowMs` (by the fleet's list or locally). */
  banned(ip: string, nowMs: number): boolean;
  localCount(nowMs: number): number;
}

/** What the fallback stage is given. */
export interface FallbackDeps {
  /** The enabled jails of this host (their thresholds are applied locally). */
  readonly jails: readonly JailConfig[];
  readonly sink: LocalBanSink;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The host's guard (its own and its NATS servers' addresses, special space): never banned. */
  readonly guard: BanGuard;
  /** How far in the future a failure's time may lie; default 60 s. */
  readonly clockSkewMs?: number;
  /** Addresses never banned in any jail (this file's `[controller] ignoreip`); default none. */
  readonly ignoreip?: readonly string[];
  /** How often the link is checked, in ms; default 250. */
  readonly tickMs?: number;
}

/**
 * The agent's fallback: it sees every failure the host reports and, while the fleet is
 * unreachable (NATS not connected — also before the first connection — or no controller liveness
 * for two intervals), bans an address that reaches a jail's maxretry on this host, for the jail's
 * bantime, through the firewall writer (which keeps and saves local bans). The windows are kept
 * all the time, so the moment the fleet is found unreachable the addresses that reached maxretry
 * meanwhile are banned at once ({@link LocalDecider.catchUp}). Independent of the ban list: it
 * works while the agent has not reached NATS or still waits for the list.
 */
export class LocalFallback {
  readonly #d: FallbackDeps;
  readonly #link: FleetLink;
  readonly #decider: LocalDecider;
  readonly #log: Logger;
  #sub: Subscription | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastPrune: number;
  /** The state last logged: null = reachable; undefined = nothing logged yet. */
  #logged: string | null | undefined = undefined;
  #malformed = 0;
  /** Evictions from the local windows as of the last warning, and when it was logged. */
  #evictedLogged = 0;
  #evictedAt = 0;

  constructor(deps: FallbackDeps) {
    this.#d = deps;
    this.#log = deps.logger;
    const now = deps.clock();
    this.#link = new FleetLink(now, { connected: false });
    this.#decider = new LocalDecider(deps.jails, { ignoreip: deps.ignoreip ?? [], guard: deps.guard, clockSkewMs: deps.clockSkewMs });
    this.#lastPrune = now;
  }

  /** Starts checking the link periodically (until {@link attach}, NATS counts as not connected). */
  start(): void {
    this.#timer = setInterval(() => this.#check(), this.#d.tickMs ?? 250);
    this.#check();
  }

  /** NATS is connected: listens to the controller's liveness and to `nc`'s connection changes. */
  attach(nc: NatsConnection): void {
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
    this.#link.connection(true);
    this.#check();
  }

  /** Counts one failure this host reports; bans locally when the fleet cannot. */
  observe(e: FailureEvent): void {
    const nowMs = this.#d.clock();
    const state = this.#link.state(nowMs);
    const v = this.#decider.decide(e, {
      nowMs,
      unreachable: state.reachable ? null : state.why,
      isBanned: (ip) => this.#d.sink.banned(ip, nowMs),
    });
    if (v.kind === 'refused' && v.refusal.code !== 'jail-ignoreip' && v.refusal.code !== 'ignoreip' && v.refusal.code !== 'special-address') {
      this.#log.warn({ jail: e.jail, ip: e.ip, why: v.refusal.code }, `failure not counted locally: ${v.refusal.reason}`);
    } else if (v.kind === 'ban') {
      this.#d.sink.localBan(v.ban);
    }
  }

  /** Whether the host decides locally now, and how many local bans it holds. */
  status(): { fallback: boolean; localBans: number } {
    const nowMs = this.#d.clock();
    return { fallback: !this.#link.state(nowMs).reachable, localBans: this.#d.sink.localCount(nowMs) };
  }

  /** The local windows: addresses tracked now, and dropped since start because a window was full. */
  window(): { tracked: number; evicted: number } {
    return { tracked: this.#decider.tracked, evicted: this.#decider.evicted };
  }

  /** Stops listening and checking (local bans stay in the kernel until their timeouts). */
  stop(): void {
    clearInterval(this.#timer);
    this.#sub?.unsubscribe();
  }

  /** Logs link changes (and bans what awaited the fleet when it goes), prunes the windows now and then. */
  #check(): void {
    const nowMs = this.#d.clock();
    const state = this.#link.state(nowMs);
    const now = state.reachable ? null : state.why;
    if (now !== this.#logged) {
      if (now === null) this.#log.info({ localBans: this.#d.sink.localCount(nowMs) }, 'fleet reachable: the controller decides again');
      else {
        this.#log.warn({ why: now, afterMs: now === 'no controller liveness' ? this.#link.timeoutMs : 0 }, 'fleet unreachable: deciding locally with the jail thresholds');
        for (const b of this.#decider.catchUp(nowMs, now, this.#link.lastAliveMs, (ip) => this.#d.sink.banned(ip, nowMs))) this.#d.sink.localBan(b);
      }
      this.#logged = now;
    }
    const evicted = this.#decider.evicted;
    if (evicted > this.#evictedLogged && nowMs - this.#evictedAt >= 10_000) {
      this.#log.warn(
        { evicted, since: evicted - this.#evictedLogged, maxTracked: this.#decider.maxTracked },
        'local window full: the least recently failing addresses were dropped (a spray from many addresses; the count is since start)',
      );
      this.#evictedLogged = evicted;
      this.#evictedAt = nowMs;
    }
    if (nowMs - this.#lastPrune >= 60_000) {
      this.#decider.prune(nowMs);
      this.#lastPrune = nowMs;
    }
  }
}
