import { type Address, type Network, networkContains, parseNetwork, tryParseAddress } from './address.js';

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
  /** The list's entries as canonical text. */
  entries(): string[] {
    return this.#nets.map((n) => n.text);
  }
}
