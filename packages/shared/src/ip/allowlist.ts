import { type Address, hostNetwork, type Network, networkContains, networksOverlap, parseNetwork, tryParseAddress } from './address.js';

/** A set of networks (ignoreip); lookups are linear, lists are short. */
export class Allowlist {
  readonly #nets: Network[];
  constructor(entries: Iterable<string | Network>) {
    this.#nets = [...entries].map((e) => (typeof e === 'string' ? parseNetwork(e) : e));
  }
  /** True when the address (text or parsed) is inside any network of the list. */
  has(addr: string | Address): boolean {
    const a = typeof addr === 'string' ? tryParseAddress(addr) : addr;
    if (!a) return false;
    return this.#nets.some((n) => networkContains(n, a));
  }
  /** The first entry that shares an address with `net` (a ban of `net` would cover it), or null. */
  overlapping(net: Network | Address): Network | null {
    const n = 'bits' in net ? net : hostNetwork(net);
    return this.#nets.find((x) => networksOverlap(x, n)) ?? null;
  }
  /** The list's entries as canonical text. */
  entries(): string[] {
    return this.#nets.map((n) => n.text);
  }
  /** Number of entries. */
  get size(): number {
    return this.#nets.length;
  }
}
