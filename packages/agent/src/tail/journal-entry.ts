/**
 * One systemd journal entry (a `journalctl -o json` object) as the line a filter reads. The line is
 * what Debian's rsyslog writes for the same message, and what fail2ban's systemd backend builds
 * (host, identifier[pid]:, message), with the entry's time in front in RFC 3339 with microseconds:
 *
 *     2024-05-01T12:00:00.123456+00:00 web-1 sshd[123]: Failed password for root from 192.0.2.7 port 4000 ssh2
 *
 * so filters written for syslog files (`__prefix_line`, the built-in sshd) match it unchanged.
 */

/** Fields journalctl is asked for (`--output-fields`); `__CURSOR` and the timestamps always come. */
export const JOURNAL_FIELDS = ['MESSAGE', '_HOSTNAME', 'SYSLOG_IDENTIFIER', '_COMM', 'SYSLOG_PID', '_PID', '_SOURCE_REALTIME_TIMESTAMP'];

/** A formatted entry. */
export interface JournalLine {
  readonly text: string;
  /** The entry's time (source time when it has one), ms since the epoch; 0 when absent. */
  readonly timeMs: number;
  /** Where it is in the journal (`__CURSOR`); '' when absent. */
  readonly cursor: string;
}

/**
 * A JSON field's text. journalctl writes a string, an array of byte values for a non-UTF-8 or
 * binary value, an array of those for a field set more than once (joined by spaces, as fail2ban
 * does), or null for a value it did not print.
 */
export function fieldText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'number')) return Buffer.from(v as number[]).toString('utf8');
    return v.map(fieldText).join(' ');
  }
  return '';
}

/** Formats one parsed entry; null when it is not an object. */
export function formatJournalEntry(e: unknown): JournalLine | null {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return null;
  const f = e as Record<string, unknown>;
  const us = fieldText(f._SOURCE_REALTIME_TIMESTAMP) || fieldText(f.__REALTIME_TIMESTAMP);
  const timeMs = /^\d+$/.test(us) ? Math.floor(Number(us) / 1000) : 0;
  let text = timeMs > 0 ? `${rfc3339(Number(us))} ` : '';
  const host = fieldText(f._HOSTNAME);
  if (host) text += `${host} `;
  const ident = fieldText(f.SYSLOG_IDENTIFIER) || fieldText(f._COMM);
  if (ident) {
    const pid = fieldText(f.SYSLOG_PID) || fieldText(f._PID);
    text += pid ? `${ident}[${pid}]: ` : `${ident}: `;
  }
  text += fieldText(f.MESSAGE).replace(/\n/g, '\\n');
  return { text, timeMs, cursor: fieldText(f.__CURSOR) };
}

/** Local time with microseconds and the UTC offset: `2024-05-01T14:00:00.123456+02:00`. */
export function rfc3339(us: number): string {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const local = new Date(ms + off * 60_000);
  const frac = String(Math.floor(us % 1_000_000)).padStart(6, '0');
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const tz = `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
  return `${local.toISOString().slice(0, 19)}.${frac}${tz}`;
}
