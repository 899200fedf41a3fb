/**
 * Whether this host can count on the fleet right now: NATS connected, and the controller heard
 * from within `missed` of its own liveness intervals. Pure: the stage around it feeds it the
 * connection changes and the liveness messages with their arrival times.
 */

/** Options of {@link FleetLink}. */
export interface FleetLinkOptions {
  /** Liveness intervals without a message after which the controller counts as gone; default 2. */
  readonly missed?: number;
  /** Whether NATS is connected at the start; default true. */
  readonly connected?: boolean;
  /** Interval assumed before the first liveness message (the controller's default); default 1000 ms. */
  readonly assumedIntervalMs?: number;
}

/** The link as seen at one moment. */
export type LinkState =
  | { readonly reachable: true }
  | { readonly reachable: false; readonly why: 'nats disconnected' | 'no controller liveness' };

/**
 * Tracks NATS connectivity and the controller's liveness. A fresh link counts as reachable for
 * `missed` assumed intervals (a grace to hear the controller); after that, only liveness messages
 * keep it so.
 */
export class FleetLink {
  readonly #missed: number;
  #connected: boolean;
  #lastAliveMs: number;
  #intervalMs: number;

  constructor(startMs: number, opts: FleetLinkOptions = {}) {
    this.#missed = opts.missed ?? 2;
    this.#connected = opts.connected ?? true;
    this.#intervalMs = opts.assumedIntervalMs ?? 1000;
    this.#lastAliveMs = startMs;
  }

  /** NATS disconnected (`false`) or connected again (`true`). */
  connection(connected: boolean): void {
    this.#connected = connected;
  }

  /** A liveness message arrived at `nowMs`, announcing the controller's interval. */
  alive(intervalMs: number, nowMs: number): void {
    this.#intervalMs = intervalMs;
    this.#lastAliveMs = Math.max(this.#lastAliveMs, nowMs);
  }

  /** Reachable, or why not, at `nowMs`. */
  state(nowMs: number): LinkState {
    if (!this.#connected) return { reachable: false, why: 'nats disconnected' };
    if (nowMs - this.#lastAliveMs > this.#missed * this.#intervalMs) return { reachable: false, why: 'no controller liveness' };
    return { reachable: true };
  }

  /** When the controller was last heard (or the link was created), ms since the epoch. */
  get lastAliveMs(): number {
    return this.#lastAliveMs;
  }

  /** How long without liveness makes the controller count as gone, in ms. */
  get timeoutMs(): number {
    return this.#missed * this.#intervalMs;
  }
}
