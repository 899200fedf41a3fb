import type { KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsError } from '../errors.js';
import { jetstream } from './events-stream.js';
import { createBucket, type CreateOptions } from './replicas.js';

/**
 * The KV client on `nc`, for the bucket wrappers of this folder. The KV library is imported here,
 * when a bucket is first opened, not with this module: only the daemons open buckets, while every
 * importer of the shared door would pay for loading it. `timeoutMs` is the JetStream API's
 * (default: the connection's, 5 s).
 */
export async function kvManager(nc: NatsConnection, timeoutMs?: number): Promise<Kvm> {
  const { Kvm } = await import('@nats-io/kv');
  return new Kvm(timeoutMs === undefined ? nc : jetstream(nc, { timeout: timeoutMs }));
}

/** How {@link openBucket} opens a bucket. */
export interface OpenBucketOptions extends CreateOptions {
  /** Create it when missing (the controller); without, it must exist (agents may not create streams). */
  readonly create: boolean;
  /** JetStream API timeout; default the connection's. */
  readonly apiTimeoutMs?: number;
  /** Added to the error of a failed open (`not created by the controller yet?`). */
  readonly hint?: string;
}

/**
 * Opens the KV bucket `name`: created with history 1 and the replica count asked when `create`,
 * else opened and checked with a status request (so a missing bucket fails here, not at the first
 * watch). A failure becomes {@link NatsError} naming the bucket.
 */
export async function openBucket(nc: NatsConnection, name: string, opts: OpenBucketOptions): Promise<KV> {
  try {
    const kvm = await kvManager(nc, opts.apiTimeoutMs);
    if (opts.create) return await createBucket(kvm, name, opts);
    const kv = await kvm.open(name);
    await kv.status();
    return kv;
  } catch (cause) {
    throw new NatsError(`cannot open KV bucket ${name}${opts.hint ? ` ${opts.hint}` : ''}`, { cause });
  }
}
