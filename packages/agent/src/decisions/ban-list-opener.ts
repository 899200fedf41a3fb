import type { Logger } from '@fleetban/shared';

/** Options of {@link BanListOpener}. */
export interface OpenerOptions {
  /** First delay between attempts, in ms; doubled after each failure. Default 500. */
  readonly firstDelayMs?: number;
  /** Longest delay between attempts, in ms. Default 5000. */
  readonly maxDelayMs?: number;
}

/**
 * Opens the fleet's ban list without creating it (hosts may not create streams): the controller
 * creates the bucket when it first starts. Until then every attempt fails; the opener retries
 * with a bounded exponential backoff and says so once, and again once it succeeds.
 */
export class BanListOpener<L> {
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #stopped = false;
  #failures = 0;

  constructor(
    private readonly open: () => Promise<L>,
    private readonly logger: Logger,
    private readonly opts: OpenerOptions = {},
  ) {}

  /** One attempt: the list, or null when it cannot be opened yet (logged once). */
  async tryOnce(): Promise<L | null> {
    try {
      const list = await this.open();
      if (this.#failures > 0) this.logger.info({ attempts: this.#failures + 1 }, 'ban list found: following it');
      return list;
    } catch (err) {
      if (this.#failures++ === 0) this.logger.warn({ err }, 'ban list not there yet: waiting for the controller to create it (protecting locally meanwhile)');
      return null;
    }
  }

  /** Tries until the list opens (resolves with it) or {@link stop} is called (resolves null). */
  async wait(): Promise<L | null> {
    let delay = this.opts.firstDelayMs ?? 500;
    const max = this.opts.maxDelayMs ?? 5_000;
    while (!this.#stopped) {
      const list = await this.tryOnce();
      if (list !== null || this.#stopped) return this.#stopped ? null : list;
      await new Promise<void>((r) => {
        this.#wake = r;
        this.#timer = setTimeout(r, delay);
      });
      delay = Math.min(delay * 2, max);
    }
    return null;
  }

  /** Stops retrying. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.();
  }
}
