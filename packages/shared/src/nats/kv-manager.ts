import type { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * The KV client on `nc`, for the bucket wrappers of this folder. The KV library is imported here,
 * when a bucket is first opened, not with this module: only the daemons open buckets, while every
 * importer of the shared door would pay for loading it.
 */
export async function kvManager(nc: NatsConnection): Promise<Kvm> {
  const { Kvm } = await import('@nats-io/kv');
  return new Kvm(nc);
}
