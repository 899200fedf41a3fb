import { createRequire } from 'node:module';
import type { Consumer } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { BanEvent } from '../actions/types.js';
import type { BanDecision } from '../model/ban.js';
import { DecodeError, NatsError } from '../errors.js';
import { checkToken } from '../subjects.js';
import { jetstream } from './events-stream.js';
import { type CreateOptions, wantedReplicas, warnReplicaMismatch } from './replicas.js';
import type { StreamPublisher } from './stream-publisher.js';

/** JetStream stream that queues the deliveries of controller-site actions. */
export const ACTIONS_STREAM = 'FLEETBAN_ACTIONS';
/** Subjects the actions stream captures: `fleetban.actions.<jail>.<action index>`. */
export const ACTIONS_WILDCARD = 'fleetban.actions.>';
/** How long the stream remembers a message id: a failover re-publishing within it is dropped. */
export const ACTIONS_DUPLICATE_WINDOW_MS = 15 * 60_000;
/** How long an undelivered action waits in the stream before it is dropped; default 7 days. */
export const ACTIONS_MAX_AGE_MS = 7 * 24 * 3_600_000;
/** Header naming the action a message is for (its index may name another after a config change). */
export const ACTION_HEADER = 'Fleetban-Action';

let jetstreamModule: typeof import('@nats-io/jetstream') | undefined;
function loadJetstream(): typeof import('@nats-io/jetstream') {
  return (jetstreamModule ??= createRequire(import.meta.url)('@nats-io/jetstream') as typeof import('@nats-io/jetstream'));
}

/** Subject of the deliveries of jail `jail`'s action number `index` (0-based, in config order). */
export function actionSubject(jail: string, index: number): string {
  return `fleetban.actions.${checkToken('jail', jail)}.${index}`;
}

/** The durable consumer delivering jail `jail`'s action number `index`. */
export function actionDurable(jail: string, index: number): string {
  return `action_${checkToken('jail', jail)}_${index}`;
}

/** The message id of `e`'s delivery to the action `action`: the stream stores it once. */
export function actionMsgId(action: string, e: BanEvent): string {
  return `${action}:${e.id}`;
}

const UTF8_OUT = new TextEncoder();
const UTF8_IN = new TextDecoder();

/** A ban event as a queued message (JSON: the queue is fleetban's own, read by the controller only). */
export function encodeBanEvent(e: BanEvent): Uint8Array {
  return UTF8_OUT.encode(JSON.stringify(e));
}

/** Reads a queued ban event back; throws {@link DecodeError} when it is not one. */
export function decodeBanEvent(data: Uint8Array): BanEvent {
  let v: unknown;
  try {
    v = JSON.parse(UTF8_IN.decode(data));
  } catch (cause) {
    throw new DecodeError('ban event: not JSON', { cause });
  }
  const o = v as Partial<BanEvent> & { ban?: Partial<BanDecision> };
  const ok =
    typeof o === 'object' && o !== null &&
    (o.kind === 'ban' || o.kind === 'unban') &&
    typeof o.id === 'string' && typeof o.atMs === 'number' &&
    (o.why === undefined || o.why === 'expired' || o.why === 'admin') &&
    typeof o.ban === 'object' && o.ban !== null && typeof o.ban.ip === 'string' && typeof o.ban.jail === 'string' &&
    typeof o.ban.atMs === 'number' && typeof o.ban.expiresMs === 'number' && Array.isArray(o.ban.hosts) && Array.isArray(o.ban.scope) && Array.isArray(o.ban.matches);
  if (!ok) throw new DecodeError('ban event: missing or malformed fields');
  return o as BanEvent;
}

/**
 * Makes sure the actions stream exists (idempotent): work-queue retention (a delivery leaves the
 * stream once acknowledged), file storage, `opts`' replica count, a duplicate window of
 * {@link ACTIONS_DUPLICATE_WINDOW_MS} and a max age of `maxAgeMs`. An existing stream whose
 * replica count the server will not change keeps its count (a warning is logged).
 */
export async function ensureActionsStream(nc: NatsConnection, opts?: CreateOptions, maxAgeMs = ACTIONS_MAX_AGE_MS): Promise<void> {
  const { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } = loadJetstream();
  try {
    const jsm = await jetstreamManager(nc);
    const config = {
      name: ACTIONS_STREAM,
      subjects: [ACTIONS_WILDCARD],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: maxAgeMs * 1_000_000,
      duplicate_window: ACTIONS_DUPLICATE_WINDOW_MS * 1_000_000,
      num_replicas: wantedReplicas(opts),
    };
    let existing: number | undefined;
    try {
      existing = (await jsm.streams.info(ACTIONS_STREAM)).config.num_replicas;
    } catch {
      await jsm.streams.add(config);
    }
    if (existing !== undefined) {
      let info;
      try {
        info = await jsm.streams.update(ACTIONS_STREAM, config);
      } catch (err) {
        if (existing === config.num_replicas) throw err;
        opts?.logger?.warn({ stream: ACTIONS_STREAM, err }, 'the server refused to change the actions stream\'s replica count');
        info = await jsm.streams.update(ACTIONS_STREAM, { ...config, num_replicas: existing });
      }
      warnReplicaMismatch(opts, 'stream', ACTIONS_STREAM, info.config.num_replicas);
    }
  } catch (cause) {
    throw new NatsError(`cannot create stream ${ACTIONS_STREAM}`, { cause });
  }
}

/**
 * Queues `e` for jail `jail`'s action number `index`, named `action`, through `publisher`;
 * resolves once the stream holds it. The same event for the same action is stored once within
 * the duplicate window, however often it is published.
 */
export function queueAction(publisher: StreamPublisher, jail: string, index: number, action: string, e: BanEvent): Promise<void> {
  return publisher.publish(actionSubject(jail, index), encodeBanEvent(e), actionMsgId(action, e), { [ACTION_HEADER]: action });
}

/**
 * Creates the durable consumer of jail `jail`'s action `index` and returns it; `anew` (a start)
 * deletes the one there first, so what a controller that stopped held unacknowledged comes at
 * once to the next one instead of after the ack wait; without it an existing consumer is kept
 * (one found gone while running is made again, never taken from another). Explicit acks;
 * `ackWaitMs` bounds one delivery attempt.
 */
export async function actionConsumer(nc: NatsConnection, jail: string, index: number, ackWaitMs: number, anew = true): Promise<Consumer> {
  const { AckPolicy, DeliverPolicy, jetstreamManager } = loadJetstream();
  const durable = actionDurable(jail, index);
  try {
    const jsm = await jetstreamManager(nc);
    if (anew) await jsm.consumers.delete(ACTIONS_STREAM, durable).catch(() => undefined);
    await jsm.consumers.add(ACTIONS_STREAM, {
      durable_name: durable,
      filter_subject: actionSubject(jail, index),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ackWaitMs * 1_000_000,
      max_deliver: -1,
      max_ack_pending: 1_000,
    });
    return await jetstream(nc).consumers.get(ACTIONS_STREAM, durable);
  } catch (cause) {
    throw new NatsError(`cannot create consumer ${durable}`, { cause });
  }
}

/** Messages still queued in the actions stream (not yet delivered or given up). */
export async function queuedActions(nc: NatsConnection): Promise<number> {
  const jsm = await loadJetstream().jetstreamManager(nc);
  return (await jsm.streams.info(ACTIONS_STREAM)).state.messages;
}
