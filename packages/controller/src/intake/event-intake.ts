import {
  controllerConsumer,
  decodeFailure,
  subjectNamesHost,
  type FailureEvent,
  type JsMsg,
  type Logger,
  type NatsConnection,
  replayAcked,
  type ReplayStart,
  resetControllerConsumer,
} from '@fleetban/shared';
import type { Renewal } from '../lease/controller-lease.js';
import type { CounterSet } from '../metrics/counter-set.js';
import { AckFloor, type Handled } from './ack-floor.js';
import { type SeenCapture, SeenIds } from './seen-ids.js';

/**
 * How long one pull of a consumer lasts, in ms; the server sends heartbeats every half of it, and
 * two missed heartbeats make the client pull anew. With the client's default (30 s) the loss of
 * the NATS node that held the pull delayed the fleet's failures by 30–47 s on a 3-node cluster;
 * with 5 s, by a few seconds (test/cluster.test.ts), for one pull request every 5 s when idle.
 */
export const PULL_EXPIRES_MS = 5_000;

/** Handled messages acknowledged at once (one cumulative ack). */
const ACK_EVERY = 256;

/** How long a handled message may wait for its (cumulative) acknowledgement, in ms. */
const ACK_DELAY_MS = 25;

/**
 * Messages whose effects (ban writes) may be in flight at once: past it the intake waits for some
 * to be durable before handling the next.
 */
export const MAX_IN_FLIGHT = 256;

/** Whether this controller may decide now (its lease, {@link ControllerLease}). */
export interface LeaseGate extends Renewal {
  whenRenewed(): Promise<void>;
}

/**
 * Where decoded failures go. Handles the failure at once, in arrival order, and returns, when it
 * caused writes, their completion (resolves once the failure's consequences are stored);
 * nothing when there is nothing to wait for.
 */
export type FailureSink = (e: FailureEvent, replay: boolean) => Promise<void> | undefined;

/**
 * Reads failure events from the durable stream. On start it first replays the events it had already
 * acknowledged within the longest findtime, so a restarted controller's windows are as they were;
 * then it consumes new events through the durable consumer. Each event is handled as it arrives,
 * without waiting for the writes of the ones before it (at most {@link MAX_IN_FLIGHT} events wait
 * for theirs), and acknowledged cumulatively once what it and every event before it caused is
 * stored ({@link AckFloor}).
 * Every message is counted (`events.received`); malformed ones (`events.malformed`), ones naming
 * another host than their subject (`events.foreign-host`) and duplicates (`events.duplicate`) are
 * counted, logged and acknowledged (never retried, never fatal).
 */
export class EventIntake {
  #stopped = false;
  #messages: { stop(): void; close(): Promise<void | Error> } | undefined;
  /** Delivered messages not handled yet (from `#head` on): handling waits while `#holding`. */
  #queue: JsMsg[] = [];
  #head = 0;
  #holding = false;
  /** Consuming ended (stopped, the lease lost, the consumer closed): later deliveries are ignored. */
  #ended = false;
  #acks = new AckFloor(ACK_EVERY, ACK_DELAY_MS);
  /** Events seen recently, by host and id: a redelivered or republished one is never counted twice. */
  readonly #seen: SeenIds;
  /**
   * The last message handled (replayed or new), or the sequence everything up to which is counted
   * when none was handled since the start: its sequence is read only when asked (a snapshot), not
   * per event (parsing a message's reply subject costs).
   */
  #handled: JsMsg | number = 0;
  constructor(
    private readonly nc: NatsConnection,
    private readonly sink: FailureSink,
    private readonly counters: CounterSet,
    private readonly logger: Logger,
    /** What may hold consuming: the lease, while it is suspended. */
    private readonly gate?: LeaseGate,
    seenMax = 200_000,
  ) {
    this.#seen = new SeenIds(seenMax);
  }

