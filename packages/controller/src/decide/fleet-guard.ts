import { Allowlist, allowlistSpace, type BanAsk, BanGuard, type GuardLimits, type IgnoreEntry, type JailConfig, type ProtectedSpace } from '@fleetban/shared';
import type { HostRegistry } from '../fleet/host-registry.js';

/**
 * The allowlists an operator changes while the controller runs: `[controller] ignoreip` (taken
 * anew on reload) and the fleet's ignore list (`fleetban ignore`, followed from its KV bucket).
 * The guard reads them at every check, so a change applies to the next decision. An entry only
 * ever protects: it refuses bans that would cover it, and makes no ban of its own.
 */
export class Allowlists {
  #ignoreip: Allowlist;
  readonly #ignored = new Map<string, IgnoreEntry>();
  #fleet = new Allowlist([]);
  constructor(ignoreip: readonly string[]) {
    this.#ignoreip = new Allowlist(ignoreip);
  }

  /** `[controller] ignoreip`. */
  get ignoreip(): Allowlist {
    return this.#ignoreip;
  }

  /** Replaces `[controller] ignoreip` (a reload). */
  setIgnoreip(nets: readonly string[]): void {
    this.#ignoreip = new Allowlist(nets);
  }

  /** The fleet's ignore list as an allowlist. */
  get fleet(): Allowlist {
    return this.#fleet;
  }

  /** The fleet's ignore list's entries, in the order they were added. */
  ignored(): IgnoreEntry[] {
    return [...this.#ignored.values()];
  }

  /** Whether `network` (canonical) is on the fleet's ignore list. */
  isIgnored(network: string): boolean {
    return this.#ignored.has(network);
  }

  /** Adds (or replaces) an entry of the fleet's ignore list. */
  putIgnored(e: IgnoreEntry): void {
    this.#ignored.set(e.network, e);
    this.#fleet = new Allowlist([...this.#ignored.keys()]);
  }

  /** Removes an entry of the fleet's ignore list; false when it was not there. */
  deleteIgnored(network: string): boolean {
    const had = this.#ignored.delete(network);
    if (had) this.#fleet = new Allowlist([...this.#ignored.keys()]);
    return had;
  }
}

/** What the controller's guard protects, besides special address space. */
export interface FleetGuardSources {
  /** The fleet's hosts (their addresses are read anew at every check). */
  readonly hosts: HostRegistry;
  /** Addresses of the fleet's NATS servers (resolved from `[fleetban] nats`). */
  readonly natsServers: readonly string[];
  /** The controller host's own addresses (its interfaces and `[fleetban] addresses`). */
  readonly controller: readonly string[];
  /** `[controller] ignoreip` and the fleet's ignore list (read anew at every check). */
  readonly allowlists?: Allowlists;
  /** Without `allowlists`: a fixed `[controller] ignoreip` (and no fleet ignore list). */
  readonly ignoreip?: readonly string[];
  readonly limits: GuardLimits;
}

/**
 * The controller's guard: no ban may cover a fleet host, a NATS server, the controller, the
 * global allowlist (`[controller] ignoreip`), the fleet's ignore list or special space; manual
 * bans also keep the prefix and bantime limits.
 */
export function fleetGuard(s: FleetGuardSources): BanGuard {
  const lists = s.allowlists ?? new Allowlists(s.ignoreip ?? []);
  return new BanGuard(
    [
      allowlistSpace('fleet-host', "a fleet host's address", () => s.hosts.addresses()),
      allowlistSpace('nats-server', "a NATS server's address", new Allowlist(s.natsServers)),
      allowlistSpace('controller', "the controller's address", new Allowlist(s.controller)),
      allowlistSpace('ignoreip', "in the controller's ignoreip", () => lists.ignoreip),
      allowlistSpace('ignoreip', "in the fleet's ignore list (fleetban ignore)", () => lists.fleet),
    ],
    s.limits,
  );
}

/**
 * Each jail's own ignoreip as a protected space, made once per jail configuration: a jail whose
 * configuration changes (`fleetban set`, a reload) gets a space of its new ignoreip.
 */
export class JailSpaces {
  /** Each jail's space, and the guard's question with it (one object per jail, not one per failure). */
  readonly #byJail = new WeakMap<JailConfig, { readonly space: ProtectedSpace; readonly ask: BanAsk }>();

  /** What the guard is asked for a failure of `jail`. */
  askOf(jail: JailConfig): BanAsk {
    return this.#entry(jail).ask;
  }

  /** The space of `jail`'s ignoreip. */
  of(jail: JailConfig): ProtectedSpace {
    return this.#entry(jail).space;
  }

  #entry(jail: JailConfig): { readonly space: ProtectedSpace; readonly ask: BanAsk } {
    let e = this.#byJail.get(jail);
    if (!e) {
      const space = allowlistSpace('jail-ignoreip', `in jail ${jail.name || 'DEFAULT'}'s ignoreip`, new Allowlist(jail.ignoreip));
      this.#byJail.set(jail, (e = { space, ask: { extra: [space] } }));
    }
    return e;
  }
}
