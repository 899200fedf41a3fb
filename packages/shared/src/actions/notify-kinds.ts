/**
 * The notification kinds: `webhook` (the event as JSON, optionally signed), `telegram`, `ntfy` and
 * `discord` (a short text). Each delivers one HTTP request per ban and per unban.
 */

import { createHmac } from 'node:crypto';
import { formatDuration } from '../time/duration.js';
import { bantimeSeconds } from './event-tags.js';
import { httpCall } from './http-request.js';
import { deliveryRunner, type RunnerIdentity } from './runner-base.js';
import type { ActionRunner, BanEvent } from './types.js';

/** The JSON a `webhook` posts: the event, flattened. */
export interface WebhookBody {
  readonly kind: 'ban' | 'unban';
  readonly id: string;
  readonly ip: string;
  readonly jail: string;
  readonly failures: number;
  /** Seconds; -1 = permanent. */
  readonly bantime: number;
  readonly bancount: number;
  readonly hosts: readonly string[];
  readonly matches: readonly string[];
  /** '' when none. */
  readonly user: string;
  readonly reason: string;
  readonly atMs: number;
  /** 0 = permanent. */
  readonly expiresMs: number;
  /** For an unban: `expired` or `admin`. */
  readonly why?: string;
}

/** The body of a webhook for `e`. */
export function webhookBody(e: BanEvent): WebhookBody {
  const b = e.ban;
  return {
    kind: e.kind,
    id: e.id,
    ip: b.ip,
    jail: b.jail,
    failures: b.failures,
    bantime: bantimeSeconds(e),
    bancount: b.banCount,
    hosts: b.hosts,
    matches: b.matches,
    user: b.user ?? '',
    reason: b.reason,
    atMs: e.atMs,
    expiresMs: b.expiresMs,
    ...(e.why ? { why: e.why } : {}),
  };
}

/** `sha256=<hex HMAC-SHA256 of body>`: the `X-Fleetban-Signature` header of a signed webhook. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** One-line title: `fleetban: banned 203.0.113.7 (sshd)`. */
export function eventTitle(e: BanEvent): string {
  return `fleetban: ${e.kind === 'ban' ? 'banned' : 'unbanned'} ${e.ban.ip} (${e.ban.jail})`;
}

const MAX_LINES = 5;
const MAX_LINE = 300;

/** A short plain-text description of the event, with at most 5 evidence lines. */
export function eventText(e: BanEvent): string {
  const b = e.ban;
  if (e.kind === 'unban') return `fleetban: unbanned ${b.ip} in jail ${b.jail}${e.why ? ` (${e.why})` : ''}`;
  const secs = bantimeSeconds(e);
  const lines = [
    `fleetban: banned ${b.ip} in jail ${b.jail} ${secs < 0 ? 'permanently' : `for ${formatDuration(secs * 1000)}`}`,
    `${b.failures} failures${b.hosts.length ? ` reported by ${b.hosts.join(', ')}` : ''}; ban #${b.banCount}; reason ${b.reason}${b.user ? `; user ${b.user}` : ''}`,
    ...b.matches.slice(0, MAX_LINES).map((m) => (m.length > MAX_LINE ? `${m.slice(0, MAX_LINE)}…` : m)),
  ];
  return lines.join('\n');
}

/** `webhook[url=..., secret=...]`. */
export function webhookRunner(id: RunnerIdentity, o: ReadonlyMap<string, string>, timeoutMs: number): ActionRunner {
  const url = o.get('url') as string;
  const secret = o.get('secret');
  return deliveryRunner(id, async (e) => {
    const body = JSON.stringify(webhookBody(e));
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (secret) headers['X-Fleetban-Signature'] = webhookSignature(secret, body);
    await httpCall({ method: 'POST', url, headers, body, timeoutMs, label: `${id.name} ${e.kind}` });
  });
}

/** `telegram[token=..., chat_id=..., api_url=https://api.telegram.org]`. */
export function telegramRunner(id: RunnerIdentity, o: ReadonlyMap<string, string>, timeoutMs: number): ActionRunner {
  const url = `${trimSlash(o.get('api_url') as string)}/bot${o.get('token') as string}/sendMessage`;
  const chatId = o.get('chat_id') as string;
  return deliveryRunner(id, async (e) => {
    const body = JSON.stringify({ chat_id: chatId, text: eventText(e) });
    await httpCall({ method: 'POST', url, headers: { 'Content-Type': 'application/json' }, body, timeoutMs, label: `${id.name} ${e.kind}` });
  });
}

/** `ntfy[url=https://ntfy.sh, topic=..., token=...]`. */
export function ntfyRunner(id: RunnerIdentity, o: ReadonlyMap<string, string>, timeoutMs: number): ActionRunner {
  const url = `${trimSlash(o.get('url') as string)}/${o.get('topic') as string}`;
  const token = o.get('token');
  return deliveryRunner(id, async (e) => {
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', Title: eventTitle(e) };
    if (token) headers.Authorization = `Bearer ${token}`;
    await httpCall({ method: 'POST', url, headers, body: eventText(e), timeoutMs, label: `${id.name} ${e.kind}` });
  });
}

const DISCORD_MAX = 2000;

/** `discord[webhook_url=...]`: mentions in log lines (`@everyone`) never ping anyone. */
export function discordRunner(id: RunnerIdentity, o: ReadonlyMap<string, string>, timeoutMs: number): ActionRunner {
  const url = o.get('webhook_url') as string;
  return deliveryRunner(id, async (e) => {
    const content = eventText(e).slice(0, DISCORD_MAX);
    const body = JSON.stringify({ content, allowed_mentions: { parse: [] } });
    await httpCall({ method: 'POST', url, headers: { 'Content-Type': 'application/json' }, body, timeoutMs, label: `${id.name} ${e.kind}` });
  });
}

function trimSlash(u: string): string {
  return u.replace(/\/+$/, '');
}
