/**
 * A set element: the form a ban takes inside a firewall set. Bans are normalised here once
 * (canonical target text, family, port scope, expiry in whole kernel seconds), so backends and
 * the reconcile plan compare like with like.
 */
import { parseNetwork, type Family } from '@fleetban/shared';
import { plainAddressFamily } from './canonical-address.js';
import type { BanEntry } from './enforcer.js';
import type { PortProtocol, PortScope } from './port-scope.js';
import type { ElementOp } from './reconcile.js';
import { stringHash } from './target-set.js';

/** The destination ports of a scoped element: one protocol, one range. */
export interface ElementPort {
  readonly proto: PortProtocol;
  readonly from: number;
  readonly to: number;
}

/** One element of a ban set. */
export interface SetElement {
  /**
   * Identity of the element across all of a backend's sets: the target for a whole-address ban
   * (`192.0.2.7`, `198.51.100.0/24`), `target proto/port` for a scoped one (`192.0.2.7 tcp/22`,
   * `192.0.2.7 udp/1000-2000`).
   */
  readonly key: string;
  /** Canonical CIDR text, or `a-b` for a range that is no CIDR (only ever read from a kernel). */
  readonly target: string;
  readonly family: Family;
  /** Set for a port-scoped element. */
  readonly port?: ElementPort;
  /** Expiry in ms since the epoch; 0 = permanent. */
  readonly expiresMs: number;
}

/** How a backend's kernel keeps expiries. */
export interface ExpiryRule {
  /** Expiries closer than this (ms) count as the same: no re-add, no drift. */
  readonly toleranceMs: number;
  /** Longest timeout the kernel takes (s); a longer ban is written with this and refreshed. */
  readonly maxTimeoutS: number;
  /** An element may expire up to this much later than wanted (bulk adds are spread); default 0. */
  readonly spreadMs?: number;
}

/** Expiries closer than this (ms) count as the same: no re-add, no drift. */
export const DEFAULT_TOLERANCE_MS = 5000;

/** Longest kernel timeout fleetban asks nft for: 3650 days. */
export const MAX_TIMEOUT_S = 3650 * 86_400;

/** The element key of `target` with an optional port. */
export function elementKey(target: string, port?: ElementPort): string {
  if (!port) return target;
  return `${target} ${port.proto}/${port.from === port.to ? port.from : `${port.from}-${port.to}`}`;
}

/**
 * The one element of an unscoped ban (the whole address or network) at `nowMs`: `null` when it
 * has already expired. Throws ParseError when the target is not an address or CIDR.
 */
export function toSetElement(entry: BanEntry, nowMs: number): SetElement | null {
  if (entry.expiresMs !== 0 && entry.expiresMs <= nowMs) return null;
  // the controller's canonical text skips the general parser (see canonical-address.ts)
  const plain = plainAddressFamily(entry.target);
  const expiresMs = wholeSeconds(entry.expiresMs, nowMs);
  if (plain !== null) return { key: entry.target, target: entry.target, family: plain, expiresMs };
  const net = parseNetwork(entry.target);
  return { key: net.text, target: net.text, family: net.family, expiresMs };
}

/**
 * The elements for `entry` at `nowMs` (`scope` = its jail's ports, `null` for the whole
 * address): `[]` when it has already expired. `singlePorts` splits port ranges into one element
 * per port (for sets that hold no ranges, e.g. ipset hash:net,port). Throws ParseError when the
 * target is not an address or CIDR.
 */
export function toSetElements(entry: BanEntry, scope: PortScope | null, nowMs: number, singlePorts = false): SetElement[] {
  if (!scope) {
    const el = toSetElement(entry, nowMs);
    return el ? [el] : [];
  }
  if (entry.expiresMs !== 0 && entry.expiresMs <= nowMs) return [];
  const plain = plainAddressFamily(entry.target);
  const net = plain === null ? parseNetwork(entry.target) : { text: entry.target, family: plain };
  const base = { target: net.text, family: net.family, expiresMs: wholeSeconds(entry.expiresMs, nowMs) };
  const out: SetElement[] = [];
  for (const proto of scope.protocols) {
    for (const r of scope.ports) {
      const ranges = singlePorts ? Array.from({ length: r.to - r.from + 1 }, (_, i) => ({ from: r.from + i, to: r.from + i })) : [r];
      for (const { from, to } of ranges) {
        const port = { proto, from, to };
        out.push({ ...base, key: elementKey(net.text, port), port });
      }
    }
  }
  return out;
}

