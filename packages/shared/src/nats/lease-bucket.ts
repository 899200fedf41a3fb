import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { anyCause, NatsError } from '../errors.js';
import { LEASE_BUCKET } from '../subjects.js';
import { openBucket } from './kv-manager.js';
import type { CreateOptions } from './replicas.js';

/** The key whose holder is the active controller. */
const ACTIVE = 'active';

/** The lease key as read: who holds it and the revision to compare against. */
export interface LeaseEntry {
  readonly holder: string;
  readonly revision: number;
}

/**
 * The controllers' lease: one KV key whose value names the active controller. Taking and renewing
 * it are compare-and-set writes on the key's revision, so of several controllers exactly one
 * holds it; the others watch the revision (controller/lease/ decides when it is stale).
 */
export class LeaseBucket {
  private constructor(private readonly kv: KV) {}

  /** Opens (creating if needed, with `opts`' replica count) the lease bucket. */
  static async open(nc: NatsConnection, opts?: CreateOptions): Promise<LeaseBucket> {
    return new LeaseBucket(await openBucket(nc, LEASE_BUCKET, { ...opts, create: true }));
  }

  /** The current holder, or null when nobody holds the lease (never taken, or released). */
  async read(): Promise<LeaseEntry | null> {
    const e = await this.kv.get(ACTIVE);
    if (!e || e.operation !== 'PUT') return null;
    return { holder: e.string(), revision: e.revision };
  }

  /** Takes a free lease; the new revision, or null when someone holds it. */
  async take(holder: string): Promise<number | null> {
    try {
      return await this.kv.create(ACTIVE, holder);
    } catch {
      return null;
    }
  }

  /** Rewrites the lease if it is still at `revision`; the new revision, or null when it moved on. */
  async swap(holder: string, revision: number): Promise<number | null> {
    try {
      return await this.kv.update(ACTIVE, holder, revision);
    } catch (err) {
      if (isWrongRevision(err)) return null;
      throw new NatsError('cannot write the controller lease', { cause: err });
    }
  }

  /** Gives the lease up if it is still at `revision` (a clean stop: a standby takes over at once). */
  async release(revision: number): Promise<void> {
    await this.kv.delete(ACTIVE, { previousSeq: revision }).catch(() => undefined);
  }
}

/** A compare-and-set refused by the server (JetStream error 10071, wrong last sequence). */
function isWrongRevision(err: unknown): boolean {
  return anyCause(err, (e) => e.code === 10071);
}
