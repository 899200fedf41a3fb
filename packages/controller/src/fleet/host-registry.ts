import type { Heartbeat, HostStatus } from '@fleetban/shared';
import { Allowlist } from '@fleetban/shared';

/**
 * The fleet's hosts as known from their heartbeats. A host's own addresses are never banned:
 * {@link HostRegistry.isFleetAddress} is consulted before every decision.
 */
export class HostRegistry {
  readonly #hosts = new Map<string, HostStatus>();
  #addresses = new Allowlist([]);

  /** Records a heartbeat. */
  record(h: Heartbeat, receivedMs: number): void {
    const before = this.#hosts.get(h.host)?.addresses.join(' ');
    this.#hosts.set(h.host, { ...h, lastHeartbeatMs: receivedMs });
    if (before !== h.addresses.join(' ')) this.#addresses = new Allowlist([...this.#hosts.values()].flatMap((x) => x.addresses));
  }

  /** True when `ip` belongs to a host of the fleet. */
  isFleetAddress(ip: string): boolean {
    return this.#addresses.has(ip);
  }

  /** Every host, sorted by name. */
  list(): HostStatus[] {
    return [...this.#hosts.values()].sort((a, b) => a.host.localeCompare(b.host));
  }
}
