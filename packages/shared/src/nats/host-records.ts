import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsError } from '../errors.js';
import type { HostStatus } from '../model/admin.js';
import { decodeHostStatus, encodeHostStatus } from '../proto/codec.js';
import { checkToken, HOSTS_BUCKET } from '../subjects.js';
import { kvManager } from './kv-manager.js';

/**
 * What the controller keeps of each fleet host (its last heartbeat as recorded), in a KV bucket
 * keyed by host name, so a restarted controller knows the fleet's addresses before it decides
 * anything. Only the controller reads or writes it (hosts have no permission on it).
 */
export class HostRecords {
  private constructor(private readonly kv: KV) {}

  /** Opens (creating if needed) the hosts bucket. */
  static async open(nc: NatsConnection): Promise<HostRecords> {
    try {
      return new HostRecords(await (await kvManager(nc)).create(HOSTS_BUCKET, { history: 1 }));
    } catch (cause) {
      throw new NatsError(`cannot open KV bucket ${HOSTS_BUCKET}`, { cause });
    }
  }

  /** Every record that decodes; one that does not is passed to `onMalformed` and skipped. */
  async all(onMalformed: (key: string, cause: unknown) => void): Promise<HostStatus[]> {
    const keys: string[] = [];
    for await (const k of await this.kv.keys()) keys.push(k);
    const out: HostStatus[] = [];
    for (const k of keys) {
      const e = await this.kv.get(k);
      if (!e || e.operation !== 'PUT') continue;
      try {
        out.push(decodeHostStatus(e.value));
      } catch (cause) {
        onMalformed(k, cause);
      }
    }
    return out;
  }

  /** Stores a host's record (replacing the previous one). */
  async put(h: HostStatus): Promise<void> {
    await this.kv.put(checkToken('host', h.host), encodeHostStatus(h));
  }
}
