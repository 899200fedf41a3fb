import { type BanDecision, BanRefusedError, type Clock, type FailureEvent, FleetbanError, type Logger } from '@fleetban/shared';
import type { CounterSet } from '../metrics/counter-set.js';
import type { RecidivePolicy } from '../recidive/recidive-policy.js';
import type { BanStore } from '../store/ban-store.js';
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
 * ..., each also by jail and reporting host), and a ban written through the store before the failure counts as handled; then the
 * recidive bans that ban leads to (`bans.recidive`), stored before the failure counts as handled too.
 * A write that fails is retried with a growing delay (the store heals a deleted bucket) until it
 * succeeds or the handler stops; meanwhile the event stays unacknowledged and the decider does not
 * hold the ban.
 */
export class FailureHandler {
  #stopped = false;
  #wake: (() => void) | undefined;
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
    this.#wake?.();
  }

  /** Decides on `e`; resolves once what it caused is stored. */
  async handle(e: FailureEvent, replay: boolean): Promise<void> {
    const receivedMs = this.clock();
    const v = this.decider.decide(e, receivedMs);
    const by = [e.jail, e.host];
    switch (v.kind) {
      case 'counted':
        this.counters.add('events.counted', 1, by);
        this.logger.debug({ jail: e.jail, ip: e.ip, host: e.host, failures: v.failures, replay }, 'failure counted');
        return;
      case 'ignored': {
        const rejected = v.why === 'stale' || v.why === 'future' || v.why === 'invalid' || v.why === 'jail' || v.why === 'policy';
        this.counters.add(rejected ? `events.rejected.${v.why}` : `events.${v.why}`, 1, by);
        const level = v.why === 'future' ? 'warn' : 'debug';
        this.logger[level]({ jail: e.jail, ip: e.ip, host: e.host, why: v.why, timeMs: e.timeMs, replay }, rejected ? 'failure rejected' : 'failure ignored');
        return;
      }
      case 'refused': {
        this.counters.add(`events.refused.${v.refusal.code}`, 1, by);
        const level = WARN_REFUSALS.has(v.refusal.code) ? 'warn' : 'debug';
        this.logger[level]({ jail: e.jail, ip: e.ip, host: e.host, why: v.refusal.code, replay }, `failure not counted: ${v.refusal.reason}`);
        return;
      }
      case 'ban': {
        const d = v.decision;
        try {
          await this.#stored(d);
        } catch (err) {
          if (!(err instanceof BanRefusedError)) throw err;
          this.decider.commit(v);
          this.counters.add(`bans.refused.${err.refusal}`);
          this.logger.warn({ jail: e.jail, ip: e.ip, why: err.refusal }, err.message);
          return;
        }
        this.decider.commit(v);
        this.opts.stored?.((this.clock() - receivedMs) / 1000, d);
        this.counters.add(v.widened ? 'bans.widened' : 'bans.made', 1, [d.jail, d.reason]);
        this.counters.add('events.counted', 1, by);
        this.logger.info(
          { jail: e.jail, ip: e.ip, hosts: d.hosts, scope: d.scope, failures: d.failures, expiresMs: d.expiresMs, banCount: d.banCount, replay },
          v.widened ? 'ban widened' : 'ban',
        );
        await this.escalate(d, replay);
      }
    }
  }

  async #stored(d: BanDecision): Promise<void> {
    const retry = this.opts.retry ?? { firstMs: 250, maxMs: 5_000 };
    let delay = retry.firstMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.store.ban(d);
        if (attempt > 1) this.logger.info({ ip: d.ip, attempts: attempt }, 'ban stored after retries');
        return;
      } catch (err) {
        if (err instanceof BanRefusedError || this.#stopped) throw err;
        this.counters.add('bans.write-failed');
        this.logger.error({ err, ip: d.ip, jail: d.jail, attempt }, 'ban not stored: retrying (its event stays unacknowledged)');
      }
      await new Promise<void>((r) => {
        this.#wake = r;
        setTimeout(r, delay);
      });
      delay = Math.min(delay * 2, retry.maxMs);
      if (this.#stopped) throw new FleetbanError('STOPPED', `ban of ${d.ip} not stored before the controller stopped`);
      await this.store.heal(this.clock()).catch((err: unknown) => this.logger.warn({ err }, 'cannot reopen the ban list yet'));
    }
  }

  /** Stores the recidive bans `d` leads to. */
  private async escalate(d: BanDecision, replay: boolean): Promise<void> {
    for (const r of this.recidive?.after(d, this.clock()) ?? []) {
      if (r.kind === 'refused') {
        this.counters.add(`bans.refused.${r.refusal.code}`);
        this.logger.warn({ jail: r.jail, ip: d.ip, why: r.refusal.code }, `recidive ban refused: ${r.refusal.reason}`);
        continue;
      }
      const b = r.decision;
      try {
        await this.#stored(b);
      } catch (err) {
        if (!(err instanceof BanRefusedError)) throw err;
        this.counters.add(`bans.refused.${err.refusal}`);
        this.logger.warn({ jail: b.jail, ip: b.ip, why: err.refusal }, err.message);
        continue;
      }
      this.counters.add('bans.recidive', 1, [b.jail, b.reason]);
      this.logger.info({ jail: b.jail, ip: b.ip, after: d.jail, bans: b.failures, expiresMs: b.expiresMs, banCount: b.banCount, replay }, 'recidive ban');
    }
  }
}
