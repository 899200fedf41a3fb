/**
 * Python `re` → JavaScript RegExp, once, when a filter is loaded. See parse.ts for the syntax
 * accepted and emit.ts for how Python's meaning is kept.
 */

import { emitJavaScript } from './emit.js';
import { type ParseOptions, parsePython } from './parse.js';
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
}

/** Options of {@link translatePython}. */
export interface TranslateOptions extends ParseOptions {
  /** Add the `g` flag (to search from `lastIndex`). */
  readonly global?: boolean;
  /** Add the `d` flag (match indices of groups). */
  readonly indices?: boolean;
}

/**
 * Translates and compiles a Python regular expression. Throws {@link RegexSyntaxError} naming the
 * construct when the pattern is invalid or cannot be expressed in JavaScript.
 */
export function translatePython(python: string, opts: TranslateOptions = {}): PyRegex {
  const parsed = parsePython(python, opts);
  const out = emitJavaScript(parsed);
  let re: RegExp;
  try {
    re = new RegExp(out.source, `${opts.global ? 'g' : ''}${opts.indices ? 'd' : ''}${out.flags}`);
  } catch (cause) {
    const text = String((cause as Error).message);
    throw new RegexSyntaxError(`the JavaScript translation does not compile (${text.slice(text.lastIndexOf(': ') + 2)})`, python, 0, { cause });
  }
  const names = new Map<string, number>();
  for (const [name, py] of parsed.names) names.set(name, out.groupIndex[py] as number);
  return { re, python, groupCount: parsed.groupCount, names, groupIndex: out.groupIndex };
}
