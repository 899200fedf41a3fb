/**
 * Which failregexes of a filter may match a text, by its first code unit: a failregex anchored at
 * the start of the text (fail2ban's `^Failed`, `^Invalid`, `^Connection`) can only match texts
 * starting with one of its first characters (see pyre/prefilter.ts), so on a line usually one or
 * two of a filter's twenty-odd failregexes run. Cached per code unit.
 */

import type { FilterRegex } from './fail-regex.js';

/** The failregexes a text may match, by its first code unit. */
export class FirstCharIndex {
  private readonly masks: Uint8Array[] = [];
  private readonly otherMasks = new Map<number, Uint8Array>();
  private readonly lists: Int32Array[] = [];
  private emptyList: Int32Array | undefined;

  constructor(private readonly fail: readonly FilterRegex[]) {}

  /** Per failregex, 1 when it may match a text starting with code unit `c` (NaN: the empty text; -1: any). */
  mask(c: number): Uint8Array {
    let may = c >= 0 && c < 128 ? this.masks[c] : this.otherMasks.get(c);
    if (may === undefined) {
      may = Uint8Array.from(this.fail, (r) => (c < 0 || r.mayStartWith(c) ? 1 : 0));
      if (c >= 0 && c < 128) this.masks[c] = may;
      else if (this.otherMasks.size < 4096) this.otherMasks.set(c, may);
    }
    return may;
  }

  /** The indices, in order, of the failregexes that may match a text starting with code unit `c`. */
  candidates(c: number): Int32Array {
    if (Number.isNaN(c)) return (this.emptyList ??= this.listOf(c));
    if (c < 0 || c >= 128) return this.listOf(c);
    return (this.lists[c] ??= this.listOf(c));
  }

  private listOf(c: number): Int32Array {
    const may = this.mask(c);
    return Int32Array.from(may.keys()).filter((i) => may[i] === 1);
  }
}
