import { createRequire } from 'node:module';
import type { JetStreamClient, JetStreamManagerOptions, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsError } from '../errors.js';
import { CONTROLLER_DURABLE, EVENTS_STREAM, EVENTS_WILDCARD, eventSubject } from '../subjects.js';
import { encodeFailure } from '../proto/codec.js';
import type { FailureEvent } from '../model/failure.js';
import { PASS_STALL_MS, PassWatchdog } from './kv-tail.js';
import { orderedConsumer } from './made-in-time.js';
import { type CreateOptions, wantedReplicas, warnReplicaMismatch } from './replicas.js';
import type { StreamPublisher } from './stream-publisher.js';

export type { JsMsg, ConsumerInfo, JetStreamClient } from '@nats-io/jetstream';

/**
 * The JetStream client library, required at first use rather than with this module: only the
 * daemons talk to the stream, while every importer of the shared door would pay for loading it.
 * A synchronous require (the package is CommonJS) because {@link jetstream} is synchronous.
 */
let jetstreamModule: typeof import('@nats-io/jetstream') | undefined;

/** The JetStream client library (loaded at first use). */
export function loadJetstream(): typeof import('@nats-io/jetstream') {
  return (jetstreamModule ??= createRequire(import.meta.url)('@nats-io/jetstream') as typeof import('@nats-io/jetstream'));
}

/** A JetStream client on `nc` (publishing to and reading from streams). */
export function jetstream(nc: NatsConnection, opts?: JetStreamManagerOptions): JetStreamClient {
  return loadJetstream().jetstream(nc, opts);
}

/**
 * Makes sure the events stream exists with the given retention and `opts`' replica count
 * (idempotent). An existing stream is updated to that count (nats-server 2.9 moves replicas on an
 * update); when the server refuses (too few servers), the stream keeps its count and a warning is
 * logged.
 */
export async function ensureEventsStream(nc: NatsConnection, maxAgeMs: number, opts?: CreateOptions): Promise<void> {
  const { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } = loadJetstream();
  try {
    const jsm = await jetstreamManager(nc);
    const config = {
      name: EVENTS_STREAM,
      subjects: [EVENTS_WILDCARD],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: maxAgeMs * 1_000_000,
      max_msgs_per_subject: -1,
      duplicate_window: 120 * 1_000_000_000,
      num_replicas: wantedReplicas(opts),
    };
    let existing: number | undefined;
    try {
      existing = (await jsm.streams.info(EVENTS_STREAM)).config.num_replicas;
    } catch {
      await jsm.streams.add(config);
    }
    if (existing !== undefined) {
      let info;
      try {
        info = await jsm.streams.update(EVENTS_STREAM, config);
      } catch (err) {
        if (existing === config.num_replicas) throw err;
        opts?.logger?.warn({ stream: EVENTS_STREAM, err }, 'the server refused to change the events stream\'s replica count');
        info = await jsm.streams.update(EVENTS_STREAM, { ...config, num_replicas: existing });
      }
      warnReplicaMismatch(opts, 'stream', EVENTS_STREAM, info.config.num_replicas);
    }
  } catch (cause) {
    throw new NatsError(`cannot create stream ${EVENTS_STREAM}`, { cause });
  }
}

/** How long {@link resetControllerConsumer} tries again while JetStream does not answer, in ms. */
const CONSUMER_RESET_MS = 30_000;

/**
 * Makes the controller's durable consumer start right after what the previous active controller
 * acknowledged, and returns the acknowledged floor. A controller that died held messages it had
 * pulled but not acknowledged; left alone, they would come back only after the ack wait (30 s).
 * The consumer is made anew from the floor (its messages are handled and acknowledged in order,
 * so everything above the floor is unhandled) and they come at once: a restart or a takeover
 * loses no failure and waits for none.
 *
 * Only a consumer the server says does not exist reads the stream from its beginning (a first
 * start). Any other error (a timeout while a cluster that lost a node elects the consumer's new
 * leader) is no answer: taken as "none", the stream's acknowledged events would be counted again.
 * Each step is tried again until it succeeds or `untilMs` have passed since the first.
 */
export async function resetControllerConsumer(nc: NatsConnection, untilMs = CONSUMER_RESET_MS): Promise<number> {
  const { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstreamManager } = loadJetstream();
  const give = Date.now() + untilMs;
  const notFound = (err: unknown) => err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;
  /** `step`, again every 500 ms while it throws, until the time is up. */
  const retried = async <T>(step: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await step();
      } catch (cause) {
        if (Date.now() >= give) throw new NatsError(`cannot create consumer ${CONTROLLER_DURABLE}`, { cause });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };
  const jsm = await retried(() => jetstreamManager(nc));
  // the floor is read once: a later step that fails is tried again with it (the consumer may be
  // deleted by then, and a consumer that does not exist would mean "from the beginning")
  const floor = await retried(async () => {
    try {
      return handledFloor(await jsm.consumers.info(EVENTS_STREAM, CONTROLLER_DURABLE));
    } catch (err) {
      if (notFound(err)) return 0; // no consumer yet: a first start reads the stream from its beginning
      throw err;
    }
  });
  await retried(async () => {
    try {
      await jsm.consumers.delete(EVENTS_STREAM, CONTROLLER_DURABLE);
    } catch (err) {
      if (!notFound(err)) throw err;
    }
  });
  await retried(() =>
    jsm.consumers.add(EVENTS_STREAM, {
      durable_name: CONTROLLER_DURABLE,
      // cumulative acks: the controller handles events in order and acknowledges in batches
      ack_policy: AckPolicy.All,
      ...(floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : { deliver_policy: DeliverPolicy.All }),
      ack_wait: 30 * 1_000_000_000,
      max_ack_pending: 10_000,
    }),
  );
  return floor;
}

