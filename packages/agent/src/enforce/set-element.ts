/**
 * A set element: the form a ban takes inside a firewall set. Bans are normalised here once
 * (canonical target text, family, expiry rounded to whole kernel seconds), so backends and the
 * reconcile plan compare like with like.
 */
import { parseNetwork, type Family } from '@fleetban/shared';
import type { BanEntry } from './enforcer.js';

/** One element of a ban set. */
export interface SetElement {
  /** Canonical CIDR text (`192.0.2.7`, `198.51.100.0/24`), or `a-b` for a range that is no CIDR. */
  readonly key: string;
  readonly family: Family;
  /** Expiry in ms since the epoch; 0 = permanent. */
  readonly expiresMs: number;
}

/** Expiries closer than this (ms) count as the same: no re-add, no drift. */
export const DEFAULT_TOLERANCE_MS = 5000;

/** Longest kernel timeout fleetban asks for: 3650 days. Longer bans are refreshed by reconcile. */
export const MAX_TIMEOUT_S = 3650 * 86_400;

/**
 * The element for `entry` at `nowMs`: `null` when it has already expired. The expiry is moved to
 * the whole second the kernel will use (at least 1 s ahead, at most {@link MAX_TIMEOUT_S}).
 * Throws ParseError when the target is not an address or CIDR.
 */
export function toSetElement(entry: BanEntry, nowMs: number): SetElement | null {
  const net = parseNetwork(entry.target);
  if (entry.expiresMs === 0) return { key: net.text, family: net.family, expiresMs: 0 };
  if (entry.expiresMs <= nowMs) return null;
  const seconds = Math.min(MAX_TIMEOUT_S, Math.max(1, Math.ceil((entry.expiresMs - nowMs) / 1000)));
  return { key: net.text, family: net.family, expiresMs: nowMs + seconds * 1000 };
}

/** The element to delete for an unbanned target (its expiry does not matter). Throws ParseError. */
export function unbanElement(target: string): SetElement {
  const net = parseNetwork(target);
  return { key: net.text, family: net.family, expiresMs: 0 };
}

/** Whole seconds left until `expiresMs` (at least 1), or `null` for a permanent element. */
export function timeoutSeconds(expiresMs: number, nowMs: number): number | null {
  if (expiresMs === 0) return null;
  return Math.min(MAX_TIMEOUT_S, Math.max(1, Math.ceil((expiresMs - nowMs) / 1000)));
}

/** True when both are permanent, or both expire within `toleranceMs` of each other. */
export function sameExpiry(a: number, b: number, toleranceMs: number): boolean {
  if (a === 0 || b === 0) return a === b;
  return Math.abs(a - b) <= toleranceMs;
}

/** True when the element is still in force at `nowMs`. */
export function isLive(el: SetElement, nowMs: number): boolean {
  return el.expiresMs === 0 || el.expiresMs > nowMs;
}
