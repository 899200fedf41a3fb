import {
  controllerConsumer,
  decodeFailure,
  hostOfSubject,
  type FailureEvent,
  type JsMsg,
  type Logger,
  type NatsConnection,
  replayAcked,
  resetControllerConsumer,
} from '@fleetban/shared';
import type { CounterSet } from '../metrics/counter-set.js';


/**
 * How long one pull of a consumer lasts, in ms; the server sends heartbeats every half of it, and
 * two missed heartbeats make the client pull anew. With the client's default (30 s) the loss of
 * the NATS node that held the pull delayed the fleet's failures by 30–47 s on a 3-node cluster;
 * with 5 s, by a few seconds (test/cluster.test.ts), for one pull request every 5 s when idle.
 */
export const PULL_EXPIRES_MS = 5_000;

/** Handled messages acknowledged at once (one cumulative ack). */
const ACK_EVERY = 256;

/** Where decoded failures go; resolves once the failure's consequences are stored. */
export type FailureSink = (e: FailureEvent, replay: boolean) => Promise<void>;

/**
 * Reads failure events from the durable stream. On start it first replays the events it had already
 * acknowledged within the longest findtime, so a restarted controller's windows are as they were;
 * then it consumes new events through the durable consumer, acknowledging each once it is handled.
 * Every message is counted (`events.received`); malformed ones (`events.malformed`), ones naming
 * another host than their subject (`events.foreign-host`) and duplicates (`events.duplicate`) are
 * counted, logged and acknowledged (never retried, never fatal).
 */
export class EventIntake {
  #stopped = false;
  #messages: { stop(): void; close(): Promise<void | Error> } | undefined;
  /** Event ids seen recently: a replayed event is never counted twice. */
  readonly #seen = new Map<string, true>();
  constructor(
    private readonly nc: NatsConnection,
    private readonly sink: FailureSink,
    private readonly counters: CounterSet,
    private readonly logger: Logger,
    private readonly seenMax = 200_000,
  ) {}

  /** Replays, then consumes until {@link stop}. */
  async start(replaySinceMs: number): Promise<void> {
    const ackFloor = await resetControllerConsumer(this.nc);
    let replayed = 0;
    for await (const m of replayAcked(this.nc, ackFloor, replaySinceMs)) {
      await this.handle(m, true);
      replayed++;
    }
    this.logger.info({ replayed, ackFloor }, 'event windows rebuilt from the stream');
    const consumer = await controllerConsumer(this.nc);
    const messages = await consumer.consume({ max_messages: 1000, expires: PULL_EXPIRES_MS });
    this.#messages = messages;
    void (async () => {
      // the consumer acknowledges cumulatively (ack policy "all"): one ack covers every message
      // before it, so acks go out every ACK_EVERY messages or when nothing more is pending. Past a
      // message whose handling failed nothing is acknowledged until that message, redelivered,
      // is handled (the ones after it come back too and are dropped as duplicates).
      let unacked: JsMsg | undefined;
      let held = 0;
      let blocked = 0;
      for await (const m of messages) {
        const ok = await this.handle(m, false);
        if (!ok) {
          if (blocked === 0) blocked = m.seq;
        } else if (blocked === 0 || m.seq === blocked) {
          blocked = 0;
          unacked = m;
          held++;
        }
        if (unacked && (held >= ACK_EVERY || m.info.pending === 0 || blocked !== 0)) {
          unacked.ack();
          unacked = undefined;
          held = 0;
        }
      }
    })().catch((err: unknown) => {
      if (!this.#stopped) this.logger.error({ err }, 'event consumer stopped');
    });
  }

  /**
   * Handles one message; true when it may be acknowledged: its consequences are stored, or it was
   * dropped (malformed, foreign, duplicate). A failure whose handling failed is left
   * unacknowledged (redelivered after the consumer's ack wait, or to the next controller).
   */
  private async handle(m: JsMsg, replay: boolean): Promise<boolean> {
    this.counters.add('events.received');
    let e: FailureEvent;
    try {
      e = decodeFailure(m.data);
    } catch (err) {
      this.counters.add('events.malformed');
      this.logger.warn({ err, subject: m.subject, seq: m.seq, malformed: this.counters.get('events.malformed') }, 'malformed event dropped');
      return true;
    }
    if (hostOfSubject(m.subject) !== e.host) {
      this.counters.add('events.foreign-host');
      this.logger.warn({ subject: m.subject, host: e.host }, 'event host does not match its subject: dropped');
      return true;
    }
    if (this.#seen.has(e.id)) {
      this.counters.add('events.duplicate');
      return true;
    }
    this.#seen.set(e.id, true);
    if (this.#seen.size > this.seenMax) this.#seen.delete(this.#seen.keys().next().value as string);
    try {
      await this.sink(e, replay);
      return true;
    } catch (err) {
      this.#seen.delete(e.id);
      this.counters.add('events.failed');
      this.logger.error({ err, id: e.id, seq: m.seq }, 'failure could not be handled: left unacknowledged');
      return false;
    }
  }

  /** Stops consuming (unacknowledged messages are redelivered to the next controller). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#messages?.stop();
  }
}
