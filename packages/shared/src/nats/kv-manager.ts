import type { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream } from './events-stream.js';

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
