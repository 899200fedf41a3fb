import type { Heartbeat, HostRecords, HostStatus, Logger } from '@fleetban/shared';
import { Allowlist } from '@fleetban/shared';

/**
 * The fleet's hosts as known from their heartbeats. A host's own addresses are never banned: the
 * controller's guard reads {@link HostRegistry.addresses} before every decision. The registry is
 * durable: each host's record is written to the hosts bucket when the host is first heard or its
 * addresses change, and {@link load} reads the bucket back before a restarted controller decides
 * anything (its replay included).
 */
export class HostRegistry {
  readonly #hosts = new Map<string, HostStatus>();
  /** Hosts whose record still has to be written (a failed write is retried at the next heartbeat). */
  readonly #unsaved = new Set<string>();
  #addresses = new Allowlist([]);

  constructor(private readonly records?: HostRecords, private readonly logger?: Logger) {}

  /** Reads every stored record; returns how many hosts are known. */
  async load(): Promise<number> {
    if (!this.records) return 0;
    const stored = await this.records.all((key, err) => this.logger?.warn({ key, err }, 'malformed host record skipped'));
    for (const h of stored) this.#hosts.set(h.host, h);
    this.#rebuild();
    return this.#hosts.size;
  }

  /** Records a heartbeat (validated by the codec: a host's own addresses, bounded in number). */
  record(h: Heartbeat, receivedMs: number): void {
    const before = this.#hosts.get(h.host)?.addresses.join(' ');
    const now = h.addresses.join(' ');
    this.#hosts.set(h.host, { ...h, lastHeartbeatMs: receivedMs });
    if (before !== now) {
      this.#rebuild();
      this.#unsaved.add(h.host);
    }
    if (this.#unsaved.has(h.host)) this.#save(h.host);
  }

  /** The fleet's addresses, as one list (replaced, never changed, when a host's addresses change). */
  addresses(): Allowlist {
    return this.#addresses;
  }

  /** Every host, sorted by name. */
  list(): HostStatus[] {
    return [...this.#hosts.values()].sort((a, b) => a.host.localeCompare(b.host));
  }

  #rebuild(): void {
    this.#addresses = new Allowlist([...this.#hosts.values()].flatMap((x) => x.addresses));
  }

  #save(host: string): void {
    const h = this.#hosts.get(host);
    if (!this.records || !h) return;
    this.#unsaved.delete(host);
    this.records.put(h).then(
      () => this.logger?.info({ host, addresses: h.addresses }, 'fleet host recorded'),
      (err: unknown) => {
        this.#unsaved.add(host);
        this.logger?.error({ err, host }, 'cannot record the fleet host; retried at its next heartbeat');
      },
    );
  }
}
