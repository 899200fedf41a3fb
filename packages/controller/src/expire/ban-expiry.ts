import type { Clock, Logger } from '@fleetban/shared';
import type { Renewal } from '../lease/controller-lease.js';
import type { BanStore } from '../store/ban-store.js';

/**
 * Removes bans whose time is up. The agents' kernel sets expire the same elements on their own
 * (nft set timeouts), so a controller that is down delays only the list's clean-up, never an unban.
 */
export class BanExpiry {
  #timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly store: BanStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onExpire: (ip: string) => void = () => {},
  ) {}

  /** Checks every `intervalMs`, but not while `lease` is not renewed (another controller may be active). */
  start(intervalMs: number, lease?: Renewal): void {
    this.#timer = setInterval(() => lease?.renewed !== false && void this.sweep(), intervalMs);
  }

  /** One pass: removes every expired ban. */
  async sweep(): Promise<number> {
    const due = this.store.expired(this.clock());
    for (const b of due) {
      try {
        await this.store.unban(b.ip, b.expiresMs, 'expired');
        this.onExpire(b.ip);
        this.logger.info({ ip: b.ip, jail: b.jail }, 'ban expired');
      } catch (err) {
        this.logger.error({ err, ip: b.ip }, 'cannot remove expired ban');
      }
    }
    return due.length;
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
