import { type BanDecision, BanRefusedError, type Clock, type FailureEvent, FleetbanError, type Logger } from '@fleetban/shared';
import type { CounterSet } from '../metrics/counter-set.js';
import type { RecidivePolicy } from '../recidive/recidive-policy.js';
import type { BanStore, PlacedBan } from '../store/ban-store.js';
import type { BanDecider } from './ban-decider.js';

/** Told the time from a failure's receipt to the ban it caused being stored, in seconds (metrics). */
export type BanStoredTimer = (seconds: number, d: BanDecision) => void;

/** Options of {@link FailureHandler}. */
export interface FailureHandlerOptions {
  /** Delays between attempts to store a ban; default 250 ms doubling up to 5 s. */
  readonly retry?: { readonly firstMs: number; readonly maxMs: number };
  /** Told how long each ban took from its failure's receipt until stored. */
  readonly stored?: BanStoredTimer;
}

/** Refusals worth a warning: a failure naming one of the fleet's own addresses (a forged log?). */
const WARN_REFUSALS = new Set(['fleet-host', 'nats-server', 'controller']);

/**
 * What one failure causes: the decider's verdict, counted by kind (`events.counted`,
 * `events.rejected.stale`, `events.rejected.future`, `events.refused.<code>`, `events.banned`,
 * ..., each also by jail and reporting host), and a ban placed in the store; then the recidive
 * bans that ban leads to (`bans.recidive`). Deciding is synchronous and in arrival order: the store
 * holds a ban in memory as soon as it is placed, so the next failure is decided as if the writes
 * had been awaited, while they are in flight. {@link handle} returns what the caller must await
 * before the failure counts as handled (its ban and recidive bans durable), or nothing when the
 * failure caused no write. A write that fails is retried with a growing delay (the store heals a
 * deleted bucket) until it succeeds or the handler stops; meanwhile the event stays
 * unacknowledged and the ban is not shown (`bans.made` and the `ban` log come once it is stored).
 */
export class FailureHandler {
  #stopped = false;
  readonly #wakes = new Set<() => void>();
  /** The reopening of the buckets under way, shared by every ban retrying. */
  #healing: Promise<void> | undefined;
  constructor(
    private readonly decider: BanDecider,
    private readonly store: BanStore,
    private readonly counters: CounterSet,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly recidive?: RecidivePolicy,
    private readonly opts: FailureHandlerOptions = {},
  ) {}

