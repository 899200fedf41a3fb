import { DecodeError, decodeHeartbeat, HEARTBEAT_WILDCARD, hostOfSubject, type Clock, type Logger, type NatsConnection, type Subscription } from '@fleetban/shared';
import type { HostRegistry } from '../fleet/host-registry.js';
import type { CounterSet } from '../metrics/counter-set.js';

/**
 * Listens to every agent's heartbeat and keeps the host registry current. A heartbeat that does
 * not decode within the wire bounds (a network or garbage as an address, too many addresses) or
 * names another host than its subject changes nothing: it is counted (`heartbeats.malformed`)
 * and logged.
 */
export class HeartbeatIntake {
  #sub: Subscription | undefined;
  constructor(
    private readonly hosts: HostRegistry,
    private readonly clock: Clock,
    private readonly counters: CounterSet,
    private readonly logger: Logger,
  ) {}

  /** Starts listening. */
  start(nc: NatsConnection): void {
    this.#sub = nc.subscribe(HEARTBEAT_WILDCARD, {
      callback: (err, m) => {
        if (err) return;
        this.counters.add('heartbeats.received');
        try {
          const h = decodeHeartbeat(m.data);
          if (hostOfSubject(m.subject) !== h.host) throw new DecodeError(`Heartbeat: host ${h.host} on subject ${m.subject}`);
          this.hosts.record(h, this.clock());
        } catch (err) {
          this.counters.add('heartbeats.malformed');
          this.logger.warn({ err, subject: m.subject, malformed: this.counters.get('heartbeats.malformed') }, 'malformed heartbeat dropped');
        }
      },
    });
  }

  /** Stops listening. */
  stop(): void {
    this.#sub?.unsubscribe();
  }
}
