/**
 * Parser for Python's `re` syntax (as of Python 3.11, str patterns): named groups `(?P<n>...)`,
 * back-references `(?P=n)` and `\1`, conditionals `(?(n)yes|no)`, inline flags (global `(?aimsx)`
 * at the start, scoped `(?i-s:...)`), atomic groups and possessive quantifiers, `{,n}`, literal
 * `{` where no quantifier is meant, `\A`, `\Z`, octal and `\x`/`\u`/`\U` escapes, verbose mode.
 * Anything Python would refuse, and the few things JavaScript cannot express (`(?L)`, `\N{...}`),
 * is a {@link RegexSyntaxError} naming the construct.
 */

import type { GroupKind, Node, ParsedPattern } from './ast.js';
import { CharParser, cp, type Flags } from './char-parser.js';

/** Options of {@link parsePython}. */
export interface ParseOptions {
  /** re.MULTILINE from the outside (fail2ban compiles multi-line failregexes with it). */
  readonly multiline?: boolean;
  /** re.IGNORECASE from the outside. */
  readonly ignoreCase?: boolean;
}

class Parser extends CharParser {
  private readonly names = new Map<string, number>();
  private globalIgnoreCase: boolean;
  private anyIgnoreCase: boolean;
  private anyCaseSensitiveScope = false;

  constructor(src: number[], opts: ParseOptions) {
    super(src, { i: opts.ignoreCase ?? false, m: opts.multiline ?? false, s: false, x: false, a: false });
    this.globalIgnoreCase = this.flags.i;
    this.anyIgnoreCase = this.flags.i;
  }

  parse(): ParsedPattern {
    this.globalFlags();
    const root = this.alternation();
    if (this.pos < this.src.length) this.fail('unbalanced parenthesis', ')');
    return {
      root,
      groupCount: this.groupCount,
      names: this.names,
      globalIgnoreCase: this.globalIgnoreCase,
      anyIgnoreCase: this.anyIgnoreCase,
      anyCaseSensitiveScope: this.anyCaseSensitiveScope,
    };
  }

  /** Leading `(?aimsux)` groups: flags for the whole pattern. */
  private globalFlags(): void {
    for (;;) {
      this.skipVerbose();
      const m = /^\(\?([aiLmsux]+)\)/.exec(this.text(this.pos, this.pos + 12));
      if (!m) return;
      const letters = m[1] as string;
      if (letters.includes('L')) this.fail('LOCALE flag is not supported (str patterns)', m[0]);
      for (const f of letters) if (f !== 'u') this.flags[f as keyof Flags] = true;
      if (this.flags.i) this.globalIgnoreCase = this.anyIgnoreCase = true;
      this.pos += m[0].length;
    }
  }

  private alternation(): Node {
    const alts: Node[] = [this.sequence()];
    while (this.peek() === '|') {
      this.pos++;
      alts.push(this.sequence());
    }
    return alts.length === 1 ? (alts[0] as Node) : { t: 'alt', alts };
  }

  private sequence(): Node {
    const items: Node[] = [];
    for (;;) {
      this.skipVerbose();
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') break;
      const at = this.pos;
      if (c === '(' && /^\(\?[aiLmsux]+\)/.test(this.text(this.pos, this.pos + 12))) {
        this.fail('global flags not at the start of the expression', this.text(at, this.src.indexOf(cp(')'), at) + 1));
      }
      const atom = this.atom();
      if (atom === null) continue;
      items.push(this.quantified(atom, at));
    }
    return items.length === 1 ? (items[0] as Node) : { t: 'seq', items };
  }

