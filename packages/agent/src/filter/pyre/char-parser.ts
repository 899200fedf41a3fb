/**
 * The lower layer of the Python `re` parser (parse.ts): the cursor over the pattern's code points,
 * the flags in scope, and the syntax of one character: literals, escapes (`\d`, `\b`, `\A`,
 * `\Z`, back-references `\1`, octal and `\x`/`\u`/`\U`) and character classes `[...]`.
 * Anything Python would refuse here is a {@link RegexSyntaxError} naming the construct.
 */

import type { ClassEscape, ClassItem, Node } from './ast.js';
import { RegexSyntaxError } from './regex-error.js';

/** The inline flags in scope (`(?aimsx)`, `(?i:...)`). */
export interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  x: boolean;
  a: boolean;
}

/** The code point of a string's first character. */
export const cp = (s: string): number => s.codePointAt(0) as number;
const ESCAPE_CHARS: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
const HEX = /^[0-9a-fA-F]+$/;

/** The cursor, the flags and the one-character syntax, extended by the pattern parser in parse.ts. */
export abstract class CharParser {
  protected pos = 0;
  protected flags: Flags;
  /** Capturing groups opened so far: a back-reference may only name one of them. */
  protected groupCount = 0;

  constructor(protected readonly src: number[], flags: Flags) {
    this.flags = flags;
  }

  protected fail(problem: string, construct: string, at = this.pos): never {
    throw new RegexSyntaxError(problem, construct, at);
  }

  protected peek(o = 0): string | undefined {
    const c = this.src[this.pos + o];
    return c === undefined ? undefined : String.fromCodePoint(c);
  }

  protected text(from: number, to: number): string {
    return String.fromCodePoint(...this.src.slice(from, to));
  }

  protected skipVerbose(): void {
    if (!this.flags.x) return;
    for (;;) {
      const c = this.peek();
      if (c === undefined) return;
      if (/\s/.test(c)) this.pos++;
      else if (c === '#') {
        while (this.peek() !== undefined && this.peek() !== '\n') this.pos++;
      } else return;
    }
  }

  protected char(c: number): Node {
    return { t: 'char', c, ci: this.flags.i };
  }

  protected escape(at: number): Node {
    const c = this.peek();
    if (c === undefined) this.fail('bad escape (end of pattern)', '\\', at);
    this.pos++;
    switch (c) {
      case 'A':
        return { t: 'start' };
      case 'Z':
        return { t: 'end' };
      case 'b':
      case 'B':
        return { t: 'wordb', neg: c === 'B', ascii: this.flags.a };
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S':
        return this.classEscape(c);
      default: {
        if (/[1-9]/.test(c) && !this.isOctal3(at + 1)) {
          const m = /^\d{1,2}/.exec(this.text(at + 1, at + 3)) as RegExpExecArray;
          this.pos = at + 1 + m[0].length;
          const ref = Number(m[0]);
          if (ref > this.groupCount) this.fail('invalid group reference', this.text(at, this.pos), at);
          return { t: 'backref', ref, ci: this.flags.i, at };
        }
        return this.char(this.literalEscape(c, at));
      }
    }
  }

  private isOctal3(from: number): boolean {
    return /^[0-3][0-7]{2}$/.test(this.text(from, from + 3));
  }

  private classEscape(c: string): ClassEscape {
    const k = c.toLowerCase() as 'd' | 'w' | 's';
    return { t: 'esc', k, neg: c !== k, ascii: this.flags.a };
  }

  /** The code point of an escape that stands for one character; `c` is already consumed. */
  private literalEscape(c: string, at: number): number {
    const known = ESCAPE_CHARS[c];
    if (known !== undefined) return known;
    if (c === 'x' || c === 'u' || c === 'U') {
      const len = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      const digits = this.text(this.pos, this.pos + len);
      if (digits.length !== len || !HEX.test(digits)) this.fail(`incomplete escape \\${c}`, `\\${c}${digits}`, at);
      this.pos += len;
      const v = parseInt(digits, 16);
      if (v > 0x10ffff) this.fail('bad escape', `\\${c}${digits}`, at);
      return v;
    }
    if (c === '0' || /[0-7]/.test(c)) {
      // \0, \0oo or three octal digits
      const m = /^[0-7]{0,2}/.exec(this.text(this.pos, this.pos + 2)) as RegExpExecArray;
      if (c !== '0' && m[0].length < 2) this.fail('invalid group reference', `\\${c}${m[0]}`, at);
      this.pos += m[0].length;
      const v = parseInt(c + m[0], 8);
      if (v > 0o377) this.fail('octal escape value outside of range 0-0o377', this.text(at, this.pos), at);
      return v;
    }
    if (c === 'N') this.fail('named Unicode escapes are not supported', '\\N', at);
    if (/[A-Za-z0-9]/.test(c)) this.fail('bad escape', `\\${c}`, at);
    return cp(c);
  }

  protected charClass(at: number): Node {
    let neg = false;
    if (this.peek() === '^') {
      neg = true;
      this.pos++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('unterminated character set', this.text(at, this.pos), at);
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      const itemAt = this.pos;
      const lo = this.classAtom();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.pos++;
        const hi = this.classAtom();
        if (lo.t !== 'ch' || hi.t !== 'ch' || hi.c < lo.c) this.fail('bad character range', this.text(itemAt, this.pos), itemAt);
        items.push({ t: 'range', lo: lo.c, hi: hi.c });
      } else items.push(lo);
    }
    return { t: 'class', neg, items, ci: this.flags.i };
  }

  private classAtom(): ClassItem {
    const at = this.pos;
    const c = this.peek() as string;
    this.pos++;
    if (c !== '\\') return { t: 'ch', c: cp(c) };
    const e = this.peek();
    if (e === undefined) this.fail('bad escape (end of pattern)', '\\', at);
    this.pos++;
    if (/[dDwWsS]/.test(e)) return this.classEscape(e);
    if (e === 'b') return { t: 'ch', c: 8 };
    if (/[1-9]/.test(e) && !this.isOctal3(at + 1)) this.fail('bad escape', `\\${e}`, at);
    if (e === 'A' || e === 'Z' || e === 'B') this.fail('bad escape', `\\${e}`, at);
    return { t: 'ch', c: this.literalEscape(e, at) };
  }
}