  /**
   * Replays the acknowledged events from `from` on (the longest findtime, or what follows a
   * snapshot), then consumes until {@link stop}. A snapshot's sequence beyond what the consumer
   * acknowledged (a stream or consumer made anew since) cannot be used: false, and nothing is
   * started (the caller starts again from a time, with empty windows).
   */
  async start(from: ReplayStart): Promise<boolean> {
    const ackFloor = await resetControllerConsumer(this.nc);
    if ('afterSeq' in from && from.afterSeq > ackFloor) return false;
    this.#handled = 'afterSeq' in from ? from.afterSeq : ackFloor;
    let replayed = 0;
    for await (const m of replayAcked(this.nc, ackFloor, from)) {
      const handled = this.handle(m, true);
      if (typeof handled !== 'boolean') await handled;
      replayed++;
    }
    this.#handled = ackFloor;
    this.logger.info({ replayed, ackFloor, ...from }, 'event windows rebuilt from the stream');
    const consumer = await controllerConsumer(this.nc);
    // delivered to a callback, not an async iterator: the iterator's queue and a promise per
    // message cost about 0.8 µs of CPU per message (of about 11 per event); the intake keeps its
    // own queue for while handling waits
    const messages = await consumer.consume({ max_messages: 1000, expires: PULL_EXPIRES_MS, callback: (m) => this.#take(m) });
    this.#messages = messages;
    void messages.closed().then((err) => {
      this.#end();
      if (err && !this.#stopped) this.logger.error({ err }, 'event consumer stopped');
    });
    return true;
  }

  /** Takes a delivered message: handled at once, unless handling waits (then after those before it). */
  #take(m: JsMsg): void {
    if (this.#ended) return;
    if (!this.#holding && this.#head === this.#queue.length && this.#mayHandle()) {
      // nothing waits: handled at once, without passing through the queue (whose emptying
      // dropped its backing store, made again by the next message)
      this.#acks.add(m, this.handle(m, false));
      return;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      // handled ones are not kept while handling waits and the queue never empties
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#queue.push(m);
    if (!this.#holding) this.#drain();
  }

  /** True when a message may be handled now: consuming goes on, the lease is renewed, room for writes. */
  #mayHandle(): boolean {
    return !this.#stopped && (!this.gate || this.gate.renewed) && this.#acks.inFlight < MAX_IN_FLIGHT;
  }

  /**
   * Handles the queued messages in order until one must wait: while the lease is suspended
   * (another controller may be active: nothing is decided until it is renewed), or while
   * {@link MAX_IN_FLIGHT} messages' writes are in flight. Stopped, or the lease lost, nothing more
   * is handled: the messages not acknowledged come again to the next consumer.
   */
  #drain(): void {
    const acks = this.#acks;
    try {
      while (this.#head < this.#queue.length) {
        if (this.#stopped || this.#ended) return this.#end();
        if (this.gate && !this.gate.renewed) return this.#hold(this.gate.whenRenewed(), () => this.gate?.renewed !== false);
        if (acks.inFlight >= MAX_IN_FLIGHT) return this.#hold(acks.below(MAX_IN_FLIGHT), () => true);
        const m = this.#queue[this.#head++] as JsMsg;
        acks.add(m, this.handle(m, false));
      }
      this.#queue.length = 0;
      this.#head = 0;
    } catch (err) {
      this.logger.error({ err }, 'event consumer stopped');
      this.#end();
    }
  }

  /** Handles nothing more until `until` resolves; then goes on when `goOn()`, else ends. */
  #hold(until: Promise<void>, goOn: () => boolean): void {
    this.#holding = true;
    void until.then(() => {
      this.#holding = false;
      if (goOn()) this.#drain();
      else this.#end();
    });
  }

  /** Ends consuming: what is queued is dropped (not acknowledged), what is handled acknowledged. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#queue = [];
    this.#head = 0;
    this.#messages?.stop();
    this.#acks.close();
  }

  /**
   * Handles one message; true when it may be acknowledged: its consequences are stored, or it was
   * dropped (malformed, foreign, duplicate); a promise of that when its consequences are being
   * written. A failure whose handling failed is left unacknowledged (redelivered after the
   * consumer's ack wait, or to the next controller).
   */
  private handle(m: JsMsg, replay: boolean): Handled {
    this.#handled = m;
    this.counters.add('events.received');
    let e: FailureEvent;
    try {
      e = decodeFailure(m.data);
    } catch (err) {
      this.counters.add('events.malformed');
      this.logger.warn({ err, subject: m.subject, seq: m.seq, malformed: this.counters.get('events.malformed') }, 'malformed event dropped');
      return true;
    }
    if (!subjectNamesHost(m.subject, e.host)) {
      this.counters.add('events.foreign-host');
      this.logger.warn({ subject: m.subject, host: e.host }, 'event host does not match its subject: dropped');
      return true;
    }
    if (!this.#seen.add(e.host, e.id)) {
      this.counters.add('events.duplicate');
      return true;
    }
    let stored: Promise<void> | undefined;
    try {
      stored = this.sink(e, replay);
    } catch (err) {
      return this.failed(e, m, err);
    }
    return stored ? stored.then(() => true, (err: unknown) => this.failed(e, m, err)) : true;
  }

  /** A failure whose handling failed: counted, logged, and to be handled again when redelivered. */
  private failed(e: FailureEvent, m: JsMsg, err: unknown): false {
    this.#seen.delete(e.host, e.id);
    this.counters.add('events.failed');
    this.logger.error({ err, id: e.id, seq: m.seq }, 'failure could not be handled: left unacknowledged');
    return false;
  }

  /** The stream sequence of the last event handled: what the windows hold counts every event up to it. */
  get handledSeq(): number {
    return typeof this.#handled === 'number' ? this.#handled : this.#handled.seq;
  }

  /** The events seen lately, oldest first (for a snapshot): a copy. */
  seenCapture(): SeenCapture {
    return this.#seen.capture();
  }

  /** Takes back what {@link seenCapture} returned (before {@link start}): those events are not counted again. */
  remember(seen: SeenCapture): void {
    this.#seen.restore(seen);
  }

  /** Stops consuming (unacknowledged messages are redelivered to the next controller). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#messages?.stop();
  }
}