  private quantified(atom: Node, atomAt: number): Node {
    this.skipVerbose();
    const at = this.pos;
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(this.text(this.pos, this.pos + 40));
      if (!m || (m[1] === '' && m[2] === undefined)) return atom; // a literal '{', as in Python
      min = m[1] === '' ? 0 : Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min) this.fail('min repeat greater than max repeat', m[0]);
      this.pos += m[0].length - 1;
    } else return atom;
    this.pos++;
    if (atom.t === 'bol' || atom.t === 'eol' || atom.t === 'start' || atom.t === 'end' || atom.t === 'wordb') {
      this.fail('nothing to repeat', this.text(atomAt, this.pos), atomAt);
    }
    let lazy = false;
    let possessive = false;
    if (this.peek() === '?') {
      lazy = true;
      this.pos++;
    } else if (this.peek() === '+') {
      possessive = true;
      this.pos++;
    }
    this.skipVerbose();
    const n = this.peek();
    if (n === '*' || n === '+' || n === '?' || (n === '{' && /^\{\d*,?\d*\}/.test(this.text(this.pos, this.pos + 40)))) {
      this.fail('multiple repeat', this.text(at, this.pos + 1));
    }
    return { t: 'quant', body: atom, min, max, lazy, possessive };
  }

  /** One atom; null for something that matches nothing at all (a `(?#...)` comment). */
  private atom(): Node | null {
    const at = this.pos;
    const c = this.peek() as string;
    this.pos++;
    switch (c) {
      case '(':
        return this.group(at);
      case '[':
        return this.charClass(at);
      case '.':
        return { t: 'any', dotall: this.flags.s };
      case '^':
        return { t: 'bol', multiline: this.flags.m };
      case '$':
        return { t: 'eol', multiline: this.flags.m };
      case '\\':
        return this.escape(at);
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat', c, at);
      case '{':
        if (/^\{\d*,?\d*\}/.test(this.text(at, at + 40)) && !this.text(at, at + 2).startsWith('{}')) {
          return this.fail('nothing to repeat', this.text(at, this.src.indexOf(cp('}'), at) + 1), at);
        }
        return this.char(cp(c));
      default:
        return this.char(cp(c));
    }
  }

  private group(at: number): Node | null {
    if (this.peek() !== '?') return this.groupBody('cap', at, undefined);
    this.pos++;
    const rest = this.text(this.pos, this.pos + 3);
    if (rest.startsWith('P<')) {
      this.pos += 2;
      const name = this.groupName('>', at);
      if (this.names.has(name)) this.fail('redefinition of group name', `(?P<${name}>`, at);
      return this.groupBody('cap', at, name);
    }
    if (rest.startsWith('P=')) {
      this.pos += 2;
      const name = this.groupName(')', at);
      if (!this.names.has(name)) this.fail('unknown group name', `(?P=${name})`, at);
      return { t: 'backref', ref: name, ci: this.flags.i, at };
    }
    if (rest.startsWith('#')) {
      const end = this.src.indexOf(cp(')'), this.pos);
      if (end < 0) this.fail('missing ), unterminated comment', '(?#', at);
      this.pos = end + 1;
      return null;
    }
    if (rest.startsWith(':')) return this.advance(1, () => this.groupBody('nc', at));
    if (rest.startsWith('=')) return this.advance(1, () => this.groupBody('la', at));
    if (rest.startsWith('!')) return this.advance(1, () => this.groupBody('nla', at));
    if (rest.startsWith('<=')) return this.advance(2, () => this.groupBody('lb', at));
    if (rest.startsWith('<!')) return this.advance(2, () => this.groupBody('nlb', at));
    if (rest.startsWith('>')) return this.advance(1, () => this.groupBody('atomic', at));
    if (rest.startsWith('(')) return this.conditional(at);
    if (rest.startsWith('<')) this.fail('unknown extension (Python spells named groups (?P<name>...))', '(?<', at);
    return this.scopedFlags(at);
  }

  private advance<T>(n: number, then: () => T): T {
    this.pos += n;
    return then();
  }

  private groupName(end: string, at: number): string {
    const close = this.src.indexOf(cp(end), this.pos);
    if (close < 0) this.fail('missing group name terminator', this.text(at, this.pos), at);
    const name = this.text(this.pos, close);
    if (!/^[\p{L}\p{Nl}_][\p{L}\p{N}\p{Mn}\p{Mc}\p{Pc}]*$/u.test(name)) this.fail('bad character in group name', name, at);
    this.pos = close + 1;
    return name;
  }

  private groupBody(kind: GroupKind, at: number, name?: string): Node {
    let index = 0;
    if (kind === 'cap') {
      index = ++this.groupCount;
      if (name !== undefined) this.names.set(name, index);
    }
    const body = this.alternation();
    if (this.peek() !== ')') this.fail('missing ), unterminated subpattern', this.text(at, Math.min(this.pos, at + 20)), at);
    this.pos++;
    return { t: 'group', kind, index, name, body };
  }

  private conditional(at: number): Node {
    this.pos++; // the '(' after '?'
    const close = this.src.indexOf(cp(')'), this.pos);
    if (close < 0) this.fail('missing ), unterminated name', '(?(', at);
    const id = this.text(this.pos, close);
    let ref: number | string;
    if (/^\d+$/.test(id)) ref = Number(id);
    else if (this.names.has(id)) ref = id;
    else this.fail('unknown group name in conditional', `(?(${id})`, at);
    if (typeof ref === 'number' && (ref < 1 || ref > this.groupCount)) this.fail('invalid group reference in conditional', `(?(${id})`, at);
    this.pos = close + 1;
    const yes = this.sequence();
    let no: Node | null = null;
    if (this.peek() === '|') {
      this.pos++;
      no = this.sequence();
      if (this.peek() === '|') this.fail('conditional backref with more than two branches', this.text(at, this.pos + 1), at);
    }
    if (this.peek() !== ')') this.fail('missing ), unterminated subpattern', this.text(at, Math.min(this.pos, at + 20)), at);
    this.pos++;
    return { t: 'cond', ref, yes, no, at };
  }

  /** `(?i:...)`, `(?-i:...)`, `(?s-i:...)`. */
  private scopedFlags(at: number): Node {
    const m = /^([aimsux]*)(?:-([imsx]*))?:/.exec(this.text(this.pos, this.pos + 16));
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) {
      const bad = /^[aiLmsux]*/.exec(this.text(this.pos, this.pos + 16))?.[0] ?? '';
      if (bad.includes('L')) this.fail('LOCALE flag is not supported (str patterns)', `(?${bad}`, at);
      this.fail('unknown extension', this.text(at, this.pos + 1), at);
    }
    this.pos += m[0].length;
    const saved = { ...this.flags };
    for (const f of m[1] ?? '') if (f !== 'u') this.flags[f as keyof Flags] = true;
    for (const f of m[2] ?? '') this.flags[f as keyof Flags] = false;
    if (this.flags.i) this.anyIgnoreCase = true;
    if (saved.i && !this.flags.i) {
      this.anyCaseSensitiveScope = true;
      this.globalIgnoreCase = false;
    }
    if (!saved.i && this.flags.i) this.globalIgnoreCase = false;
    try {
      return this.groupBody('nc', at);
    } finally {
      this.flags = saved;
    }
  }
}

/** Parses a Python regular expression. Throws {@link RegexSyntaxError}. */
export function parsePython(source: string, opts: ParseOptions = {}): ParsedPattern {
  const codePoints: number[] = [];
  for (const ch of source) codePoints.push(cp(ch));
  return new Parser(codePoints, opts).parse();
}
