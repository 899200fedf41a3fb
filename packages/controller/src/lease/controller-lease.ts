import type { Clock, LeaseBucket, Logger } from '@fleetban/shared';

/**
 * What a part of the active controller that writes (or answers for the fleet) asks of the lease:
 * false while it is suspended or lost (another controller may be active), when it does nothing.
 */
export interface Renewal {
  readonly renewed: boolean;
}

/** Options of {@link ControllerLease}. */
export interface LeaseOptions {
  /** This controller's name in the lease (unique per process). */
  readonly holder: string;
  /** How long a lease lives without renewal; a standby takes it over after that. */
  readonly ttlMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Exactly one active controller. The active one renews the lease (a compare-and-set write on its
 * revision) every quarter of `ttlMs`; a standby reads the lease as often and, when its revision has
 * not moved for `ttlMs` by the standby's own clock, swaps it on that revision: of several
 * standbys one wins, and a controller that was only slow finds its next renewal refused and steps
 * down. An active controller that cannot renew for `ttlMs` (NATS away, or the bucket without a
 * leader while a cluster elects one) is suspended: a standby may hold the lease by then, so it
 * decides nothing ({@link renewed} is false) until a renewal goes through again, then goes on as it
 * was, or is refused, and steps down. Stepping down at once meant a start anew after every
 * election of a cluster, and nats-server 2.9 left such starts' requests unanswered for tens of
 * seconds (docs/cluster.md). A clean stop releases the lease so a standby takes over at once.
 */
export class ControllerLease {
  #revision = 0;
  #timer: NodeJS.Timeout | undefined;
  #lost: ((why: string) => void) | undefined;
  #suspended = false;
  /** Lost: this controller decides nothing more (it is stopping). */
  #gone = false;
  #waiting: Array<() => void> = [];
  #stoodBy = false;
  /** Resolves with why, once the lease is lost (after {@link acquire}). */
  readonly lost: Promise<string>;

  constructor(private readonly bucket: LeaseBucket, private readonly o: LeaseOptions) {
    this.lost = new Promise((resolve) => (this.#lost = resolve));
  }

  /** Whether {@link acquire} saw another controller holding the lease before this one took it. */
  get stoodBy(): boolean {
    return this.#stoodBy;
  }

  /** Waits until this controller holds the lease (true), or `signal` aborts (false). */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    const step = Math.max(50, Math.floor(this.o.ttlMs / 4));
    let seen: number | null = null;
    let seenAt = this.o.clock();
    let announced = false;
    while (!signal?.aborted) {
      try {
        const current = await this.bucket.read();
        let won: number | null = null;
        if (current === null) won = await this.bucket.take(this.o.holder);
        else if (current.revision !== seen) {
          seen = current.revision;
          seenAt = this.o.clock();
          if (!announced) this.o.logger.info({ active: current.holder }, 'standby: another controller is active');
          announced = true;
          this.#stoodBy = true;
        } else if (this.o.clock() - seenAt >= this.o.ttlMs) {
          won = await this.bucket.swap(this.o.holder, current.revision);
          if (won !== null) this.o.logger.warn({ previous: current.holder, silentMs: this.o.clock() - seenAt }, 'taking over: the active controller stopped renewing its lease');
        }
        if (won !== null) {
          this.#revision = won;
          this.#renewEvery(step);
          return true;
        }
      } catch (err) {
        this.o.logger.warn({ err }, 'cannot read the controller lease; retrying');
      }
      await sleep(step, signal);
    }
    return false;
  }

  /**
   * False while the lease is suspended (not renewed for a whole `ttlMs`: another controller may
   * hold it), and once it is lost.
   */
  get renewed(): boolean {
    return !this.#suspended && !this.#gone;
  }

  /** Resolves once the lease is renewed again (at once when it is not suspended), or lost. */
  whenRenewed(): Promise<void> {
    return this.#suspended ? new Promise((resolve) => this.#waiting.push(resolve)) : Promise.resolve();
  }

  /** Stops renewing and releases the lease (a standby takes over at once). */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#revision > 0) await this.bucket.release(this.#revision);
  }

  #renewEvery(step: number): void {
    let okAt = this.o.clock();
    let busy = false;
    this.#timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.bucket.swap(this.o.holder, this.#revision).then(
        (rev) => {
          if (rev === null) return this.#lose('another controller took the lease');
          this.#revision = rev;
          okAt = this.o.clock();
          if (this.#suspended) {
            this.o.logger.warn('controller lease renewed: deciding again');
            this.#resume();
          }
        },
        (err: unknown) => {
          this.o.logger.warn({ err }, 'cannot renew the controller lease');
          if (!this.#suspended && this.o.clock() - okAt >= this.o.ttlMs) {
            this.#suspended = true;
            this.o.logger.error({ silentMs: this.o.clock() - okAt }, 'controller lease not renewed in time: deciding nothing until it is renewed, or stepping down if another controller holds it');
          }
        },
      ).finally(() => (busy = false));
    }, step);
  }

  #lose(why: string): void {
    clearInterval(this.#timer);
    this.#revision = 0;
    this.#gone = true;
    this.o.logger.error({ why }, 'controller lease lost: stepping down');
    this.#lost?.(why);
    this.#resume();
  }

  /** Ends a suspension: what waits for a renewal goes on (and finds {@link renewed} false when the lease is lost). */
  #resume(): void {
    this.#suspended = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w();
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/**
 * A start that failed after this controller took the lease over from another (a standby taking
 * over): its NATS servers may be electing new leaders after a node was lost. Its daemon stands by
 * and tries again rather than exiting, which would leave the fleet with no controller at all.
 */
export class TakeoverStartError extends Error {
  constructor(cause: unknown) {
    super(`cannot start after taking the lease over: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'TakeoverStartError';
  }
}
