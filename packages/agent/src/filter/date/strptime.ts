/**
 * strptime-style `%` codes of fail2ban's `datepattern` (C locale), turned into Python regex named
 * groups, and the resolution of the captured fields into a time, the way fail2ban resolves them:
 * a date without a year takes the current year, or the previous one when that would put it more
 * than a day in the future; a time without a date is today, or yesterday when in the future;
 * `%z`/`%Z` (or `logtimezone`) give an offset, else the local time zone applies.
 *
 * fail2ban's `Ex` codes are stricter forms (`%ExY`: a year from 2000 to three years ahead,
 * `%Exd`: two digits, ...); `%k`/`%l` are hours with an optional leading space.
 */

import type { TimeZone } from './time-zone.js';

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

const A_MONTH = ['', 'jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const F_MONTH = ['', 'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const A_WEEKDAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const F_WEEKDAY = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** fail2ban's zone abbreviations (fixed offsets, in hours; no DST switching). */
const TZ_TABLE = `-12 Y|-11 X NUT SST|-10 W CKT HAST HST TAHT TKT|-9 V AKST GAMT GIT HADT HNY|-8 U AKDT CIST HAY HNP PST PT|-7 T HAP HNR MST PDT|-6 S CST EAST GALT HAR HNC MDT|-5 R CDT COT EASST ECT EST ET HAC HNE PET|-4 Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT|-3 P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT|-2 O BRST FNT PMDT UYST WGST|-1 N AZOT CVT EGT|0 Z EGST GMT UTC WET WT|1 A CET DFT WAT WEDT WEST|2 B CAT CEDT CEST EET SAST WAST|3 C EAT EEDT EEST IDT MSK|4 D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT|5 E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT|6 F ALMT BIOT BTT IOT KGT NOVT OMST YEKST|7 G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB|8 H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST|9 I AWDT IRKST JST KST PWT TLT WDT WIT YAKT|10 K AEST ChST PGT VLAT YAKST YAPT|11 L AEDT LHDT MAGT NCT PONT SBT VLAST VUT|12 M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT|13 FJST NZDT|11.5 NFT|10.5 ACDT LHST|9.5 ACST|6.5 CCT MMT|5.75 NPT|5.5 SLT|4.5 AFT IRDT|3.5 IRST|-2.5 HAT NDT|-3.5 HNT NST NT|-4.5 HLV VET|-9.5 MART MIT`;
const TZ_ABBR_OFFSET = new Map<string, number>([['', 0]]);
for (const row of TZ_TABLE.split('|')) {
  const [h, ...names] = row.split(' ');
  for (const n of names) TZ_ABBR_OFFSET.set(n, Math.trunc(Number(h) * 60));
}

const ZONE = /^([A-Z](?:[A-Z]{2,4})?)?([+-][01]\d(?::?\d{2})?)?$/;

/**
 * Minutes east of UTC for a zone as fail2ban accepts it (`UTC`, `CET`, `+0200`, `-05:30`,
 * `CET+01`), or undefined for one it does not know.
 */
export function zoneOffset(zone: string): number | undefined {
  const m = ZONE.exec(zone);
  if (!m) return undefined;
  const base = TZ_ABBR_OFFSET.get(m[1] ?? '');
  if (base === undefined) return undefined;
  const o = m[2];
  if (o === undefined) return base;
  const sign = o[0] === '-' ? -1 : 1;
  if (o.length <= 3) return base + sign * Number(o.slice(1)) * 60;
  const mm = o[3] === ':' ? o.slice(4, 6) : o.slice(3, 5);
  return base + sign * (Number(o.slice(1, 3)) * 60 + Number(mm));
}

function offsetOf(zone: string): number | undefined {
  return zone === 'Z' || zone === 'UTC' || zone === 'GMT' ? 0 : zoneOffset(zone);
}

/** What resolving a date needs. */
export interface DateContext {
  /** Now, ms since the epoch. */
  readonly nowMs: number;
  /** The log's time zone when the date has none (`logtimezone`), in minutes; undefined = `zone`. */
  readonly defaultOffset: number | undefined;
  /** The local time zone. */
  readonly zone: TimeZone;
}

const DAY = 86_400_000;

const MONTH_DAYS = [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || y < 1 || y > 9999) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (mo === 2 ? (leap ? 29 : 28) : MONTH_DAYS[mo - 1] as number);
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Hinnant's days_from_civil; any year). */
function daysFromCivil(y: number, mo: number, d: number): number {
  const yy = mo <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

/** `Date.UTC` without its 0-99 → 1900-1999 mapping (and without a Date). */
function wall(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  return daysFromCivil(y, mo, d) * DAY + ((h * 60 + mi) * 60 + s) * 1000;
}

let yearDay = NaN;
let yearOfDay = 0;
/** The UTC year of `ms` (the last day asked is remembered: consecutive lines share it). */
function utcYear(ms: number): number {
  const day = Math.floor(ms / DAY);
  if (day !== yearDay) {
    yearDay = day;
    yearOfDay = new Date(ms).getUTCFullYear();
  }
  return yearOfDay;
}

/** ISO weekday of Jan 1st (0 = Monday), as Python's date.weekday(). */
function weekdayOfJan1(year: number): number {
  return (new Date(wall(year, 1, 1)).getUTCDay() + 6) % 7;
}

/** The captured fields of a date (strptime code letter → text); absent ones undefined. */
export interface DateFields {
  readonly y?: string | undefined;
  readonly Y?: string | undefined;
  readonly m?: string | undefined;
  readonly B?: string | undefined;
  readonly b?: string | undefined;
  readonly d?: string | undefined;
  readonly H?: string | undefined;
  readonly I?: string | undefined;
  readonly p?: string | undefined;
  readonly M?: string | undefined;
  readonly S?: string | undefined;
  readonly A?: string | undefined;
  readonly a?: string | undefined;
  readonly w?: string | undefined;
  readonly j?: string | undefined;
  readonly U?: string | undefined;
  readonly W?: string | undefined;
  readonly z?: string | undefined;
  readonly Z?: string | undefined;
}

/** The field names {@link fieldsToTime} reads, in the order of {@link DateFields}. */
export const DATE_FIELDS = ['y', 'Y', 'm', 'B', 'b', 'd', 'H', 'I', 'p', 'M', 'S', 'A', 'a', 'w', 'j', 'U', 'W', 'z', 'Z'] as const;

/** The fields of a date but its seconds, parsed (what {@link fieldsToTime} needs besides the clock). */
interface ParsedDate {
  readonly year: number | undefined;
  readonly month: number | undefined;
  readonly day: number | undefined;
  readonly hour: number;
  readonly minute: number;
  readonly offset: number | undefined;
  readonly weekday: number | undefined;
  readonly julian: number | undefined;
  readonly week: number | undefined;
  readonly weekStartsMonday: boolean;
}

const offsets = new Map<string, number | null>();

function offsetOfCached(zone: string): number | undefined {
  let o = offsets.get(zone);
  if (o === undefined) {
    o = offsetOf(zone) ?? null;
    if (offsets.size > 1000) offsets.clear();
    offsets.set(zone, o);
  }
  return o ?? undefined;
}

/** Parses every field but the seconds; null when a zone is unknown. */
function parseFields(f: DateFields): ParsedDate | null {
  let year: number | undefined;
  let month: number | undefined;
  let day: number | undefined;
  let hour = 0;
  let minute = 0;
  let offset: number | undefined;
  let weekday: number | undefined;
  let julian: number | undefined;
  let week: number | undefined;
  let weekStartsMonday = true;
  let v: string | undefined;
  if ((v = f.y) !== undefined) {
    year = Number(v);
    if (year <= 2000) year += 2000;
  }
  if ((v = f.Y) !== undefined) year = Number(v);
  if ((v = f.m) !== undefined) month = Number(v);
  if ((v = f.B) !== undefined) month = F_MONTH.indexOf(v.toLowerCase());
  if ((v = f.b) !== undefined) month = A_MONTH.indexOf(v.toLowerCase());
  if ((v = f.d) !== undefined) day = Number(v);
  if ((v = f.H) !== undefined) hour = Number(v);
  if ((v = f.I) !== undefined) {
    hour = Number(v);
    const ampm = (f.p ?? '').toLowerCase();
    if (ampm === '' || ampm === 'am') {
      if (hour === 12) hour = 0;
    } else if (ampm === 'pm' && hour !== 12) hour += 12;
  }
  if ((v = f.M) !== undefined) minute = Number(v);
  if ((v = f.A) !== undefined) weekday = F_WEEKDAY.indexOf(v.toLowerCase());
  if ((v = f.a) !== undefined) weekday = A_WEEKDAY.indexOf(v.toLowerCase());
  if ((v = f.w) !== undefined) weekday = Number(v) === 0 ? 6 : Number(v) - 1;
  if ((v = f.j) !== undefined) julian = Number(v);
  if ((v = f.U) !== undefined) [week, weekStartsMonday] = [Number(v), false];
  if ((v = f.W) !== undefined) [week, weekStartsMonday] = [Number(v), true];
  if ((v = f.z) !== undefined && (offset = offsetOfCached(v)) === undefined) return null;
  if ((v = f.Z) !== undefined && (offset = offsetOfCached(v)) === undefined) return null;
  return { year, month, day, hour, minute, offset, weekday, julian, week, weekStartsMonday };
}

/** The time of a parsed date with its seconds (see {@link fieldsToTime}). */
function resolve(p: ParsedDate, second: number, ctx: DateContext): number | null {
  let { year, month, day } = p;
  const { hour, minute } = p;
  let julian = p.julian;
  const nowWall = ctx.nowMs + ctx.zone.offsetAt(ctx.nowMs) * 60_000;
  const assumeYear = year === undefined;
  if (year === undefined) year = utcYear(nowWall);
  if (month === undefined || day === undefined) {
    if (julian === undefined && p.week !== undefined && p.weekday !== undefined) {
      let first = weekdayOfJan1(year);
      let wd = p.weekday;
      if (!p.weekStartsMonday) {
        first = (first + 1) % 7;
        wd = (wd + 1) % 7;
      }
      const week0 = (7 - first) % 7;
      julian = p.week === 0 ? 1 + wd - first : 1 + week0 + 7 * (p.week - 1) + wd;
    }
    if (julian !== undefined) {
      const d = new Date(wall(year, 1, 1) + (julian - 1) * DAY);
      year = d.getUTCFullYear();
      month = d.getUTCMonth() + 1;
      day = d.getUTCDate();
    }
  }
  let assumeToday = false;
  if (month === undefined && day === undefined) {
    const n = new Date(nowWall);
    month = n.getUTCMonth() + 1;
    day = n.getUTCDate();
    assumeToday = true;
  }
  if (month === undefined || day === undefined || !validDate(year, month, day)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  // a "naive" wall time, as fail2ban's datetime without tzinfo; shifted to UTC when an offset is known
  let t = wall(year, month, day, hour, minute, second);
  const offset = p.offset ?? ctx.defaultOffset;
  if (offset !== undefined) t -= offset * 60_000;
  if (assumeToday && t > nowWall) t -= DAY;
  if (assumeYear && t > nowWall + DAY) {
    // fail2ban replaces the date part with the fields read, keeping the (shifted) time of day
    if (!validDate(year - 1, month, day)) return null;
    t = wall(year - 1, month, day) + (((t % DAY) + DAY) % DAY);
  }
  const utc = offset !== undefined ? t : ctx.zone.fromLocal(t);
  return Math.floor(utc / 1000);
}

/**
 * Seconds since the epoch for captured date fields, or null when they do not form a valid date.
 * Fractions of a second are dropped, as fail2ban drops them.
 */
export function fieldsToTime(f: DateFields, ctx: DateContext): number | null {
  const p = parseFields(f);
  return p === null ? null : resolve(p, f.S === undefined ? 0 : Number(f.S), ctx);
}

/** True when two dates have the same fields but maybe their seconds. */
function sameMinute(a: DateFields, b: DateFields): boolean {
  return a.M === b.M && a.H === b.H && a.d === b.d && a.b === b.b && a.m === b.m && a.Y === b.Y && a.y === b.y &&
    a.z === b.z && a.Z === b.Z && a.I === b.I && a.p === b.p && a.B === b.B && a.A === b.A && a.a === b.a &&
    a.w === b.w && a.j === b.j && a.U === b.U && a.W === b.W;
}

/**
 * {@link fieldsToTime} remembering the last date it parsed: consecutive log lines mostly differ
 * in their seconds only, and then only the clock-dependent part is computed again.
 */
export class DateResolver {
  private last: DateFields | undefined;
  private parsed: ParsedDate | null = null;

  /**
   * {@link toTime} when the caller knows whether the date is that of the last call but its
   * seconds: `f` is the date's fields when it is not (undefined when it is), `second` its seconds.
   */
  toTimeKnown(f: DateFields | undefined, second: string | undefined, ctx: DateContext): number | null {
    if (f !== undefined) {
      this.parsed = parseFields(f);
      this.last = f;
    }
    return this.parsed === null ? null : resolve(this.parsed, second === undefined ? 0 : Number(second), ctx);
  }

  /** Same as {@link fieldsToTime}. */
  toTime(f: DateFields, ctx: DateContext): number | null {
    if (this.last === undefined || !sameMinute(this.last, f)) {
      this.parsed = parseFields(f);
      this.last = f;
    }
    return this.parsed === null ? null : resolve(this.parsed, f.S === undefined ? 0 : Number(f.S), ctx);
  }
}