  /** Stops retrying: a ban still unwritten rejects its event (left unacknowledged for the next controller). */
  stop(): void {
    this.#stopped = true;
    for (const wake of this.#wakes) wake();
  }

  /** Decides on `e`; returns, when it caused writes, their completion (resolves once what it caused is stored). */
  handle(e: FailureEvent, replay: boolean): Promise<void> | undefined {
    const receivedMs = this.clock();
    const v = this.decider.decide(e, receivedMs);
    const by = [e.jail, e.host];
    switch (v.kind) {
      case 'counted':
        this.counters.add('events.counted', 1, by);
        // the most frequent outcome: its line is not even built unless debug lines are written
        if (this.logger.isLevelEnabled('debug')) this.logger.debug({ jail: e.jail, ip: e.ip, host: e.host, failures: v.failures, replay }, 'failure counted');
        return undefined;
      case 'ignored': {
        const rejected = v.why === 'stale' || v.why === 'future' || v.why === 'invalid' || v.why === 'jail' || v.why === 'policy';
        this.counters.add(rejected ? `events.rejected.${v.why}` : `events.${v.why}`, 1, by);
        const level = v.why === 'future' ? 'warn' : 'debug';
        this.logger[level]({ jail: e.jail, ip: e.ip, host: e.host, why: v.why, timeMs: e.timeMs, replay }, rejected ? 'failure rejected' : 'failure ignored');
        return undefined;
      }
      case 'refused': {
        this.counters.add(`events.refused.${v.refusal.code}`, 1, by);
        const level = WARN_REFUSALS.has(v.refusal.code) ? 'warn' : 'debug';
        this.logger[level]({ jail: e.jail, ip: e.ip, host: e.host, why: v.refusal.code, replay }, `failure not counted: ${v.refusal.reason}`);
        return undefined;
      }
      case 'ban': {
        const d = v.decision;
        const placed = this.#place(d);
        this.decider.commit(v);
        if (!placed) return undefined;
        const made = this.#durable(placed, d).then(() => {
          this.opts.stored?.((this.clock() - receivedMs) / 1000, d);
          this.counters.add(v.widened ? 'bans.widened' : 'bans.made', 1, [d.jail, d.reason]);
          this.counters.add('events.counted', 1, by);
          this.logger.info(
            { jail: e.jail, ip: e.ip, hosts: d.hosts, scope: d.scope, failures: d.failures, expiresMs: d.expiresMs, banCount: d.banCount, replay },
            v.widened ? 'ban widened' : 'ban',
          );
        });
        const escalated = this.escalate(d, replay);
        return escalated.length === 0 ? made : Promise.all([made, ...escalated]).then(() => undefined);
      }
    }
  }

  /** Places `d` in the store; undefined (counted, warned) when the store's guard refuses it. */
  #place(d: BanDecision): PlacedBan | undefined {
    try {
      return this.store.place(d);
    } catch (err) {
      if (!(err instanceof BanRefusedError)) throw err;
      this.counters.add(`bans.refused.${err.refusal}`);
      this.logger.warn({ jail: d.jail, ip: d.ip, why: err.refusal }, err.message);
      return undefined;
    }
  }

  /** Resolves once `placed` is written, writing it again after each failure with a growing delay. */
  #durable(placed: PlacedBan, d: BanDecision): Promise<void> {
    return placed.written.catch((err: unknown) => this.#retry(placed, d, err));
  }

  async #retry(placed: PlacedBan, d: BanDecision, first: unknown): Promise<void> {
    const retry = this.opts.retry ?? { firstMs: 250, maxMs: 5_000 };
    let delay = retry.firstMs;
    let err = first;
    for (let attempt = 1; ; attempt++) {
      if (this.#stopped) throw err;
      this.counters.add('bans.write-failed');
      this.logger.error({ err, ip: d.ip, jail: d.jail, attempt }, 'ban not stored: retrying (its event stays unacknowledged)');
      await new Promise<void>((r) => {
        const wake = () => {
          this.#wakes.delete(wake);
          clearTimeout(timer);
          r();
        };
        const timer = setTimeout(wake, delay);
        this.#wakes.add(wake);
      });
      delay = Math.min(delay * 2, retry.maxMs);
      if (this.#stopped) throw new FleetbanError('STOPPED', `ban of ${d.ip} not stored before the controller stopped`);
      await this.#heal();
      try {
        await placed.again();
        this.logger.info({ ip: d.ip, attempts: attempt + 1 }, 'ban stored after retries');
        return;
      } catch (failed) {
        err = failed;
      }
    }
  }

  /** Reopens the buckets (once for every ban retrying at the time). */
  #heal(): Promise<void> {
    this.#healing ??= this.store
      .heal(this.clock())
      .catch((err: unknown) => this.logger.warn({ err }, 'cannot reopen the ban list yet'))
      .finally(() => {
        this.#healing = undefined;
      });
    return this.#healing;
  }

  /** Places the recidive bans `d` leads to; returns their completions (each logged once stored). */
  private escalate(d: BanDecision, replay: boolean): Promise<void>[] {
    const out: Promise<void>[] = [];
    for (const r of this.recidive?.after(d, this.clock()) ?? []) {
      if (r.kind === 'refused') {
        this.counters.add(`bans.refused.${r.refusal.code}`);
        this.logger.warn({ jail: r.jail, ip: d.ip, why: r.refusal.code }, `recidive ban refused: ${r.refusal.reason}`);
        continue;
      }
      const b = r.decision;
      const placed = this.#place(b);
      if (!placed) continue;
      out.push(
        this.#durable(placed, b).then(() => {
          this.decider.countRecidive(b.jail);
          this.counters.add('bans.recidive', 1, [b.jail, b.reason]);
          this.logger.info({ jail: b.jail, ip: b.ip, after: d.jail, bans: b.failures, expiresMs: b.expiresMs, banCount: b.banCount, replay }, 'recidive ban');
        }),
      );
    }
    return out;
  }
}
