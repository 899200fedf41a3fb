/**
 * Time zones for reading log dates: the machine's own (`local`), a fixed offset (`UTC`,
 * `+0200`, `CET`), or a POSIX TZ rule such as `CET-1CEST,M3.5.0,M10.5.0/3` (what the TZ
 * environment variable holds). Only what date resolution needs: the offset at an instant, and the
 * instant of a wall-clock time (as `mktime` does).
 */

import { ParseError } from '@fleetban/shared';

/** A time zone. Offsets are minutes east of UTC. */
export interface TimeZone {
  /** Name for logs. */
  readonly name: string;
  /** Offset in effect at `utcMs`. */
  offsetAt(utcMs: number): number;
  /**
   * The instant of a wall-clock time given as `Date.UTC(fields)`; for a time that occurs twice
   * the first one, for a time skipped by a DST change the instant it would have with the
   * offset before the change.
   */
  fromLocal(wallMs: number): number;
}

const MIN = 60_000;

// Offsets change only on whole minutes (in UTC and in local time), so the last minute asked is
// remembered: consecutive log lines and the clock mostly stay within one.
let offsetMinute = NaN;
let offsetValue = 0;
let localMinute = NaN;
let localShift = 0;

/** The machine's time zone (the process's TZ), through Date. */
export const systemTimeZone: TimeZone = {
  name: 'local',
  offsetAt: (utcMs) => {
    const minute = Math.floor(utcMs / MIN);
    if (minute !== offsetMinute) {
      offsetMinute = minute;
      offsetValue = -new Date(utcMs).getTimezoneOffset();
    }
    return offsetValue;
  },
  fromLocal: (wallMs) => {
    const minute = Math.floor(wallMs / MIN);
    if (minute !== localMinute) {
      const start = minute * MIN;
      const d = new Date(start);
      localShift = new Date(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()).getTime() - start;
      localMinute = minute;
    }
    return wallMs + localShift;
  },
};

/** A zone with a constant offset. */
export function fixedTimeZone(offsetMinutes: number, name = formatOffset(offsetMinutes)): TimeZone {
  return { name, offsetAt: () => offsetMinutes, fromLocal: (wallMs) => wallMs - offsetMinutes * MIN };
}

function formatOffset(min: number): string {
  const a = Math.abs(min);
  return `UTC${min < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
}

interface Rule {
  kind: 'M' | 'J' | 'n';
  m: number;
  w: number;
  d: number;
  /** Seconds after local midnight. */
  time: number;
}

const POSIX = /^([A-Za-z]{3,}|<[^>]+>)([+-]?\d{1,2}(?::\d{2}){0,2})(?:([A-Za-z]{3,}|<[^>]+>)([+-]?\d{1,2}(?::\d{2}){0,2})?(?:,([^,]+),([^,]+))?)?$/;

function posixOffsetSeconds(s: string): number {
  const sign = s.startsWith('-') ? -1 : 1;
  const [h = 0, m = 0, sec = 0] = s.replace(/^[+-]/, '').split(':').map(Number);
  return sign * (h * 3600 + m * 60 + sec);
}

function parseRule(s: string): Rule {
  const [date = '', time] = s.split('/');
  const t = time === undefined ? 7200 : posixOffsetSeconds(time);
  let m: RegExpExecArray | null;
  if ((m = /^M(\d{1,2})\.(\d)\.(\d)$/.exec(date))) return { kind: 'M', m: Number(m[1]), w: Number(m[2]), d: Number(m[3]), time: t };
  if ((m = /^J(\d{1,3})$/.exec(date))) return { kind: 'J', m: 0, w: 0, d: Number(m[1]), time: t };
  if ((m = /^(\d{1,3})$/.exec(date))) return { kind: 'n', m: 0, w: 0, d: Number(m[1]), time: t };
  throw new ParseError('POSIX TZ rule', s);
}

/** Local midnight (as wall ms) of the day a rule names in `year`, plus its time. */
function ruleWallMs(r: Rule, year: number): number {
  let day: number;
  if (r.kind === 'M') {
    const first = new Date(Date.UTC(year, r.m - 1, 1)).getUTCDay();
    day = 1 + ((r.d - first + 7) % 7) + (r.w - 1) * 7;
    const days = new Date(Date.UTC(year, r.m, 0)).getUTCDate();
    while (day > days) day -= 7;
    return Date.UTC(year, r.m - 1, day) + r.time * 1000;
  }
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const n = r.kind === 'J' ? (leap && r.d >= 60 ? r.d : r.d - 1) : r.d;
  return Date.UTC(year, 0, 1) + n * 86_400_000 + r.time * 1000;
}

/** A zone from a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`, `EST5EDT`, `UTC0`). */
export function posixTimeZone(spec: string): TimeZone {
  const m = POSIX.exec(spec.trim());
  if (!m) throw new ParseError('POSIX TZ string', spec);
  const std = -posixOffsetSeconds(m[2] as string) / 60;
  if (m[3] === undefined) return fixedTimeZone(std, spec);
  const dst = m[4] === undefined ? std + 60 : -posixOffsetSeconds(m[4]) / 60;
  const start = parseRule(m[5] ?? 'M3.2.0');
  const end = parseRule(m[6] ?? 'M11.1.0');
  const isDst = (utcMs: number): boolean => {
    const year = new Date(utcMs + std * MIN).getUTCFullYear();
    // start is given in standard time, end in daylight time
    const s = ruleWallMs(start, year) - std * MIN;
    const e = ruleWallMs(end, year) - dst * MIN;
    return s < e ? utcMs >= s && utcMs < e : !(utcMs >= e && utcMs < s);
  };
  const offsetAt = (utcMs: number): number => (isDst(utcMs) ? dst : std);
  return {
    name: spec,
    offsetAt,
    fromLocal: (wallMs) => {
      const asDst = wallMs - dst * MIN;
      if (offsetAt(asDst) === dst) return asDst;
      const asStd = wallMs - std * MIN;
      return offsetAt(asStd) === std ? asStd : wallMs - offsetAt(wallMs - std * MIN) * MIN;
    },
  };
}

/** `local`, `UTC`/`GMT`/`Z`, `UTC+0200`, `+02:00`, or a POSIX TZ string. Throws ParseError. */
export function parseTimeZone(spec: string): TimeZone {
  const s = spec.trim();
  if (s === '' || s === 'local') return systemTimeZone;
  const fixed = /^(?:UTC|GMT|Z)?(?:([+-])(\d{2}):?(\d{2})?)?$/.exec(s);
  if (fixed) {
    const min = fixed[1] === undefined ? 0 : (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3] ?? 0));
    return fixedTimeZone(min);
  }
  return posixTimeZone(s);
}
