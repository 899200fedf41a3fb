import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsError } from '../errors.js';
import type { IgnoreEntry } from '../model/admin.js';
import { decodeIgnoreEntry, encodeIgnoreEntry } from '../proto/codec.js';
import { banKey, IGNORE_BUCKET } from '../subjects.js';
import { openBucket } from './kv-manager.js';
import { decodedValues } from './kv-tail.js';
import { madeInTime } from './made-in-time.js';
import type { CreateOptions } from './replicas.js';

/** What a follower of the ignore list is told. */
export interface IgnoreListWatch {
  /** An entry added (or written again). */
  onPut(e: IgnoreEntry): void;
  /** The entry of `key` removed. */
  onDelete(key: string): void;
  /** A value that does not decode (skipped). */
  onMalformed(key: string, cause: unknown): void;
}

/**
 * The fleet's ignore list (`fleetban ignore add|del|list`): a JetStream KV bucket, key = the
 * network's {@link banKey}, value = the encoded {@link IgnoreEntry}. The controller creates it
 * (with `[controller] replicas` copies, like its other buckets), writes it on the admin's request,
 * and follows it, so that a change applies at once and survives restarts.
 */
export class IgnoreList {
  private constructor(private readonly kv: KV) {}

  /** Opens the bucket; with `create` (the controller) it is created when missing, with `opts`' replica count. */
  static async open(nc: NatsConnection, create = true, opts?: CreateOptions): Promise<IgnoreList> {
    return new IgnoreList(await openBucket(nc, IGNORE_BUCKET, { ...opts, create }));
  }

  /** The KV key of an entry's network. */
  static keyOf(network: string): string {
    return banKey(network);
  }

  /** Stores an entry (replacing one of the same network). */
  async put(e: IgnoreEntry): Promise<void> {
    try {
      await this.kv.put(banKey(e.network), encodeIgnoreEntry(e));
    } catch (cause) {
      throw new NatsError(`cannot write ${e.network} to KV bucket ${IGNORE_BUCKET}`, { cause });
    }
  }

  /** Removes a network's entry (purged: the bucket does not grow with removed keys). */
  async remove(network: string): Promise<void> {
    try {
      await this.kv.purge(banKey(network));
    } catch (cause) {
      throw new NatsError(`cannot remove ${network} from KV bucket ${IGNORE_BUCKET}`, { cause });
    }
  }

  /**
   * Every entry stored when called, in one pass that gives up when it stalls ({@link decodedValues}:
   * listing the keys could wait for good on a cluster that lost the bucket's leader); a value that
   * does not decode is passed to `onMalformed` and skipped.
   */
  async all(onMalformed: (key: string, cause: unknown) => void): Promise<IgnoreEntry[]> {
    const out: IgnoreEntry[] = [];
    for await (const e of decodedValues(this.kv, IGNORE_BUCKET, decodeIgnoreEntry, onMalformed)) out.push(e);
    return out;
  }

  /**
   * Follows the list's changes from now on, until `stop()`. Start it before reading the current
   * entries with {@link all}: a change made meanwhile is then told, never missed (a follower keyed
   * by network lets what the watch told win over what `all` read).
   */
  async watch(w: IgnoreListWatch): Promise<{ stop(): void }> {
    const { KvWatchInclude } = await import('@nats-io/kv');
    const iter = await madeInTime(() => this.kv.watch({ include: KvWatchInclude.UpdatesOnly }), `the watch of KV bucket ${IGNORE_BUCKET}`, (late) => late.stop());
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') {
          w.onDelete(e.key);
          continue;
        }
        try {
          w.onPut(decodeIgnoreEntry(e.value));
        } catch (cause) {
          w.onMalformed(e.key, cause);
        }
      }
    })();
    return { stop: () => iter.stop() };
  }
}
