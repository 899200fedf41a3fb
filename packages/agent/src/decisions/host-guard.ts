import { Allowlist, allowlistSpace, BanGuard, type Clock } from '@fleetban/shared';

const NONE = new Allowlist([]);

/** What a host's guard protects, besides special address space. */
export interface HostGuardSources {
  /** This host's own addresses (its interfaces and `[fleetban] addresses`), read again every `refreshMs`. */
  readonly own: () => readonly string[];
  /** Addresses of the NATS servers this host talks to (resolved from `[fleetban] nats`). */
  readonly natsServers: readonly string[];
  /** The other fleet hosts' addresses (decisions/fleet-addresses.ts); default none. */
  readonly fleet?: () => Allowlist;
  readonly clock: Clock;
  /** How long the own addresses are cached, in ms; default 10 s. */
  readonly refreshMs?: number;
}

/**
 * The host's own guard, applied before its firewall to every ban, whoever made it: a ban that
 * would cover this host's own addresses, its NATS servers or special space is never enforced,
 * so neither a compromised controller nor an admin's typo can cut this host off; nor does it ban,
 * on its own, an address of another fleet host.
 */
export function hostGuard(s: HostGuardSources): BanGuard {
  const refreshMs = s.refreshMs ?? 10_000;
  let own = new Allowlist(s.own());
  let readAt = s.clock();
  const current = (): Allowlist => {
    const now = s.clock();
    if (now - readAt >= refreshMs) {
      own = new Allowlist(s.own());
      readAt = now;
    }
    return own;
  };
  return new BanGuard([
    allowlistSpace('own-address', "this host's own address", current),
    allowlistSpace('nats-server', "this host's NATS server", new Allowlist(s.natsServers)),
    allowlistSpace('fleet-host', "a fleet host's address", s.fleet ?? (() => NONE)),
  ]);
}
