import type { Clock, Logger } from '@fleetban/shared';
import type { Renewal } from '../lease/controller-lease.js';
import type { BanStore } from './ban-store.js';

/**
 * fail2ban's dbpurgeage for the fleet's ban history: offences whose last ban ended longer ago than
 * the purge age are deleted from memory and from the history bucket, on a timer. The clock is
 * injected; {@link sweep} is one pass, for tests.
 */
export class HistoryPurge {
  #timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly store: BanStore,
    private readonly clock: Clock,
    /** How long after its last ban ended an offence is kept. */
    private readonly ageMs: number,
    private readonly logger: Logger,
  ) {}

  /** How often {@link start} sweeps: a tenth of the age, between 1 s and 10 min. */
  static intervalFor(ageMs: number): number {
    return Math.min(600_000, Math.max(1_000, Math.floor(ageMs / 10)));
  }

  /** Sweeps every {@link intervalFor}(age), but not while `lease` is not renewed. */
  start(lease?: Renewal): void {
    this.#timer = setInterval(() => lease?.renewed !== false && void this.sweep(), HistoryPurge.intervalFor(this.ageMs));
    this.#timer.unref();
  }

  /** One pass: forgets every purgeable offence; returns how many. */
  async sweep(): Promise<number> {
    let n = 0;
    for (const key of this.store.purgeable(this.clock(), this.ageMs)) {
      try {
        await this.store.forget(key);
        n++;
      } catch (err) {
        this.logger.error({ err, key }, 'cannot purge an offence from the history');
      }
    }
    if (n > 0) this.logger.info({ purged: n, ageMs: this.ageMs }, 'ban history purged');
    return n;
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
