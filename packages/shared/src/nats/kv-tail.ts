import type { KV } from '@nats-io/kv';
import { NatsError } from '../errors.js';

/** Where a bucket stands: its last revision, and when its stream was made (a bucket made anew starts over). */
export interface BucketPosition {
  readonly revision: number;
  readonly created: string;
}

/** One key's latest state as {@link readSince} yields it. */
export interface KvChange {
  readonly key: string;
  readonly revision: number;
  /** PUT, or DEL / PURGE (the key is gone). */
  readonly operation: 'PUT' | 'DEL' | 'PURGE';
  readonly value: Uint8Array;
}

/** The bucket's {@link BucketPosition}; throws {@link NatsError} naming `bucket`. */
export async function bucketPosition(kv: KV, bucket: string): Promise<BucketPosition> {
  try {
    const info = (await kv.status()).streamInfo;
    return { revision: info.state.last_seq, created: info.created };
  } catch (cause) {
    throw new NatsError(`cannot read the state of KV bucket ${bucket}`, { cause });
  }
}

/**
 * In one pass (one ordered consumer, the kind a host may create), the latest state of every key
 * changed after revision `after`, in revision order, up to the bucket's last revision when called;
 * with `after` 0, every key's current value. Deleted and purged keys come as such (their markers),
 * except in the pass from 0, where only values are yielded. A key changed several times comes
 * once (history 1 keeps the last). Throws {@link NatsError} naming `bucket` when it cannot be read
 * or the connection ends the pass before its end.
 */
export async function* readSince(kv: KV, bucket: string, after: number): AsyncGenerator<KvChange> {
  let iter: Awaited<ReturnType<KV['watch']>>;
  let last: number;
  try {
    const state = (await kv.status()).streamInfo.state;
    last = state.last_seq;
    // nothing after `after`: a watch would never deliver the entry that ends the pass
    if (last <= after || (after === 0 && state.messages === 0)) return;
    iter = await kv.watch(after > 0 ? { resumeFromRevision: after + 1 } : {});
  } catch (cause) {
    throw new NatsError(`cannot read KV bucket ${bucket}`, { cause });
  }
  try {
    // entries come in stream order; one seen again (the client recreates its consumer after a gap,
    // from the last sequence it saw) is skipped
    let seen = after;
    for await (const e of iter) {
      if (e.revision <= seen) continue;
      seen = e.revision;
      if (after === 0 && e.operation !== 'PUT') continue;
      yield { key: e.key, revision: e.revision, operation: e.operation, value: e.value };
      if (e.revision >= last || e.delta === 0) return;
    }
    throw new NatsError(`the read of KV bucket ${bucket} ended before its last entry (connection closed?)`);
  } finally {
    iter.stop();
  }
}
