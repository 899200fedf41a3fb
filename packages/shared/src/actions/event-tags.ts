/**
 * The tags of one ban event, as fail2ban's actions see a ticket (`<ip>`, `<failures>`,
 * `<matches>`, `<F-USER>`, ...) plus fleetban's `<hosts>`, and fail2ban's shell escaping of them.
 *
 * fail2ban (server/action.py, `CommandAction`) escapes `<matches>`, `<ipmatches>` and
 * `<ipjailmatches>` with `escapeTag`: every character of `\#&;`|*?~<>^()[]{}$'"` and newline /
 * carriage return gets a backslash (a newline becomes `\n`, a carriage return `\r`), so a log line
 * cannot run a command through an action's shell. fleetban applies the same escape to every value
 * it puts into an action.d command: the user (`<F-USER>`) and any `<F-*>` come from log lines too,
 * and for the other values (addresses, numbers, host and jail names) the escape changes nothing.
 */

import { hostname } from 'node:os';
import type { BanEvent } from './types.js';

const ESCAPE = /[\\#&;`|*?~<>^()[\]{}$'"\n\r]/g;

/** fail2ban's `CommandAction.escapeTag`: a backslash before each shell-special character. */
export function escapeTag(value: string): string {
  return value.replace(ESCAPE, (c) => `\\${c === '\n' ? 'n' : c === '\r' ? 'r' : c}`);
}

/** The ban's duration in seconds, -1 when permanent (fail2ban's `<bantime>`). */
export function bantimeSeconds(e: BanEvent): number {
  return e.ban.expiresMs === 0 ? -1 : Math.round((e.ban.expiresMs - e.ban.atMs) / 1000);
}

/** `inet6` for an IPv6 address or network, else `inet4` (fail2ban's `<family>`). */
export function familyOf(ip: string): 'inet4' | 'inet6' {
  return ip.includes(':') ? 'inet6' : 'inet4';
}

/**
 * The values of an event's tags, unescaped. `matches`, `ipmatches` and `ipjailmatches` are the
 * ban's evidence lines joined with newlines (fleetban keeps one list per ban); `failures`,
 * `ipfailures` and `ipjailfailures` its failure count; `time` the ban's start in seconds;
 * `hosts` the reporting hosts, comma-separated; `name` the jail (a default: an action's own
 * `name` option wins).
 */
export function eventTags(e: BanEvent): Map<string, string> {
  const b = e.ban;
  const matches = b.matches.join('\n');
  return new Map([
    ['ip', b.ip],
    ['fid', b.ip],
    ['family', familyOf(b.ip)],
    ['failures', String(b.failures)],
    ['ipfailures', String(b.failures)],
    ['ipjailfailures', String(b.failures)],
    ['time', String(b.atMs / 1000)],
    ['bantime', String(bantimeSeconds(e))],
    ['bancount', String(b.banCount)],
    ['matches', matches],
    ['ipmatches', matches],
    ['ipjailmatches', matches],
    ['hosts', b.hosts.join(',')],
    ['restored', '0'],
    ['name', b.jail],
  ]);
}

/** fail2ban's constant tags: `<br>`, `<sp>`, `<fq-hostname>`, `<sh-hostname>`. */
function constantTag(tag: string): string | undefined {
  switch (tag) {
    case 'br':
      return '\n';
    case 'sp':
      return ' ';
    case 'fq-hostname':
      return hostname();
    case 'sh-hostname':
      return hostname().split('.')[0];
    default:
      return undefined;
  }
}

const TAG = /<([^ <>]+)>/g;
const F_TAG = /^F-([A-Z0-9_-]+)$/;

/**
 * Replaces the event's tags in `text` in one pass (values are never searched for tags again, as
 * in fail2ban's `replaceDynamicTags`). `<F-USER>` is the ban's user; another `<F-*>` tag becomes
 * '' (fleetban keeps no other capture groups, and fail2ban writes '' for a group a ticket lacks);
 * other unknown tags stay as written. `escape` applies {@link escapeTag} to every value.
 */
export function replaceEventTags(text: string, e: BanEvent, escape: boolean): string {
  if (!text.includes('<')) return text;
  const tags = eventTags(e);
  return text.replace(TAG, (whole, tag: string) => {
    let v: string | undefined;
    if (F_TAG.test(tag)) v = tag === 'F-USER' ? e.ban.user ?? '' : '';
    else v = tags.get(tag) ?? constantTag(tag);
    if (v === undefined) return whole;
    return escape ? escapeTag(v) : v;
  });
}
