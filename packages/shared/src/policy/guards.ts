/**
 * Lockout guards, written once: the addresses no ban may cover, and the limits a ban must keep.
 * Every door that makes or applies a ban asks a {@link BanGuard}: the controller's threshold
 * decisions, manual bans and the ban store that writes the list; each agent before its firewall
 * (fleet bans and its own local bans). Pure and synchronous.
 */
import { Allowlist } from '../ip/allowlist.js';
import { type Network, parseNetwork } from '../ip/address.js';
import { v4Of } from '../ip/v4-number.js';
import { formatDuration, PERMANENT } from '../time/duration.js';

/** Why a ban was refused: one stable code per kind. */
export type RefusalCode =
  /** loopback, link-local, unspecified, multicast or broadcast space */
  | 'special-address'
  /** an address of a fleet host (from its heartbeats, kept durable by the controller) */
  | 'fleet-host'
  /** an address of one of the fleet's NATS servers */
  | 'nats-server'
  /** an address of the controller's own host */
  | 'controller'
  /** an address of the host that enforces (an agent's own guard) */
  | 'own-address'
  /** the global allowlist (`[controller] ignoreip`) */
  | 'ignoreip'
  /** the jail's `ignoreip` */
  | 'jail-ignoreip'
  /** a prefix shorter than the configured minimum, without force */
  | 'too-broad'
  /** a bantime above the configured maximum */
  | 'bantime-too-long';

/** A refused ban: what was asked, what it would have covered, and a sentence for people. */
export interface Refusal {
  readonly code: RefusalCode;
  readonly target: string;
  /** The protected network (or limit) the target ran into. */
  readonly covers: string;
  readonly reason: string;
}

/** Addresses no ban may cover, as one named space. */
export interface ProtectedSpace {
  readonly code: RefusalCode;
  /** What the space is, for the refusal's sentence ("a fleet host's address"). */
  readonly label: string;
  /** The first protected network that shares an address with `net`, or null. */
  overlapping(net: Network): { readonly text: string; readonly note?: string } | null;
  /** The same for one IPv4 address given as its 32-bit value (no parsing, no BigInt). */
  overlappingV4(v: number): { readonly text: string; readonly note?: string } | null;
}

/** A space made of an allowlist (fixed, or read anew at every check from `current`). */
export function allowlistSpace(code: RefusalCode, label: string, current: Allowlist | (() => Allowlist)): ProtectedSpace {
  const list = typeof current === 'function' ? current : () => current;
  return { code, label, overlapping: (net) => list().overlapping(net), overlappingV4: (v) => list().overlappingV4(v) };
}

const SPECIAL: readonly (readonly [string, string])[] = [
  ['0.0.0.0/8', 'unspecified'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
];

/** Loopback, link-local, unspecified, multicast and broadcast space: never banned, by anyone. */
export const SPECIAL_SPACE: ProtectedSpace = (() => {
  const nets = SPECIAL.map(([n, note]) => ({ net: parseNetwork(n), note }));
  const list = new Allowlist(nets.map((x) => x.net));
  /** The hit with what it is for. */
  const noted = (hit: Network | null) => (hit ? { text: hit.text, note: nets.find((x) => x.net.text === hit.text)?.note } : null);
  return {
    code: 'special-address',
    label: 'special address space',
    overlapping: (net: Network) => noted(list.overlapping(net)),
    overlappingV4: (v: number) => noted(list.overlappingV4(v)),
  };
})();

/** Limits a manual ban must keep (threshold bans are clamped to them instead). */
export interface GuardLimits {
  /** IPv4 prefixes shorter than this need force; default 16. */
  readonly minPrefixV4: number;
  /** IPv6 prefixes shorter than this need force; default 32. */
  readonly minPrefixV6: number;
  /** Longest finite bantime in ms; 0 = no limit. Permanent bans (-1) are allowed. */
  readonly maxBantimeMs: number;
}

/** No prefix or bantime limits: only the protected spaces (an agent's guard). */
export const NO_LIMITS: GuardLimits = { minPrefixV4: 0, minPrefixV6: 0, maxBantimeMs: 0 };

/** What a ban asks besides its target. */
export interface BanAsk {
  /** The operator said `--force`: a prefix shorter than the minimum is accepted (nothing else is). */
  readonly force?: boolean;
  /** The ban's duration in ms (-1 = permanent); unchecked when absent. */
  readonly bantimeMs?: number;
  /** Spaces of this ban only (the jail's ignoreip). */
  readonly extra?: readonly ProtectedSpace[];
}

/**
 * The guard of one door: special space plus the spaces it is given, then the limits. The spaces
 * come first and are never overridden: `force` only lifts the minimum prefix.
 */
export class BanGuard {
  readonly #spaces: readonly ProtectedSpace[];
  constructor(spaces: readonly ProtectedSpace[], readonly limits: GuardLimits = NO_LIMITS) {
    this.#spaces = [SPECIAL_SPACE, ...spaces];
  }

  /** The refusal of a ban of `target` (address or CIDR, text or parsed), or null when it may be banned. */
  check(target: string | Network, ask: BanAsk = {}): Refusal | null {
    // one IPv4 address (every failure the controller counts is asked about): its 32-bit value
    // against the spaces' numbers, where parsing it and BigInt masks made about 500 bytes of
    // garbage per failure
    const v = typeof target === 'string' ? v4Of(target) : -1;
    const net = v >= 0 ? undefined : typeof target === 'string' ? parseNetwork(target) : target;
    const text = net ? net.text : (target as string);
    const refused = this.#inSpaces(this.#spaces, net, v, text) ?? (ask.extra ? this.#inSpaces(ask.extra, net, v, text) : null);
    if (refused) return refused;
    const min = net === undefined || net.family === 4 ? this.limits.minPrefixV4 : this.limits.minPrefixV6;
    if ((net ? net.bits : 32) < min && !ask.force) {
      return { code: 'too-broad', target: text, covers: `/${min}`, reason: `${text} is wider than /${min}: not banned without --force` };
    }
    return this.#bantimeRefusal(text, ask);
  }

  /** The refusal of the first of `spaces` that `net` (or, when it is undefined, the IPv4 address `v`) runs into. */
  #inSpaces(spaces: readonly ProtectedSpace[], net: Network | undefined, v: number, text: string): Refusal | null {
    for (let i = 0; i < spaces.length; i++) {
      const space = spaces[i] as ProtectedSpace;
      const hit = net ? space.overlapping(net) : space.overlappingV4(v);
      if (hit) {
        const what = hit.note ? `${hit.text} (${hit.note})` : hit.text;
        const reason = hit.text === text ? `${text} is ${space.label}` : `${text} covers ${what}, ${space.label}`;
        return { code: space.code, target: text, covers: hit.text, reason: `${reason}: not banned` };
      }
    }
    return null;
  }

  /** The refusal of a bantime longer than the limit, or null. */
  #bantimeRefusal(text: string, ask: BanAsk): Refusal | null {
    const max = this.limits.maxBantimeMs;
    if (max > 0 && ask.bantimeMs !== undefined && ask.bantimeMs !== PERMANENT && ask.bantimeMs > max) {
      return {
        code: 'bantime-too-long',
        target: text,
        covers: formatDuration(max),
        reason: `bantime ${formatDuration(ask.bantimeMs)} is longer than max_bantime ${formatDuration(max)}: not banned`,
      };
    }
    return null;
  }
}
