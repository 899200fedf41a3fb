import { type FailureEvent, jetstream, type JetStreamClient, type Logger, type NatsConnection, publishFailure } from '@fleetban/shared';

/** Counters of the reporter. */
export interface ReporterCounters {
  published: number;
  buffered: number;
  dropped: number;
}

/**
 * Publishes failures to the fleet's stream, in order. While NATS is unreachable failures wait in a
 * bounded buffer (oldest dropped first, counted) and are sent when the link returns; each carries
 * its id as the JetStream message id, so a resend after a lost acknowledgement is not counted twice.
 */
export class FailureReporter {
  readonly #queue: FailureEvent[] = [];
  readonly #js: JetStreamClient;
  #sending = false;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly counters: ReporterCounters = { published: 0, buffered: 0, dropped: 0 };

  constructor(nc: NatsConnection, private readonly max: number, private readonly logger: Logger) {
    this.#js = jetstream(nc);
  }

  /** Queues a failure for publication. */
  report(e: FailureEvent): void {
    this.#queue.push(e);
    if (this.#queue.length > this.max) {
      this.#queue.shift();
      this.counters.dropped++;
    }
    this.counters.buffered = this.#queue.length;
    void this.flush();
  }

  /** Sends what is queued; on failure, retries later. */
  async flush(): Promise<void> {
    if (this.#sending || this.#stopped) return;
    this.#sending = true;
    try {
      while (this.#queue.length > 0) {
        const e = this.#queue[0] as FailureEvent;
        try {
          await publishFailure(this.#js, e);
        } catch (err) {
          this.logger.warn({ err: (err as Error).message, buffered: this.#queue.length }, 'cannot publish failures yet; buffering');
          clearTimeout(this.#retry);
          this.#retry = setTimeout(() => void this.flush(), 1000);
          return;
        }
        this.#queue.shift();
        this.counters.published++;
        this.counters.buffered = this.#queue.length;
      }
    } finally {
      this.#sending = false;
    }
  }

  /** Stops retrying (what is still buffered is reported in the log). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    if (this.#queue.length > 0) this.logger.warn({ buffered: this.#queue.length }, 'stopping with unpublished failures');
  }
}
