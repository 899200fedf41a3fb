import type { Heartbeat, HostRecords, HostStatus, Logger } from '@fleetban/shared';
import { Allowlist, FleetbanError } from '@fleetban/shared';

/** The shortest time since a host's last heartbeat after which it may be forgotten without `force`. */
export const FORGET_AFTER_MIN_MS = 60_000;

/**
 * How old a host's last heartbeat must be before `fleetban hosts --forget` forgets it without
 * `--force`: three heartbeat intervals (`[agent] heartbeat` of the controller's configuration,
 * default 5 s), and never less than {@link FORGET_AFTER_MIN_MS}. A host heard more recently may
 * well be alive, and would come back with its next heartbeat anyway.
 */
export function forgetAfterMs(heartbeatMs: number): number {
  return Math.max(FORGET_AFTER_MIN_MS, 3 * heartbeatMs);
}

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

  /**
   * Forgets a host (`fleetban hosts --forget`): deletes its record from the hosts bucket (agents
   * following the bucket drop its addresses too), then its entry here, so its addresses are no
   * longer protected. Refused, changing nothing, for a host not known (`HOST_UNKNOWN`) and, unless
   * `force`, for one whose last heartbeat is younger than `afterMs` (`HOST_RECENT`). A host that
   * is still running comes back with its next heartbeat: revoke its key first. Returns the record
   * forgotten.
   */
  async forget(host: string, nowMs: number, opts: { afterMs: number; force: boolean }): Promise<HostStatus> {
    const h = this.#hosts.get(host);
    if (!h) throw new FleetbanError('HOST_UNKNOWN', `no fleet host named ${host} (fleetban hosts lists them)`);
    const ageMs = Math.max(0, nowMs - h.lastHeartbeatMs);
    if (!opts.force && ageMs < opts.afterMs) {
      throw new FleetbanError(
        'HOST_RECENT',
        `${host} sent a heartbeat ${Math.round(ageMs / 1000)}s ago and may still be running: stop its agent and revoke its key ` +
          `(fleetban enroll --remove ${host}), then forget it once its last heartbeat is ${Math.round(opts.afterMs / 1000)}s old, or now with --force`,
      );
    }
    await this.records?.delete(host);
    this.#hosts.delete(host);
    this.#unsaved.delete(host);
    this.#rebuild();
    return h;
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
