/**
 * `cloudflare[token=..., zone=..., api_url=https://api.cloudflare.com/client/v4]`: a ban at the
 * edge, as a Cloudflare IP Access Rule (mode `block`) on the account (`/user/...`) or on one zone
 * (`/zones/<zone>/...`). A ban creates the rule (an existing one for the address counts as done);
 * an unban finds the rules fleetban made for the address (notes starting with `fleetban`) and
 * deletes them (none found, or already gone, counts as done). Rules written by hand are kept.
 */

import { httpCall } from './http-request.js';
import { deliveryRunner, type RunnerIdentity } from './runner-base.js';
import { ActionError, type ActionRunner, type BanEvent } from './types.js';

/** Cloudflare's error code for "a rule for this address already exists". */
const DUPLICATE_RULE = 10009;

/** The access rule's target for an address or network: `ip`, `ip6` or `ip_range`. */
export function cloudflareTarget(ip: string): 'ip' | 'ip6' | 'ip_range' {
  if (ip.includes('/')) return 'ip_range';
  return ip.includes(':') ? 'ip6' : 'ip';
}

/** The notes fleetban writes on its rules: `fleetban <jail>`. */
export function cloudflareNotes(jail: string): string {
  return `fleetban ${jail}`;
}

interface CfAnswer {
  readonly result?: ReadonlyArray<{ readonly id?: unknown; readonly notes?: unknown }> | null;
  readonly errors?: ReadonlyArray<{ readonly code?: unknown }>;
}

function parse(text: string): CfAnswer {
  try {
    return JSON.parse(text) as CfAnswer;
  } catch {
    return {};
  }
}

/** The runner of one `cloudflare` action. */
export function cloudflareRunner(id: RunnerIdentity, o: ReadonlyMap<string, string>, timeoutMs: number): ActionRunner {
  const api = (o.get('api_url') as string).replace(/\/+$/, '');
  const zone = o.get('zone');
  const rules = `${api}/${zone ? `zones/${zone}` : 'user'}/firewall/access_rules/rules`;
  const headers = { Authorization: `Bearer ${o.get('token') as string}`, 'Content-Type': 'application/json' };

  const ban = async (e: BanEvent): Promise<void> => {
    const body = JSON.stringify({
      mode: 'block',
      configuration: { target: cloudflareTarget(e.ban.ip), value: e.ban.ip },
      notes: cloudflareNotes(e.ban.jail),
    });
    const label = `${id.name} ban`;
    const r = await httpCall({ method: 'POST', url: rules, headers, body, timeoutMs, label, accept: [400] });
    if (r.status === 400 && !parse(r.text).errors?.some((x) => x.code === DUPLICATE_RULE)) {
      throw new ActionError(`${label}: HTTP 400: ${r.text.trim().slice(0, 200)}`, false);
    }
  };

  const unban = async (e: BanEvent): Promise<void> => {
    const query = new URLSearchParams({ 'configuration.value': e.ban.ip, mode: 'block' });
    const label = `${id.name} unban`;
    const found = await httpCall({ method: 'GET', url: `${rules}?${query}`, headers, timeoutMs, label, accept: [404] });
    const ours = (parse(found.text).result ?? []).filter((r) => typeof r.id === 'string' && String(r.notes ?? '').startsWith('fleetban'));
    for (const r of ours) {
      await httpCall({ method: 'DELETE', url: `${rules}/${encodeURIComponent(r.id as string)}`, headers, timeoutMs, label, accept: [404] });
    }
  };

  return deliveryRunner(id, (e) => (e.kind === 'ban' ? ban(e) : unban(e)));
}
