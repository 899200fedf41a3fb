import { tryParseAddress } from '@fleetban/shared';
import { FilterError, type FilterRegexRef } from './filter-error.js';

/** A filter as fail2ban writes it (the subset this stage understands today). */
export interface FilterDefinition {
  /** Name used in errors and logs (`sshd`, or the filter file). */
  name: string;
  /** Failure patterns, tried in order; each must contain `<HOST>`, `<ADDR>`, `<IP4>` or `<IP6>`. */
  failregex: string[];
  /** Patterns that veto a failure: a line matching one of them is ignored. */
  ignoreregex: string[];
}

/** A recognised failure. */
export interface FilterMatch {
  /** The offending address, normalised (`::ffff:192.0.2.5` becomes `192.0.2.5`). */
  ip: string;
  /** The `<F-USER>` capture (else `<F-ALT_USER>`), or `''`. Attacker-controlled text. */
  user: string;
  /** Which failregex matched (zero-based). */
  regexIndex: number;
}

/** What a {@link LineFilter} has seen. */
export interface FilterCounters {
  /** Lines reported as failures. */
  matched: number;
  /** Lines that matched a failregex and an ignoreregex. */
  ignored: number;
  /** Lines no failregex matched (including lines over `maxLineChars`). */
  missed: number;
  /** Failures per failregex, by index. */
  perRegex: number[];
}

/** Options of {@link LineFilter}. */
export interface LineFilterOptions {
  /** Longer lines are counted as missed without running any regex. Default 65536. */
  maxLineChars?: number;
}

interface CompiledFailRegex {
  re: RegExp;
  /** Named groups holding the address, in pattern order. */
  addr: string[];
  /** Named groups holding the user (F-USER first, then F-ALT_USER). */
  user: string[];
}

// Address patterns. A match is validated and normalised by tryParseAddress, so they may be loose;
// the look-arounds keep them from starting or ending inside a longer token.
const IP4 = String.raw`(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)`;
const IP6 = String.raw`(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,8}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])`;
const ADDRESS = `${IP4}|\\[?${IP6}\\]?`;
const TAG_PATTERN: Record<string, string> = { HOST: ADDRESS, ADDR: ADDRESS, IP4, IP6 };
const TAGS = /<(HOST|ADDR|IP4|IP6)>|<(\/?)F-([A-Za-z][A-Za-z0-9_]*)>/g;
const PY_GROUPS = /(\\*)\(\?P(?:<([A-Za-z_]\w*)>|=([A-Za-z_]\w*)\))/g;

/**
 * The filter stage: a fail2ban filter compiled once into JavaScript RegExps, then asked about each
 * line. Supported today: `<HOST>` (an address; no DNS), `<ADDR>`, `<IP4>`, `<IP6>`, `<F-NAME>...</F-NAME>`
 * named captures (`<F-USER>` is reported), Python's `(?P<name>...)` and `(?P=name)`.
 *
 * A failregex is searched (not anchored unless it starts with `^`); the first failregex that matches
 * with a valid address wins. Only then are the ignoreregexes tried: one hit makes the line ignored.
 */
export class LineFilter {
  /** The filter's name. */
  readonly name: string;
  private readonly fail: CompiledFailRegex[];
  private readonly ignore: RegExp[];
  private readonly maxLineChars: number;
  private matched = 0;
  private ignored = 0;
  private missed = 0;
  private readonly perRegex: number[];

  /** Compiles `def`; throws {@link FilterError} naming the filter, the regex and its index. */
  constructor(def: FilterDefinition, opts: LineFilterOptions = {}) {
    this.name = def.name;
    this.maxLineChars = opts.maxLineChars ?? 64 * 1024;
    this.fail = def.failregex.map((source, index) => {
      const ref: FilterRegexRef = { filter: def.name, list: 'failregex', index, source };
      const t = translate(source);
      if (t.addr.length === 0) throw FilterError.forRegex(ref, 'has no <HOST>, <ADDR>, <IP4> or <IP6> tag');
      return { re: compile(ref, t.source), addr: t.addr, user: t.user };
    });
    this.ignore = def.ignoreregex.map((source, index) =>
      compile({ filter: def.name, list: 'ignoreregex', index, source }, translate(source).source));
    this.perRegex = new Array<number>(this.fail.length).fill(0);
  }

  /** Same as `new LineFilter(def, opts)`. */
  static compile(def: FilterDefinition, opts?: LineFilterOptions): LineFilter {
    return new LineFilter(def, opts);
  }

  /** The failure in `text`, or `null` (missed or ignored; see {@link counters}). */
  match(text: string): FilterMatch | null {
    if (text.length <= this.maxLineChars) {
      for (let i = 0; i < this.fail.length; i++) {
        const r = this.fail[i] as CompiledFailRegex;
        const m = r.re.exec(text);
        if (m === null) continue;
        const ip = addressOf(m.groups, r.addr);
        if (ip === null) continue;
        for (const re of this.ignore) {
          if (re.test(text)) {
            this.ignored++;
            return null;
          }
        }
        this.matched++;
        this.perRegex[i] = (this.perRegex[i] ?? 0) + 1;
        return { ip, user: firstOf(m.groups, r.user) ?? '', regexIndex: i };
      }
    }
    this.missed++;
    return null;
  }

  /** A snapshot of the counters. */
  counters(): FilterCounters {
    return { matched: this.matched, ignored: this.ignored, missed: this.missed, perRegex: [...this.perRegex] };
  }
}

interface Translated {
  source: string;
  addr: string[];
  user: string[];
}

/** Python named groups and fail2ban tags → JavaScript RegExp source, recording the group names. */
function translate(python: string): Translated {
  const addr: string[] = [];
  const fields = new Map<string, string[]>();
  let src = python.replace(PY_GROUPS, (all, slashes: string, def?: string, ref?: string) => {
    if (slashes.length % 2 === 1) return all; // `\(?P<...` is a literal parenthesis
    return def !== undefined ? `${slashes}(?<${def}>` : `${slashes}\\k<${ref ?? ''}>`;
  });
  src = src.replace(TAGS, (_all, tag?: string, close?: string, field?: string) => {
    if (tag !== undefined) {
      const group = `fb_addr${addr.length + 1}`;
      addr.push(group);
      return `(?<${group}>${TAG_PATTERN[tag] ?? ADDRESS})`;
    }
    if (close === '/') return ')';
    const key = (field ?? '').toLowerCase();
    const seen = fields.get(key) ?? [];
    const group = `fb_${key}${seen.length === 0 ? '' : `_${seen.length + 1}`}`;
    seen.push(group);
    fields.set(key, seen);
    return `(?<${group}>`;
  });
  return { source: src, addr, user: [...(fields.get('user') ?? []), ...(fields.get('alt_user') ?? [])] };
}

function compile(ref: FilterRegexRef, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (cause) {
    // V8 says "Invalid regular expression: /<translated>/: <reason>"; show the reason only
    const text = String((cause as Error).message);
    const reason = text.slice(text.lastIndexOf('/: ') + 3);
    throw FilterError.forRegex(ref, `does not compile (${reason})`, { cause });
  }
}

function addressOf(groups: Record<string, string | undefined> | undefined, names: string[]): string | null {
  for (const name of names) {
    const text = groups?.[name];
    if (text !== undefined) return tryParseAddress(text)?.text ?? null;
  }
  return null;
}

function firstOf(groups: Record<string, string | undefined> | undefined, names: string[]): string | undefined {
  for (const name of names) {
    const text = groups?.[name];
    if (text !== undefined) return text;
  }
  return undefined;
}
