import { type Clock, controllerAliveSubject, encodeControllerAlive, type Logger, type NatsConnection } from '@fleetban/shared';
import type { Renewal } from '../lease/controller-lease.js';

/** Longest interval between two liveness messages, whatever `[controller] expire_interval` says. */
export const MAX_ALIVE_INTERVAL_MS = 5_000;

/** The liveness interval for an `expire_interval` of `expireMs`: the same, at most 5 s. */
export function aliveInterval(expireMs: number): number {
  return Math.min(expireMs, MAX_ALIVE_INTERVAL_MS);
}

/**
 * Tells the fleet the controller is alive: a small `ControllerAlive` on core NATS
 * (`fleetban.controller.alive`) at start, every interval and after every reconnect. An agent that
 * hears none for two intervals decides locally (the agent's fallback/ stage).
 */
export class LivenessBeacon {
  #timer: NodeJS.Timeout | undefined;
  #warned = false;
  constructor(
    private readonly nc: NatsConnection,
    private readonly host: string,
    private readonly intervalMs: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Nothing is sent while the lease is suspended (agents may fall back: another controller may hold it). */
    private readonly gate?: Renewal,
  ) {}

  /** Sends one now, then every interval. */
  start(): void {
    this.send();
    this.#timer = setInterval(() => this.send(), this.intervalMs);
  }

  /** Sends one liveness message now. */
  send(): void {
    if (this.gate && !this.gate.renewed) return;
    try {
      this.nc.publish(controllerAliveSubject(), encodeControllerAlive({ host: this.host, timeMs: this.clock(), intervalMs: this.intervalMs }));
      this.#warned = false;
    } catch (err) {
      if (!this.#warned) this.logger.warn({ err }, 'liveness message not sent');
      this.#warned = true;
    }
  }

  /** Stops sending: agents fall back after two intervals. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