/** `expiresMs` (0 = permanent) rounded up to whole seconds from `nowMs`, one second at least. */
function wholeSeconds(expiresMs: number, nowMs: number): number {
  return expiresMs === 0 ? 0 : nowMs + Math.max(1, Math.ceil((expiresMs - nowMs) / 1000)) * 1000;
}

/** Canonical text of an unbanned target (every element of that target goes). Throws ParseError. */
export function unbanTarget(target: string): string {
  return parseNetwork(target).text;
}

/** Whole seconds the kernel is asked for (at least 1, at most `maxTimeoutS`), `null` = permanent. */
export function timeoutSeconds(expiresMs: number, nowMs: number, maxTimeoutS = MAX_TIMEOUT_S): number | null {
  if (expiresMs === 0) return null;
  return Math.min(maxTimeoutS, Math.max(1, Math.ceil((expiresMs - nowMs) / 1000)));
}

/** The expiry the kernel will hold for `el` written at `nowMs` (capped at `maxTimeoutS`). */
export function kernelExpiry(el: SetElement, nowMs: number, maxTimeoutS: number): SetElement {
  const s = timeoutSeconds(el.expiresMs, nowMs, maxTimeoutS);
  if (s === null) return el;
  const expiresMs = nowMs + s * 1000;
  // within the second the kernel rounds to: kept as it is (no copy per element of a bulk batch)
  return Math.abs(expiresMs - el.expiresMs) < 1000 ? el : { ...el, expiresMs };
}

/** True when both are permanent, or both expire within `toleranceMs` of each other. */
export function sameExpiry(a: number, b: number, toleranceMs: number): boolean {
  if (a === 0 || b === 0) return a === b;
  return Math.abs(a - b) <= toleranceMs;
}

/**
 * True when an element expiring at `have` serves a ban wanted until `want`: the same expiry
 * within the tolerance (or up to `spreadMs` later: a spread bulk add), or, for a ban longer than
 * the kernel's longest timeout, a capped element with at least half of that longest timeout left
 * (it is refreshed after that).
 */
export function satisfies(have: number, want: number, nowMs: number, rule: ExpiryRule): boolean {
  if (want === 0 || have === 0) return want === have;
  const later = rule.toleranceMs + (rule.spreadMs ?? 0);
  const capMs = rule.maxTimeoutS * 1000;
  if (want - nowMs > capMs - rule.toleranceMs) return have - nowMs >= capMs / 2 && have <= want + later;
  return have >= want - rule.toleranceMs && have <= want + later;
}

/** Adds in one batch from which their expiries are spread (see {@link spreadExpiry}). */
export const SPREAD_FROM = 100;

/**
 * `el` expiring up to `spreadMs` later (and at most a tenth of its remaining time later), in
 * whole seconds, by an offset picked from its key: a bulk import of bans with one expiry does
 * not expire in one second. Never earlier; permanent elements are left alone.
 */
export function spreadExpiry(el: SetElement, nowMs: number, spreadMs: number): SetElement {
  if (el.expiresMs === 0) return el;
  const maxS = Math.floor(Math.min(spreadMs, (el.expiresMs - nowMs) / 10) / 1000);
  if (maxS <= 0) return el;
  const expiresMs = el.expiresMs + (stringHash(el.key) % (maxS + 1)) * 1000;
  // a literal of the same shape as toSetElement's (no object spread: one hidden class for the bulk)
  if (!el.port) return { key: el.key, target: el.target, family: el.family, expiresMs };
  return { key: el.key, target: el.target, family: el.family, port: el.port, expiresMs };
}

/**
 * Spreads the expiries of the adds and replaces of `ops` (see {@link spreadExpiry}) when there
 * are at least {@link SPREAD_FROM} of them; `spreadMs` 0 = never. Rewrites `ops` in place: they
 * must be a fresh plan (planOps makes new operation objects), so a bulk batch is not copied.
 */
export function spreadOps(ops: ElementOp[], nowMs: number, spreadMs: number): ElementOp[] {
  if (spreadMs <= 0) return ops;
  let adds = 0;
  for (let i = 0; i < ops.length && adds < SPREAD_FROM; i++) if (ops[i]!.kind !== 'delete') adds++;
  if (adds < SPREAD_FROM) return ops;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.kind === 'delete') continue;
    const el = spreadExpiry(op.el, nowMs, spreadMs);
    // the plan's own operation objects: re-pointed, not copied (a million fewer objects)
    if (el !== op.el) (op as { el: SetElement }).el = el;
  }
  return ops;
}

/** True when the element is still in force at `nowMs`. */
export function isLive(el: SetElement, nowMs: number): boolean {
  return el.expiresMs === 0 || el.expiresMs > nowMs;
}
