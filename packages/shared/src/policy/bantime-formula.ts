/**
 * `bantime.formula`: a small, safe evaluator for the subset of Python expressions fail2ban users
 * write there. No `eval`, no property access beyond the fixed names: a formula is parsed once into
 * a tree and evaluated over numbers only.
 *
 * Accepted: decimal numbers; `+ - * / // % **`; unary `+ -`; `<< >>` on whole numbers;
 * comparisons `< <= > >= == !=` (chained as in Python); `and`, `or`, `not`; `a if c else b`;
 * parentheses; the names `ban.Time` (the jail's bantime in seconds), `ban.Count` (previous bans),
 * `banFactor` (bantime.factor), `True`, `False`; the functions `min`, `max`, `abs`, `float`, `int`,
 * `round`, `math.exp`, `math.log`, `math.sqrt`, `math.pow`, `math.floor`, `math.ceil`.
 */

import { ParseError } from '../errors.js';

/** fail2ban's default `bantime.formula` (jail.conf), verbatim. */
export const DEFAULT_BANTIME_FORMULA = 'ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor';

/** What a formula is evaluated over. */
export interface FormulaScope {
  /** ban.Time: the jail's bantime, in seconds. */
  readonly time: number;
  /** ban.Count: the number of previous bans. */
  readonly count: number;
  /** banFactor: bantime.factor. */
  readonly factor: number;
}

/** A parsed formula. */
export type Formula = (scope: FormulaScope) => number;

type Node = (s: FormulaScope) => number;

const NAMES: Record<string, Node> = {
  'ban.Time': (s) => s.time,
  'ban.Count': (s) => s.count,
  banFactor: (s) => s.factor,
  True: () => 1,
  False: () => 0,
};

const FUNCTIONS: Record<string, { arity: [number, number]; fn: (...a: number[]) => number }> = {
  min: { arity: [1, 64], fn: Math.min },
  max: { arity: [1, 64], fn: Math.max },
  abs: { arity: [1, 1], fn: Math.abs },
  float: { arity: [1, 1], fn: (x) => x },
  int: { arity: [1, 1], fn: Math.trunc },
  round: { arity: [1, 1], fn: Math.round },
  'math.exp': { arity: [1, 1], fn: Math.exp },
  'math.log': { arity: [1, 2], fn: (x, b) => (b === undefined ? Math.log(x) : Math.log(x) / Math.log(b)) },
  'math.sqrt': { arity: [1, 1], fn: Math.sqrt },
  'math.pow': { arity: [2, 2], fn: Math.pow },
  'math.floor': { arity: [1, 1], fn: Math.floor },
  'math.ceil': { arity: [1, 1], fn: Math.ceil },
};

/** The names and functions a formula may use, for error messages. */
export const FORMULA_VOCABULARY = `numbers, + - * / // % ** << >>, comparisons, and/or/not, "a if c else b", parentheses, ${Object.keys(NAMES).join(', ')}, ${Object.keys(FUNCTIONS).join(', ')}`;

const TOKEN = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)|(\*\*|\/\/|<<|>>|<=|>=|==|!=|[-+*/%<>(),]))/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m) throw new ParseError('bantime.formula', `${text} (at "${text.slice(pos).trim().slice(0, 20)}")`);
    out.push(m[1] ?? m[2] ?? m[3] ?? '');
    pos = TOKEN.lastIndex;
  }
  return out;
}

/** Whole-number check for the shift operators (Python refuses floats there). */
function whole(x: number): number {
  if (!Number.isInteger(x)) throw new RangeError(`shift of a non-integer ${x}`);
  return x;
}

function pyFloorDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('division by zero');
  return Math.floor(a / b);
}

function pyMod(a: number, b: number): number {
  if (b === 0) throw new RangeError('division by zero');
  return a - b * Math.floor(a / b);
}

const BINARY: Record<string, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => {
    if (b === 0) throw new RangeError('division by zero');
    return a / b;
  },
  '//': pyFloorDiv,
  '%': pyMod,
  '**': (a, b) => a ** b,
  '<<': (a, b) => whole(a) * 2 ** whole(b),
  '>>': (a, b) => Math.floor(whole(a) / 2 ** whole(b)),
};

const COMPARE: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

/** Recursive descent over Python's precedence: if-else < or < and < not < compare < shift < + < * < unary < ** < atom. */
class Parser {
  #i = 0;
  constructor(private readonly toks: string[], private readonly text: string) {}

