/**
 * The resolution of the fields captured by a `datepattern` (see strptime-codes.ts for its `%`
 * codes) into a time, the way fail2ban resolves them: a date without a year takes the current
 * year, or the previous one when that would put it more than a day in the future; a time without
 * a date is today, or yesterday when in the future; `%z`/`%Z` (or `logtimezone`) give an offset,
 * else the local time zone applies.
 */

import type { TimeZone } from './time-zone.js';
import { zoneOffset } from './zone-abbreviation.js';

/** Re-exported for filter-engine.ts (`logtimezone`): see zone-abbreviation.ts. */
export { zoneOffset } from './zone-abbreviation.js';

const A_MONTH = ['', 'jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const F_MONTH = ['', 'january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const A_WEEKDAY = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const F_WEEKDAY = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

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
  // a field of digits JavaScript does not read (another script's digits) is no date at all
  return Number.isFinite(utc) ? Math.floor(utc / 1000) : null;
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
  // the last time resolved, and from what (lines of the same second mostly follow each other)
  private lastSecond: string | undefined;
  private lastCtx: DateContext | undefined;
  private lastNowMs = NaN;
  private lastTime: number | null = null;

  /**
   * {@link toTime} when the caller knows whether the date is that of the last call but its
   * seconds: `f` is the date's fields when it is not (undefined when it is), `second` its seconds.
   */
  toTimeKnown(f: DateFields | undefined, second: string | undefined, ctx: DateContext): number | null {
    if (f !== undefined) {
      this.parsed = parseFields(f);
      this.last = f;
    } else if (second === this.lastSecond && ctx === this.lastCtx && ctx.nowMs === this.lastNowMs) return this.lastTime;
    this.lastSecond = second;
    this.lastCtx = ctx;
    this.lastNowMs = ctx.nowMs;
    this.lastTime = this.parsed === null ? null : resolve(this.parsed, second === undefined ? 0 : Number(second), ctx);
    return this.lastTime;
  }

  /** Same as {@link fieldsToTime}. */
  toTime(f: DateFields, ctx: DateContext): number | null {
    if (this.last === undefined || !sameMinute(this.last, f)) {
      this.parsed = parseFields(f);
      this.last = f;
      this.lastCtx = undefined;
    }
    return this.parsed === null ? null : resolve(this.parsed, f.S === undefined ? 0 : Number(f.S), ctx);
  }
}
