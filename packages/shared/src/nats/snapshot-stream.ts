import { createHash, randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { DecodeError, NatsError } from '../errors.js';
import { SNAPSHOT_HEAD_SUBJECT, SNAPSHOT_PART_SUBJECT, SNAPSHOT_STREAM } from '../subjects.js';
import { jetstream, loadJetstream } from './events-stream.js';
import { orderedConsumer } from './made-in-time.js';
import { type CreateOptions, wantedReplicas, warnReplicaMismatch } from './replicas.js';

/** Bytes of one part: well under NATS' default max_payload (1 MiB). */
export const SNAPSHOT_PART_BYTES = 512 * 1024;

/** Parts published before their acknowledgements are awaited. */
const PARTS_IN_FLIGHT = 8;

/** What a snapshot's head says: which parts make it, and what the writer said of it (`meta`). */
export interface SnapshotHead {
  readonly id: string;
  /** Stream sequence of the first part; every part of this snapshot is at or after it. */
  readonly firstSeq: number;
  readonly parts: number;
  readonly bytes: number;
  /** SHA-256 of the parts' bytes in order, hex. */
  readonly sha256: string;
  /** The writer's description (small JSON: what the snapshot covers). */
  readonly meta: Readonly<Record<string, unknown>>;
}

/**
 * The stream that keeps the controller's latest snapshot: its parts on one subject, then its head
 * on another. A snapshot is whole once its head is stored; writing one purges every message
 * before its first part (the previous snapshot), so the stream holds one (two while one is
 * written). A reader takes the last head and the parts it names, and checks their digest: a part
 * lost or mixed with another writer's makes the read fail, never a wrong snapshot. JetStream's
 * object store does the same with a digest computed in JavaScript, several times slower here.
 */
export class SnapshotStream {
  private constructor(private readonly nc: NatsConnection) {}

  /** Opens the stream, creating it (file storage, `opts`' replica count) when missing. */
  static async open(nc: NatsConnection, opts?: CreateOptions): Promise<SnapshotStream> {
    const { jetstreamManager, RetentionPolicy, StorageType, DiscardPolicy } = loadJetstream();
    try {
      const jsm = await jetstreamManager(nc);
      const config = {
        name: SNAPSHOT_STREAM,
        subjects: [SNAPSHOT_HEAD_SUBJECT, SNAPSHOT_PART_SUBJECT],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        num_replicas: wantedReplicas(opts),
      };
      let replicas: number;
      try {
        replicas = (await jsm.streams.info(SNAPSHOT_STREAM)).config.num_replicas;
      } catch {
        replicas = (await jsm.streams.add(config)).config.num_replicas;
      }
      warnReplicaMismatch(opts, 'stream', SNAPSHOT_STREAM, replicas);
    } catch (cause) {
      throw new NatsError(`cannot create stream ${SNAPSHOT_STREAM}`, { cause });
    }
    return new SnapshotStream(nc);
  }

  /** The latest whole snapshot's head, or null when none was written (or it does not decode). */
  async head(): Promise<SnapshotHead | null> {
    const { jetstreamManager } = loadJetstream();
    let data: Uint8Array;
    try {
      const jsm = await jetstreamManager(this.nc);
      const m = await jsm.streams.getMessage(SNAPSHOT_STREAM, { last_by_subj: SNAPSHOT_HEAD_SUBJECT });
      if (!m) return null;
      data = m.data;
    } catch (cause) {
      throw new NatsError(`cannot read the head of stream ${SNAPSHOT_STREAM}`, { cause });
    }
    return decodeHead(data);
  }

  /**
   * Stores `parts` (each at most {@link SNAPSHOT_PART_BYTES}) then their head with `meta`, then
   * purges the snapshots before it; returns the head. Throws {@link NatsError} when a write fails
   * (the previous snapshot stays the latest).
   */
  async write(parts: AsyncIterable<Uint8Array>, meta: Record<string, unknown>): Promise<SnapshotHead> {
    const js = jetstream(this.nc);
    const { jetstreamManager } = loadJetstream();
    const sha = createHash('sha256');
    let firstSeq = 0;
    let count = 0;
    let bytes = 0;
    const inFlight: Promise<unknown>[] = [];
    try {
      for await (const part of parts) {
        sha.update(part);
        bytes += part.length;
        const ack = js.publish(SNAPSHOT_PART_SUBJECT, part, { timeout: 10_000 });
        if (count++ === 0) firstSeq = (await ack).seq;
        else inFlight.push(ack);
        if (inFlight.length >= PARTS_IN_FLIGHT) await Promise.all(inFlight.splice(0));
      }
      await Promise.all(inFlight);
      const head: SnapshotHead = { id: randomBytes(8).toString('hex'), firstSeq, parts: count, bytes, sha256: sha.digest('hex'), meta };
      await js.publish(SNAPSHOT_HEAD_SUBJECT, new TextEncoder().encode(JSON.stringify(head)), { timeout: 10_000 });
      // the previous snapshots: their parts, and every head but this one (a purge by sequence alone
      // with nothing before it empties nats-server 2.9's stream)
      const jsm = await jetstreamManager(this.nc);
      if (firstSeq > 1) await jsm.streams.purge(SNAPSHOT_STREAM, { filter: SNAPSHOT_PART_SUBJECT, seq: firstSeq });
      await jsm.streams.purge(SNAPSHOT_STREAM, { filter: SNAPSHOT_HEAD_SUBJECT, keep: 1 });
      return head;
    } catch (cause) {
      await Promise.allSettled(inFlight);
      throw new NatsError(`cannot write a snapshot to stream ${SNAPSHOT_STREAM}`, { cause });
    }
  }

  /**
   * The parts of the snapshot `head` names, in order, as they arrive (a reader decodes while the
   * rest comes). Throws, after the last part, {@link DecodeError} when they are not what the head
   * says (purged by a newer snapshot meanwhile, or damaged): a reader uses nothing it decoded
   * before the pass ends. Throws {@link NatsError} when they cannot be read.
   */
  async *parts(head: SnapshotHead): AsyncGenerator<Uint8Array> {
    if (head.parts === 0) return;
    const { DeliverPolicy } = loadJetstream();
    const sha = createHash('sha256');
    let count = 0;
    let bytes = 0;
    let messages;
    try {
      const consumer = await orderedConsumer(
        jetstream(this.nc),
        SNAPSHOT_STREAM,
        { filter_subjects: SNAPSHOT_PART_SUBJECT, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: head.firstSeq },
        `the read of snapshot ${head.id}`,
      );
      messages = await consumer.consume({ max_messages: 64 });
    } catch (cause) {
      throw new NatsError(`cannot read snapshot ${head.id} from stream ${SNAPSHOT_STREAM}`, { cause });
    }
    try {
      for await (const m of messages) {
        sha.update(m.data);
        count++;
        bytes += m.data.length;
        yield m.data;
        if (count === head.parts || m.info.pending === 0) break;
      }
    } finally {
      messages.stop();
    }
    if (count !== head.parts || bytes !== head.bytes || sha.digest('hex') !== head.sha256) {
      throw new DecodeError(`snapshot ${head.id} in stream ${SNAPSHOT_STREAM} is not whole (${count} of ${head.parts} parts, ${bytes} of ${head.bytes} bytes, or another digest)`);
    }
  }
}

function decodeHead(data: Uint8Array): SnapshotHead | null {
  let h: unknown;
  try {
    h = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return null;
  }
  if (typeof h !== 'object' || h === null) return null;
  const o = h as Record<string, unknown>;
  const n = (k: string) => typeof o[k] === 'number' && Number.isSafeInteger(o[k]) && (o[k] as number) >= 0;
  if (typeof o.id !== 'string' || !n('firstSeq') || !n('parts') || !n('bytes') || typeof o.sha256 !== 'string') return null;
  if (typeof o.meta !== 'object' || o.meta === null) return null;
  return h as SnapshotHead;
}
