import { decodeHeartbeat, HEARTBEAT_WILDCARD, hostOfSubject, type Clock, type Logger, type NatsConnection, type Subscription } from '@fleetban/shared';
import type { HostRegistry } from '../fleet/host-registry.js';

/** Listens to every agent's heartbeat and keeps the host registry current. */
export class HeartbeatIntake {
  malformed = 0;
  #sub: Subscription | undefined;
  constructor(private readonly hosts: HostRegistry, private readonly clock: Clock, private readonly logger: Logger) {}

  /** Starts listening. */
  start(nc: NatsConnection): void {
    this.#sub = nc.subscribe(HEARTBEAT_WILDCARD, {
      callback: (err, m) => {
        if (err) return;
        try {
          const h = decodeHeartbeat(m.data);
          if (hostOfSubject(m.subject) !== h.host) throw new Error(`host ${h.host} on subject ${m.subject}`);
          this.hosts.record(h, this.clock());
        } catch (err) {
          this.malformed++;
          this.logger.warn({ err, subject: m.subject, malformed: this.malformed }, 'malformed heartbeat dropped');
        }
      },
    });
  }

  /** Stops listening. */
  stop(): void {
    this.#sub?.unsubscribe();
  }
}
