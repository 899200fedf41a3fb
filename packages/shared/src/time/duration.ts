import { ParseError } from '../errors.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000, sec: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mi: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
  mo: 2_592_000_000, month: 2_592_000_000, months: 2_592_000_000,
  y: 31_536_000_000, year: 31_536_000_000, years: 31_536_000_000,
};

/** Marker for "permanent" (fail2ban's bantime = -1). */
export const PERMANENT = -1;

/**
 * Parses a fail2ban-style duration into milliseconds: a bare number is seconds ("600"), units can be
 * combined ("1d12h", "1h 30m"), and any negative number means permanent ({@link PERMANENT}).
 * Throws {@link ParseError}.
 */
export function parseDuration(input: string): number {
  const s = input.trim().toLowerCase();
  if (/^-\d+(\.\d+)?$/.test(s)) return PERMANENT;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)\s*([a-z]+)\s*/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const unit = UNITS[m[2] as string];
    if (unit === undefined) throw new ParseError('duration', input);
    total += Number(m[1]) * unit;
    pos = re.lastIndex;
  }
  if (pos !== s.length || s.length === 0) throw new ParseError('duration', input);
  return Math.round(total);
}

/** Formats milliseconds as a compact duration ("1d12h", "1m30s", "1s500ms"); -1 prints "permanent". */
export function formatDuration(ms: number): string {
  if (ms < 0) return 'permanent';
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) { parts.push(`${Math.floor(rest / size)}${unit}`); rest %= size; }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
