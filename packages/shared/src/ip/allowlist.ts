import { type Address, hostNetwork, type Network, networkContains, networksOverlap, parseNetwork, tryParseAddress } from './address.js';

/** A set of networks (ignoreip); lookups are linear, lists are short. */
export class Allowlist {
  readonly #nets: Network[];
  /** The IPv4 entries, in order, as 32-bit numbers (for {@link overlappingV4}). */
  readonly #v4: ReadonlyArray<{ readonly base: number; readonly mask: number; readonly net: Network }>;
  constructor(entries: Iterable<string | Network>) {
    this.#nets = [...entries].map((e) => (typeof e === 'string' ? parseNetwork(e) : e));
    this.#v4 = this.#nets.filter((n) => n.family === 4).map((net) => ({ base: Number(net.base), mask: net.bits === 0 ? 0 : (0xffffffff << (32 - net.bits)) >>> 0, net }));
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
  /**
   * {@link overlapping} for one IPv4 address given as its 32-bit value: the first entry holding
   * it, or null. No parsing and no BigInt: the controller asks this for every failure.
   */
  overlappingV4(v: number): Network | null {
    const v4 = this.#v4;
    for (let i = 0; i < v4.length; i++) {
      const e = v4[i] as (typeof v4)[number];
      if ((v & e.mask) >>> 0 === e.base) return e.net;
    }
    return null;
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
