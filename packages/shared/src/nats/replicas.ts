import type { KV, Kvm } from '@nats-io/kv';
import type { Logger } from '../log/logger.js';

/**
 * How the controller creates the stream and buckets it owns. Agents and the CLI open them without
 * creating and take none of this.
 */
export interface CreateOptions {
  /** Replica count of a stream or bucket created (`[controller] replicas`); default 1. */
  readonly replicas?: number;
  /** Told (warn) when an existing stream or bucket has another replica count; default: nobody. */
  readonly logger?: Logger;
}

/** The replica count `opts` asks for (1 when absent). */
export function wantedReplicas(opts: CreateOptions | undefined): number {
  return opts?.replicas ?? 1;
}

/**
 * Logs a warning when a stream or bucket has `have` replicas where `[controller] replicas` asks
 * for `want`: the fleet works on, with the redundancy the stream really has.
 */
export function warnReplicaMismatch(opts: CreateOptions | undefined, kind: 'stream' | 'bucket', name: string, have: number): void {
  const want = wantedReplicas(opts);
  if (have === want) return;
  opts?.logger?.warn({ [kind]: name, replicas: have, wanted: want }, `${kind} ${name} has ${have} replica(s), [controller] replicas asks for ${want}: left as it is`);
}

/**
 * Opens the KV bucket `name` with history 1, creating it with the replica count `opts` asks for
 * when missing; an existing bucket with another count is kept and a warning logged.
 */
export async function createBucket(kvm: Kvm, name: string, opts: CreateOptions | undefined): Promise<KV> {
  const kv = await kvm.create(name, { history: 1, replicas: wantedReplicas(opts) });
  warnReplicaMismatch(opts, 'bucket', name, (await kv.status()).replicas);
  return kv;
}
