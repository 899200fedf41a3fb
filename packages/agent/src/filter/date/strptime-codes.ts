/**
 * The directive table of fail2ban's `datepattern`: strptime-style `%` codes (C locale) and the
 * Python regex named group each one stands for, and the expansion of a pattern into a regex and
 * fail2ban's template name. fail2ban's `Ex` codes are stricter forms (`%ExY`: a year from 2000 to
 * three years ahead, `%Exd`: two digits, ...); `%k`/`%l` are hours with an optional leading space.
 * The captured fields are turned into a time by strptime.ts.
 */

const TZ_ABBR = '[A-Z](?:[A-Z]{2,4})?';

/** Python regex of each code (the `ExY` entry is computed, see {@link exYearRegex}). */
const CODES: Record<string, string> = {
  '%': '%',
  A: '(?P<A>wednesday|thursday|saturday|tuesday|monday|friday|sunday)',
  B: '(?P<B>september|february|november|december|january|october|august|march|april|june|july|may)',
  ExH: String.raw`(?P<H>[0-1]\d|2[0-3])`,
  ExM: String.raw`(?P<M>[0-5]\d)`,
  ExS: String.raw`(?P<S>[0-5]\d|6[0-1])`,
  ExZ: `(?P<Z>${TZ_ABBR})`,
  Exd: String.raw`(?P<d>[1-2]\d|0[1-9]|3[0-1])`,
  Exk: String.raw` ?(?P<H>[0-1]?\d|2[0-3])`,
  Exl: String.raw` ?(?P<I>1[0-2]|\d)`,
  Exm: '(?P<m>0[1-9]|1[0-2])',
  Exy: String.raw`(?P<y>\d{2})`,
  Exz: String.raw`(?P<z>(?:${TZ_ABBR})?[+-][01]\d(?::?\d{2})?|${TZ_ABBR})`,
  G: String.raw`(?P<G>\d\d\d\d)`,
  H: String.raw`(?P<H>[0-1]?\d|2[0-3])`,
  I: '(?P<I>1[0-2]|0[1-9]|[1-9])',
  M: String.raw`(?P<M>[0-5]?\d)`,
  S: String.raw`(?P<S>[0-5]?\d|6[0-1])`,
  U: String.raw`(?P<U>5[0-3]|[0-4]\d|\d)`,
  V: String.raw`(?P<V>5[0-3]|0[1-9]|[1-4]\d|\d)`,
  W: String.raw`(?P<W>5[0-3]|[0-4]\d|\d)`,
  X: String.raw`(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)`,
  Y: String.raw`(?P<Y>\d{4})`,
  Z: '(?P<Z>Z|[A-Z]{3,5})',
  a: '(?P<a>mon|tue|wed|thu|fri|sat|sun)',
  b: '(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)',
  c: String.raw`(?P<a>mon|tue|wed|thu|fri|sat|sun)\s+(?P<b>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])\s+(?P<H>2[0-3]|[0-1]\d|\d):(?P<M>[0-5]\d|\d):(?P<S>6[0-1]|[0-5]\d|\d)\s+(?P<Y>\d\d\d\d)`,
  d: String.raw`(?P<d>[1-2]\d|[0 ]?[1-9]|3[0-1])`,
  f: '(?P<f>[0-9]{1,6})',
  j: String.raw`(?P<j>36[0-6]|3[0-5]\d|[1-2]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])`,
  k: String.raw` ?(?P<H>[0-2]?\d)`,
  l: String.raw` ?(?P<I>1?\d)`,
  m: '(?P<m>0?[1-9]|1[0-2])',
  p: '(?P<p>am|pm)',
  u: '(?P<u>[1-7])',
  w: '(?P<w>[0-6])',
  x: String.raw`(?P<m>1[0-2]|0[1-9]|[1-9])/(?P<d>3[0-1]|[1-2]\d|0[1-9]|[1-9]| [1-9])/(?P<y>\d\d)`,
  y: String.raw`(?P<y>\d\d)`,
  z: String.raw`(?P<z>Z|UTC|GMT|[+-][01]\d(?::?\d{2})?)`,
};

/** Display names of the codes (they make a template's name, as fail2ban names it). */
const NAMES: Record<string, string> = {
  a: 'DAY', A: 'DAYNAME', b: 'MON', B: 'MONTH', d: 'Day', H: '24hour', I: '12hour', j: 'Yearday',
  m: 'Month', M: 'Minute', p: 'AMPM', S: 'Second', U: 'Yearweek', w: 'Weekday', W: 'Yearweek',
  y: 'Year2', Y: 'Year', '%': '%', z: 'Zone offset', f: 'Microseconds', Z: 'Zone name',
  ExM: 'ExMinute', V: '%V', ExS: 'ExSecond', ExH: 'Ex24hour', c: '%c', x: '%x', Exd: 'ExDay',
  u: '%u', X: '%X', G: '%G', Exl: '%Exl', k: '%k', Exk: 'Ex%k', l: '%l', Exm: 'ExMonth',
  Exz: 'ExZone offset', ExZ: 'ExZone name', Exy: 'ExYear2', ExY: 'ExYear',
};

/** Finds the codes in a pattern: the `Ex` forms first, then single letters. */
export const CODE_RE = /%(%|ExZ|Exz|Exd|Exm|ExH|Exk|Exl|ExM|ExS|ExY|Exy|[dfHIGjmMSUwuVyYzAaBbpZWcxXkl])/g;

/** Codes whose text is alphabetic: a pattern using one is matched case-insensitively. */
export const ALPHA_CODE = /(?<!%)%[aAbBpc]/;

/**
 * `%ExY`: years from 2000 through three years after `nowMs`'s year, as fail2ban builds it (by
 * three-digit prefixes: `20[0-2]\d` in the 2020s).
 */
export function exYearRegex(nowMs: number): string {
  const last = new Date(nowMs).getUTCFullYear() + 3;
  const prefixes: string[] = [];
  for (let p = 200; p <= Math.floor(last / 10); p++) prefixes.push(String(p));
  return `(?P<Y>(?:${prefixes.join('|')})\\d)`;
}

/** A date pattern with its `%` codes replaced: the Python regex and fail2ban's template name. */
export interface ExpandedPattern {
  readonly regex: string;
  readonly name: string;
}

/**
 * Replaces the `%` codes of `pattern`. Returns undefined when a `%` is not followed by a known
 * code (fail2ban refuses such a pattern: "may be an invalid format or unescaped percent char").
 */
export function expandCodes(pattern: string, exYear: string): ExpandedPattern | undefined {
  let regex = '';
  let name = '';
  let last = 0;
  for (const m of pattern.matchAll(CODE_RE)) {
    const lit = pattern.slice(last, m.index);
    if (lit.includes('%')) return undefined;
    const code = m[1] as string;
    regex += lit + (code === 'ExY' ? exYear : (CODES[code] as string));
    name += lit + (NAMES[code] as string);
    last = m.index + m[0].length;
  }
  const tail = pattern.slice(last);
  if (tail.includes('%')) return undefined;
  return { regex: regex + tail, name: name + tail };
}
