import { Allowlist, allowlistSpace, BanGuard, type GuardLimits, type JailConfig, type ProtectedSpace } from '@fleetban/shared';
import type { HostRegistry } from '../fleet/host-registry.js';

/** What the controller's guard protects, besides special address space. */
export interface FleetGuardSources {
  /** The fleet's hosts (their addresses are read anew at every check). */
  readonly hosts: HostRegistry;
  /** Addresses of the fleet's NATS servers (resolved from `[fleetban] nats`). */
  readonly natsServers: readonly string[];
  /** The controller host's own addresses (its interfaces and `[fleetban] addresses`). */
  readonly controller: readonly string[];
  /** `[controller] ignoreip`. */
  readonly ignoreip: readonly string[];
  readonly limits: GuardLimits;
}

/**
 * The controller's guard: no ban may cover a fleet host, a NATS server, the controller, the
 * global allowlist or special space; manual bans also keep the prefix and bantime limits.
 */
export function fleetGuard(s: FleetGuardSources): BanGuard {
  return new BanGuard(
    [
      allowlistSpace('fleet-host', "a fleet host's address", () => s.hosts.addresses()),
      allowlistSpace('nats-server', "a NATS server's address", new Allowlist(s.natsServers)),
      allowlistSpace('controller', "the controller's address", new Allowlist(s.controller)),
      allowlistSpace('ignoreip', "in the controller's ignoreip", new Allowlist(s.ignoreip)),
    ],
    s.limits,
  );
}

/** Each jail's own ignoreip as a protected space, made once per jail name. */
export class JailSpaces {
  readonly #byName = new Map<string, ProtectedSpace>();

  /** The space of `jail`'s ignoreip. */
  of(jail: JailConfig): ProtectedSpace {
    let s = this.#byName.get(jail.name);
    if (!s) {
      s = allowlistSpace('jail-ignoreip', `in jail ${jail.name || 'DEFAULT'}'s ignoreip`, new Allowlist(jail.ignoreip));
      this.#byName.set(jail.name, s);
    }
    return s;
  }
}
