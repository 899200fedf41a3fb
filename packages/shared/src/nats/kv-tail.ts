import type { KV } from '@nats-io/kv';
import { performance } from 'node:perf_hooks';
import { NatsError } from '../errors.js';
import { madeInTime } from './made-in-time.js';

/** Where a bucket stands: its last revision, and when its stream was made (a bucket made anew starts over). */
export interface BucketPosition {
  readonly revision: number;
  readonly created: string;
}

/**
 * How long a pass over a bucket may go without an entry before it is given up, in ms. An ordered
 * consumer on a bucket whose leader was lost can stall for good (seen on a 3-node cluster: a
 * controller start that never ended); the caller fails and tries again, on a new consumer.
 */
export const PASS_STALL_MS = 10_000;

/**
 * Stops a pass (`stop`) when {@link touch} was not called for `ms`; {@link stalled} then tells.
 * One timer for the whole pass, not one per entry.
 */
export class PassWatchdog {
  #last = performance.now();
  #stalled = false;
  readonly #timer: NodeJS.Timeout;
  constructor(stop: () => void, ms = PASS_STALL_MS) {
    this.#timer = setInterval(() => {
      if (performance.now() - this.#last < ms) return;
      this.#stalled = true;
      clearInterval(this.#timer);
      stop();
    }, Math.min(1_000, ms));
    this.#timer.unref();
  }

  /** An entry came (or the caller asks for the next again). */
  touch(): void {
    this.#last = performance.now();
  }

  /** The caller holds an entry: its time does not count until {@link touch}. */
  hold(): void {
    this.#last = Number.POSITIVE_INFINITY;
  }

  get stalled(): boolean {
    return this.#stalled;
  }

  clear(): void {
    clearInterval(this.#timer);
  }
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
    iter = await madeInTime(() => kv.watch(after > 0 ? { resumeFromRevision: after + 1 } : {}), `the read of KV bucket ${bucket}`, (late) => late.stop());
  } catch (cause) {
    throw new NatsError(`cannot read KV bucket ${bucket}`, { cause });
  }
  const watchdog = new PassWatchdog(() => iter.stop());
  try {
    // entries come in stream order; one seen again (the client recreates its consumer after a gap,
    // from the last sequence it saw) is skipped
    let seen = after;
    for await (const e of iter) {
      watchdog.touch();
      if (e.revision <= seen) continue;
      seen = e.revision;
      // the end is the revision the leader named: a watch is placed on any replica, and one that
      // lags (a node just lost) counts nothing pending before it holds that revision
      const end = e.revision >= last;
      if (after > 0 || e.operation === 'PUT') {
        watchdog.hold();
        yield { key: e.key, revision: e.revision, operation: e.operation, value: e.value };
        watchdog.touch();
      }
      // the end is checked for every entry: the last one may be a deletion the pass from 0 skips
      if (end) return;
    }
    throw new NatsError(watchdog.stalled ? `the read of KV bucket ${bucket} stalled: nothing came for ${PASS_STALL_MS / 1000} s` : `the read of KV bucket ${bucket} ended before its last entry (connection closed?)`);
  } finally {
    watchdog.clear();
    iter.stop();
  }
}

/**
 * Every key's current value decoded by `decode`, in one pass ({@link readSince}: it gives up when
 * it stalls); a value that does not decode is passed to `onMalformed` with its key and skipped.
 */
export async function* decodedValues<T>(kv: KV, bucket: string, decode: (value: Uint8Array) => T, onMalformed: (key: string, cause: unknown) => void): AsyncGenerator<T> {
  for await (const e of readSince(kv, bucket, 0)) {
    let value: T;
    try {
      value = decode(e.value);
    } catch (cause) {
      onMalformed(e.key, cause);
      continue;
    }
    yield value;
  }
}