/** Where a replay of acknowledged events starts: at a time, or right after a stream sequence. */
export type ReplayStart = { readonly sinceMs: number } | { readonly afterSeq: number };

/**
 * Messages already acknowledged by the durable consumer (up to `ackFloor`) from `start` on, in
 * order: the failures a restarted controller counts again to rebuild its windows (younger than the
 * longest findtime, or after those its snapshot holds).
 */
export async function* replayAcked(nc: NatsConnection, ackFloor: number, start: ReplayStart): AsyncGenerator<JsMsg> {
  if (ackFloor <= 0 || ('afterSeq' in start && start.afterSeq >= ackFloor)) return;
  const { DeliverPolicy, jetstreamManager } = loadJetstream();
  // whether there is anything to replay is asked of the stream's leader, not of the consumer: an
  // ordered consumer is placed on any replica, and one that lags (a node just lost) counts only
  // what it holds so far. The acknowledged floor is there unless it aged out, with all before it;
  // the stream's times follow its sequence, so it is the newest event that may be replayed.
  let floorEvent;
  try {
    floorEvent = await (await jetstreamManager(nc)).streams.getMessage(EVENTS_STREAM, { seq: ackFloor });
  } catch (cause) {
    throw new NatsError(`cannot read event ${ackFloor} of stream ${EVENTS_STREAM}`, { cause });
  }
  if (!floorEvent || ('sinceMs' in start && floorEvent.time.getTime() < start.sinceMs)) return;
  const js = jetstream(nc);
  const consumer = await orderedConsumer(
    js,
    EVENTS_STREAM,
    'afterSeq' in start
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.afterSeq + 1 }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(start.sinceMs).toISOString() },
    `the replay of stream ${EVENTS_STREAM}`,
  );
  // one ordered consumer, read in large batches (not one request per message), up to the floor
  // (a replica that lags delivers it once it has it); one that stalls (seen on a cluster that lost
  // the stream's leader) is given up: the start fails and is tried again, rather than going on
  // with windows that miss what was not replayed
  const messages = await consumer.consume({ max_messages: 10_000 });
  const watchdog = new PassWatchdog(() => messages.stop());
  try {
    for await (const m of messages) {
      watchdog.touch();
      if (m.seq > ackFloor) return;
      watchdog.hold();
      yield m;
      watchdog.touch();
      if (m.seq === ackFloor) return;
    }
    throw new NatsError(watchdog.stalled ? `the replay of stream ${EVENTS_STREAM} stalled: nothing came for ${PASS_STALL_MS / 1000} s` : `the replay of stream ${EVENTS_STREAM} ended before its last acknowledged event`);
  } finally {
    watchdog.clear();
    messages.stop();
  }
}

/** What {@link handledFloor} reads of a consumer's info. */
export interface ConsumerFloorInfo {
  readonly ack_floor: { readonly consumer_seq: number; readonly stream_seq: number };
  readonly config: { readonly deliver_policy?: string; readonly opt_start_seq?: number };
}

/**
 * The stream sequence every message up to which the controller has handled: the consumer's ack
 * floor, or, before the consumer has acknowledged anything, the sequence before the one it was
 * made to start at. nats-server reports an ack floor of 0 for a consumer that has acknowledged
 * nothing yet, whatever its start: read as it is, a controller restarted twice with no event in
 * between took every event of the stream for unhandled (its snapshot refused, the whole stream
 * consumed anew).
 */
export function handledFloor(info: ConsumerFloorInfo): number {
  if (info.ack_floor.consumer_seq > 0) return info.ack_floor.stream_seq;
  const c = info.config;
  return c.deliver_policy === 'by_start_sequence' && (c.opt_start_seq ?? 0) > 0 ? (c.opt_start_seq as number) - 1 : info.ack_floor.stream_seq;
}

/** The durable consumer's acknowledged floor now (0 when it does not exist): see {@link handledFloor}. */
export async function controllerAckFloor(nc: NatsConnection): Promise<number> {
  const { jetstreamManager } = loadJetstream();
  try {
    return handledFloor(await (await jetstreamManager(nc)).consumers.info(EVENTS_STREAM, CONTROLLER_DURABLE));
  } catch (cause) {
    if (String((cause as Error)?.message).includes('consumer not found')) return 0;
    throw new NatsError(`cannot read consumer ${CONTROLLER_DURABLE}`, { cause });
  }
}

/** The durable pull consumer the controller reads events with. */
export async function controllerConsumer(nc: NatsConnection) {
  return jetstream(nc).consumers.get(EVENTS_STREAM, CONTROLLER_DURABLE);
}

/** Publishes one failure through `publisher`; the stream de-duplicates by event id within two minutes. */
export function sendFailure(publisher: StreamPublisher, e: FailureEvent): Promise<void> {
  return publisher.publish(eventSubject(e.host, e.jail), encodeFailure(e), e.id);
}

/** Publishes one failure to the stream; JetStream de-duplicates by event id within two minutes. */
export async function publishFailure(js: JetStreamClient, e: FailureEvent): Promise<void> {
  await js.publish(eventSubject(e.host, e.jail), encodeFailure(e), { msgID: e.id, timeout: 2000 });
}