  parse(): Node {
    if (this.toks.length === 0) this.fail('an expression');
    const n = this.conditional();
    if (this.#i < this.toks.length) this.fail('the end of the formula');
    return n;
  }

  private peek(): string | undefined {
    return this.toks[this.#i];
  }

  private eat(tok: string): boolean {
    if (this.toks[this.#i] !== tok) return false;
    this.#i++;
    return true;
  }

  private fail(expected: string): never {
    const at = this.toks[this.#i];
    throw new ParseError('bantime.formula', `${this.text} (expected ${expected} ${at === undefined ? 'at the end' : `at "${at}"`})`);
  }

  private conditional(): Node {
    const then = this.or();
    if (!this.eat('if')) return then;
    const cond = this.or();
    if (!this.eat('else')) this.fail('"else"');
    const other = this.conditional();
    return (s) => (cond(s) !== 0 ? then(s) : other(s));
  }

  private or(): Node {
    let a = this.and();
    while (this.eat('or')) {
      const l = a;
      const r = this.and();
      a = (s) => {
        const x = l(s);
        return x !== 0 ? x : r(s);
      };
    }
    return a;
  }

  private and(): Node {
    let a = this.not();
    while (this.eat('and')) {
      const l = a;
      const r = this.not();
      a = (s) => {
        const x = l(s);
        return x === 0 ? x : r(s);
      };
    }
    return a;
  }

  private not(): Node {
    if (this.eat('not')) {
      const a = this.not();
      return (s) => (a(s) === 0 ? 1 : 0);
    }
    return this.comparison();
  }

  private comparison(): Node {
    const first = this.shift();
    const ops: ((a: number, b: number) => boolean)[] = [];
    const rest: Node[] = [];
    for (let op = this.peek(); op !== undefined && op in COMPARE; op = this.peek()) {
      this.#i++;
      ops.push(COMPARE[op] as (a: number, b: number) => boolean);
      rest.push(this.shift());
    }
    if (ops.length === 0) return first;
    return (s) => {
      let left = first(s);
      for (let k = 0; k < ops.length; k++) {
        const right = (rest[k] as Node)(s);
        if (!(ops[k] as (a: number, b: number) => boolean)(left, right)) return 0;
        left = right;
      }
      return 1;
    };
  }

  private binary(ops: readonly string[], next: () => Node): Node {
    let a = next();
    for (let op = this.peek(); op !== undefined && ops.includes(op); op = this.peek()) {
      this.#i++;
      const l = a;
      const r = next();
      const f = BINARY[op] as (a: number, b: number) => number;
      a = (s) => f(l(s), r(s));
    }
    return a;
  }

  private shift(): Node {
    return this.binary(['<<', '>>'], () => this.additive());
  }

  private additive(): Node {
    return this.binary(['+', '-'], () => this.multiplicative());
  }

  private multiplicative(): Node {
    return this.binary(['*', '/', '//', '%'], () => this.unary());
  }

  private unary(): Node {
    if (this.eat('-')) {
      const a = this.unary();
      return (s) => -a(s);
    }
    if (this.eat('+')) return this.unary();
    return this.power();
  }

  private power(): Node {
    const base = this.atom();
    if (!this.eat('**')) return base;
    const exp = this.unary(); // right-associative, binds tighter than a unary minus on its left
    return (s) => base(s) ** exp(s);
  }

  private atom(): Node {
    const tok = this.peek();
    if (tok === undefined) this.fail('a number, a name or "("');
    this.#i++;
    if (tok === '(') {
      const n = this.conditional();
      if (!this.eat(')')) this.fail('")"');
      return n;
    }
    if (/^[\d.]/.test(tok)) {
      const v = Number(tok);
      return () => v;
    }
    const fn = FUNCTIONS[tok];
    if (fn && this.eat('(')) {
      const args: Node[] = [];
      if (!this.eat(')')) {
        do args.push(this.conditional());
        while (this.eat(','));
        if (!this.eat(')')) this.fail('")"');
      }
      const [lo, hi] = fn.arity;
      if (args.length < lo || args.length > hi) {
        this.#i--;
        this.fail(`${lo === hi ? lo : `${lo} to ${hi}`} argument(s) of ${tok}`);
      }
      return (s) => fn.fn(...args.map((a) => a(s)));
    }
    const name = NAMES[tok];
    if (name) return name;
    this.#i--;
    return this.fail(`one of: ${FORMULA_VOCABULARY}`);
  }
}

/**
 * Parses a `bantime.formula`. Throws {@link ParseError} naming what was expected where. The
 * returned function throws a RangeError on division by zero or a shift of a non-integer.
 */
export function parseFormula(text: string): Formula {
  const node = new Parser(tokenize(text), text).parse();
  return (scope) => node(scope);
}

const CACHE = new Map<string, Formula>();

/** {@link parseFormula} with a cache by text (jails share one formula, evaluated per ban). */
export function compiledFormula(text: string): Formula {
  let f = CACHE.get(text);
  if (!f) {
    f = parseFormula(text);
    if (CACHE.size > 256) CACHE.clear();
    CACHE.set(text, f);
  }
  return f;
}
