/**
 * The 32-bit hashes fleetban's own tables share (open addressing in typed arrays: a window's
 * addresses, the seen events' keys, the agent's element view). Not cryptographic; a table that
 * must resist chosen keys seeds them.
 */

/** FNV-1a of a string's UTF-16 code units, from `basis` (FNV's offset basis unless a seed is mixed in). */
export function fnv1a(key: string, basis = 0x811c9dc5): number {
  let h = basis;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** murmur3's 32-bit finaliser: every input bit reaches every output bit. */
export function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
