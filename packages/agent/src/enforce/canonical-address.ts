/**
 * Recognises a single address already written the way `parseNetwork` (`@fleetban/shared`) would
 * write it: dotted IPv4 without leading zeros, RFC 5952 IPv6. The controller sends ban targets
 * in that form, so the bulk of a ban list is checked here by one scan of its characters and
 * skips the general parser (bigint arithmetic, a million IPv6 targets: about 2 s).
 */
import { type Family, v4Of } from '@fleetban/shared';

/**
 * The family of `text` when it is one address in canonical form, else `null` (anything else:
 * a CIDR, upper case, leading zeros, an uncompressed or wrongly compressed zero run, an embedded
 * or mapped IPv4, a zone, spaces, or no address at all; the caller then uses the general parser).
 * Never says 4 or 6 for a text the general parser would write differently.
 */
export function plainAddressFamily(text: string): Family | null {
  if (text.includes(':')) return canonicalV6(text) ? 6 : null;
  return v4Of(text) >= 0 ? 4 : null; // a canonical dotted quad (no leading zeros, each part up to 255)
}

/** Groups of the address being checked (one scratch array: no allocation per address). */
const groups = new Array<number>(8).fill(0);

/**
 * True when `s` is an IPv6 address in RFC 5952 form (lower-case hex, no leading zeros, the first
 * longest run of two or more zero groups written `::`) and not IPv4-mapped (`::ffff:a:b` is
 * folded to IPv4 by the parser). One scan, no allocation: the groups are read as numbers, and
 * `::` must stand for the run the parser would compress.
 */
export function canonicalV6(s: string): boolean {
  if (s.length < 2 || s.length > 39) return false;
  let n = 0; // groups read
  let gap = -1; // groups read before the `::`, -1 = none
  let value = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) {
      const double = i + 1 < s.length && s.charCodeAt(i + 1) === 58;
      if (digits > 0) {
        if (n === 8) return false;
        groups[n++] = value;
      } else if (!(double && i === 0)) return false; // an empty group other than a leading `::`
      if (!double && i + 1 === s.length) return false; // a trailing lone `:`
      value = 0;
      digits = 0;
      if (double) {
        if (gap >= 0) return false; // a second `::`
        gap = n;
        i++;
      }
      continue;
    }
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0 || digits === 4) return false; // not lower-case hex (a dot, a zone, ...), or too long
    if (digits > 0 && value === 0) return false; // a leading zero
    value = value * 16 + d;
    digits++;
  }
  if (digits > 0) {
    if (n === 8) return false;
    groups[n++] = value;
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  if (gap >= 0) {
    // the groups after `::` go to the end, zeros in between
    const tail = n - gap;
    for (let i = tail - 1; i >= 0; i--) groups[8 - tail + i] = groups[gap + i]!;
    for (let i = gap; i < 8 - tail; i++) groups[i] = 0;
  }
  // ::ffff:a:b is an IPv4 address to the parser
  if (groups[5] === 0xffff && groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0) return false;
  // `::` must stand for exactly the first longest run of two or more zero groups, or be absent
  const [best, bestLen] = longestZeros(groups);
  return gap < 0 ? best < 0 : best === gap && bestLen === 8 - n;
}

/** Start and length of the first longest run of two or more zero groups; -1 and 0 when none. */
function longestZeros(g: readonly number[]): [number, number] {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  return [best, bestLen];
}
