/**
 * Readers of the two bantime.increment keys fail2ban evaluates as Python: `bantime.formula` and
 * `bantime.factor`. Both go through fleetban's safe evaluator (../policy/bantime-formula.ts), never
 * through `eval`; a formula is parsed and tried on load, so a bad one fails here, naming the file,
 * the key and what is accepted.
 */

import type { IniEntry } from '../f2bconf/ini-file.js';
import { FORMULA_VOCABULARY, parseFormula } from '../policy/bantime-formula.js';
import { invalidValue } from './value.js';

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;

/**
 * bantime.formula: an expression of fleetban's Python subset whose value, for a bantime of 600 s,
 * factor 1 and every ban count from 1 to 30, is a finite number. Returns the text (compiled again,
 * from a cache, where a ban needs it).
 */
export function readFormula(e: IniEntry): string {
  const expected = `a formula using only ${FORMULA_VOCABULARY} (fail2ban's default: ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor)`;
  let f;
  try {
    f = parseFormula(e.value);
  } catch (err) {
    throw invalidValue(e, expected, err);
  }
  for (let count = 1; count <= 30; count++) {
    let v: number;
    try {
      v = f({ time: 600, count, factor: 1 });
    } catch (err) {
      throw invalidValue(e, `a formula that computes a number for every ban count (ban.Count = ${count} fails: ${(err as Error).message})`, err);
    }
    if (!Number.isFinite(v)) throw invalidValue(e, `a formula that computes a finite number for every ban count (ban.Count = ${count} gives ${v})`);
  }
  return e.value;
}

/**
 * bantime.factor: a positive number, or (as fail2ban evaluates it) a constant arithmetic
 * expression such as `2.0 / 2.885385` whose value is positive.
 */
export function readFactor(e: IniEntry): number {
  const expected = 'a positive number such as 1 or 1.5, or an arithmetic expression such as 2.0 / 2.885385';
  if (DECIMAL.test(e.value)) {
    const n = Number(e.value);
    if (n > 0 && Number.isFinite(n)) return n;
    throw invalidValue(e, expected);
  }
  let n: number;
  try {
    n = parseFormula(e.value)({ time: 0, count: 0, factor: 0 });
  } catch (err) {
    throw invalidValue(e, expected, err);
  }
  if (!(n > 0 && Number.isFinite(n))) throw invalidValue(e, expected);
  return n;
}
