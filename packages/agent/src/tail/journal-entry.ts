/**
 * One systemd journal entry (a `journalctl -o json` object) as the line a filter reads: what
 * fail2ban's systemd backend builds (host, identifier[pid]:, message; no date), the entry's time
 * beside it (`timeMs`), as fail2ban hands both to its filter:
 *
 *     web-1 sshd[123]: Failed password for root from 192.0.2.7 port 4000 ssh2
 *
 * That is a syslog line after its date, so filters written for syslog files (`__prefix_line`, the
 * built-in sshd) match it with `logtype = journal`, and the filter stage takes the time from the
 * entry, never from the text (jail-filter.ts). (A date in the text would be part of the line the
 * failregex sees, and sshd's would not match.)
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
  let text = '';
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
