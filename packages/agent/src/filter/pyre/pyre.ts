/**
 * Python `re` → JavaScript RegExp, once, when a filter is loaded. See parse.ts for the syntax
 * accepted and emit.ts for how Python's meaning is kept.
 */

import { emitJavaScript } from './emit.js';
import { type ParseOptions, parsePython } from './parse.js';
import { groupEndsMatch, groupStartsMatch, type Prefilter, prefilterOf } from './prefilter.js';
import { RegexSyntaxError } from './regex-error.js';

export { RegexSyntaxError } from './regex-error.js';

/** A translated, compiled pattern. */
export interface PyRegex {
  /** The compiled JavaScript RegExp (flags `u`, maybe `i`; plus `g`/`d` when asked for). */
  readonly re: RegExp;
  /** The Python source it came from. */
  readonly python: string;
  /** Number of Python capturing groups. */
  readonly groupCount: number;
  /** Python group name → JS capture index (use on `re.exec(...)[index]`). */
  readonly names: ReadonlyMap<string, number>;
  /** Python group index (1-based) → JS capture index. */
  readonly groupIndex: Int32Array;
  /** A cheap test that rules out texts the pattern cannot match (see prefilter.ts), when it has one. */
  readonly prefilter: Prefilter | undefined;
  /** Group 1 always takes part and ends where the match ends (its span needs no `d` flag). */
  readonly group1EndsMatch: boolean;
  /** JS capture indices of the groups that always take part and end where the match ends. */
  readonly endGroups: ReadonlySet<number>;
  /** JS capture indices of the groups that always take part and start where the match starts. */
  readonly startGroups: ReadonlySet<number>;
}

/** Options of {@link translatePython}. */
export interface TranslateOptions extends ParseOptions {
  /** Add the `g` flag (to search from `lastIndex`). */
  readonly global?: boolean;
  /**
   * Add the `d` flag (match indices of groups); `'group1'`: only when group 1's span cannot be
   * told from the match without it (see {@link PyRegex.group1EndsMatch}).
   */
  readonly indices?: boolean | 'group1';
}

/**
 * Translates and compiles a Python regular expression. Throws {@link RegexSyntaxError} naming the
 * construct when the pattern is invalid or cannot be expressed in JavaScript.
 */
export function translatePython(python: string, opts: TranslateOptions = {}): PyRegex {
  const parsed = parsePython(python, opts);
  const out = emitJavaScript(parsed);
  const group1EndsMatch = parsed.groupCount >= 1 && groupEndsMatch(parsed, 1);
  const indices = opts.indices === 'group1' ? !group1EndsMatch : (opts.indices ?? false);
  let re: RegExp;
  try {
    re = new RegExp(out.source, `${opts.global ? 'g' : ''}${indices ? 'd' : ''}${out.flags}`);
  } catch (cause) {
    const text = String((cause as Error).message);
    throw new RegexSyntaxError(`the JavaScript translation does not compile (${text.slice(text.lastIndexOf(': ') + 2)})`, python, 0, { cause });
  }
  const names = new Map<string, number>();
  for (const [name, py] of parsed.names) names.set(name, out.groupIndex[py] as number);
  const endGroups = new Set<number>();
  const startGroups = new Set<number>();
  for (let g = 1; g <= parsed.groupCount; g++) {
    if (groupEndsMatch(parsed, g)) endGroups.add(out.groupIndex[g] as number);
    if (groupStartsMatch(parsed, g)) startGroups.add(out.groupIndex[g] as number);
  }
  return { re, python, groupCount: parsed.groupCount, names, groupIndex: out.groupIndex, prefilter: prefilterOf(parsed), group1EndsMatch, endGroups, startGroups };
}
