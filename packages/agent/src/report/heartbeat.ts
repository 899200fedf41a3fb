import { type Clock, encodeHeartbeat, type Heartbeat, heartbeatSubject, type Logger, type NatsConnection } from '@fleetban/shared';

/** Publishes this host's heartbeat every `intervalMs` (and once at start). */
export class HeartbeatSender {
  #timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly nc: NatsConnection,
    private readonly snapshot: () => Omit<Heartbeat, 'timeMs'>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Starts sending. */
  start(intervalMs: number): void {
    this.send();
    this.#timer = setInterval(() => this.send(), intervalMs);
  }

  /** Sends one heartbeat now. */
  send(): void {
    try {
      const h = { ...this.snapshot(), timeMs: this.clock() };
      this.nc.publish(heartbeatSubject(h.host), encodeHeartbeat(h));
    } catch (err) {
      this.logger.warn({ err }, 'heartbeat not sent');
    }
  }

  /** Stops sending. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
