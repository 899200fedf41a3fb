import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { NatsError } from '../errors.js';
import type { HostStatus } from '../model/admin.js';
import { decodeHostStatus, encodeHostStatus } from '../proto/codec.js';
import { checkToken, HOSTS_BUCKET } from '../subjects.js';
import { openBucket } from './kv-manager.js';
import { decodedValues } from './kv-tail.js';
import { madeInTime } from './made-in-time.js';
import type { CreateOptions } from './replicas.js';

/**
 * What the controller keeps of each fleet host (its last heartbeat as recorded), in a KV bucket
 * keyed by host name, so a restarted controller knows the fleet's addresses before it decides
 * anything. The controller writes it; agents may read and follow it (hostPermissions), so that
 * each host never bans another fleet host either, even while the controller is away.
 */
export class HostRecords {
  private constructor(private readonly kv: KV) {}

  /**
   * Opens the hosts bucket; with `create` (the controller) it is created when missing, without
   * (agents, who may not create streams) it must exist already. `opts` (the controller's) sets the
   * replica count of a bucket created.
   */
  static async open(nc: NatsConnection, create = true, opts?: CreateOptions): Promise<HostRecords> {
    return new HostRecords(await openBucket(nc, HOSTS_BUCKET, { ...opts, create }));
  }

  /**
   * Follows every record: the current ones, then each change, until `stop()`. A record that does
   * not decode is passed to `onMalformed` and skipped; a record deleted (a host forgotten, `fleetban
   * hosts --forget`) is passed to `onDeleted` with its host name, also when the deletion is what the
   * bucket holds when the watch begins.
   */
  async watch(
    onRecord: (h: HostStatus) => void,
    onMalformed: (key: string, cause: unknown) => void,
    onDeleted: (host: string) => void = () => undefined,
  ): Promise<{ stop(): void }> {
    const iter = await madeInTime(() => this.kv.watch(), `the watch of KV bucket ${HOSTS_BUCKET}`, (late) => late.stop());
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') {
          onDeleted(e.key);
          continue;
        }
        try {
          onRecord(decodeHostStatus(e.value));
        } catch (cause) {
          onMalformed(e.key, cause);
        }
      }
    })();
    return { stop: () => iter.stop() };
  }

  /**
   * Every record that decodes; one that does not is passed to `onMalformed` and skipped. Read in
   * one pass that gives up when it stalls ({@link decodedValues}): listing the keys could wait for good
   * on a cluster that lost the bucket's leader (a standby taking over never became ready).
   */
  async all(onMalformed: (key: string, cause: unknown) => void): Promise<HostStatus[]> {
    const out: HostStatus[] = [];
    for await (const h of decodedValues(this.kv, HOSTS_BUCKET, decodeHostStatus, onMalformed)) out.push(h);
    return out;
  }

  /** Stores a host's record (replacing the previous one). */
  async put(h: HostStatus): Promise<void> {
    await this.kv.put(checkToken('host', h.host), encodeHostStatus(h));
  }

  /**
   * Deletes a host's record (a delete marker stays, so every watcher, one that starts later
   * included, learns that the host is gone).
   */
  async delete(host: string): Promise<void> {
    checkToken('host', host);
    try {
      await this.kv.delete(host);
    } catch (cause) {
      throw new NatsError(`cannot delete the record of host ${host} from ${HOSTS_BUCKET}`, { cause });
    }
  }
}
