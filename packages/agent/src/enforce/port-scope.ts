/**
 * A jail's port scope: which destination ports a ban of that jail closes, read from fail2ban's
 * own jail keys `port` and `protocol`. The port is the one the client targeted (before any DNAT),
 * so `port = 2222` on a host that publishes 2222 → 22 to a container closes 2222.
 *
 * fail2ban's syntax: `port = ssh`, `port = 22,2222`, `port = http,https`, `port = 1000:2000`
 * (also `1000-2000`), names resolved through /etc/services. `port = 0:65535` (fail2ban's
 * default), `1:65535`, `all`, `any` or no `port` key at all mean every port: the ban then drops
 * every packet of the address (whatever the protocol). `protocol = tcp` (default) | `udp` | `all`
 * (tcp and udp).
 */
import { readFileSync } from 'node:fs';
import { ConfigError, type JailConfig, type JailOption } from '@fleetban/shared';

/** Transport protocols a scoped ban can name. */
export type PortProtocol = 'tcp' | 'udp';

/** One contiguous range of destination ports (inclusive). */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** Ports and protocols a ban closes; `null` elsewhere means "the whole address". */
export interface PortScope {
  readonly protocols: readonly PortProtocol[];
  /** Sorted, merged ranges. */
  readonly ports: readonly PortRange[];
}

/** Port scopes by jail name; a jail absent from the map bans whole addresses. */
export type JailScopes = ReadonlyMap<string, PortScope>;

/** Service name → port, as read from /etc/services. */
export type ServiceTable = ReadonlyMap<string, number>;

/** Parses /etc/services text (`name port/proto aliases... # comment`) into name → port. */
export function parseServices(text: string): ServiceTable {
  const out = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [name, portProto, ...aliases] = line.split(/\s+/);
    const m = /^(\d+)\/(tcp|udp|sctp|dccp)$/.exec(portProto ?? '');
    if (!name || !m) continue;
    const port = Number(m[1]);
    for (const n of [name, ...aliases]) if (!out.has(n.toLowerCase())) out.set(n.toLowerCase(), port);
  }
  return out;
}

/** /etc/services of this host (empty when unreadable: only numeric ports then). */
export function systemServices(path = '/etc/services'): ServiceTable {
  try {
    return parseServices(readFileSync(path, 'utf8'));
  } catch {
    return new Map();
  }
}

const ALL_PORTS = new Set(['all', 'any', '0:65535', '1:65535', '0-65535', '1-65535']);

/**
 * The scope of one jail, or `null` when its bans close every port. Throws {@link ConfigError}
 * naming the file, `section.key (line N)`, what was expected and what was written.
 */
export function jailScope(jail: JailConfig, services: ServiceTable): PortScope | null {
  const port = jail.options.port;
  const protocol = jail.options.protocol;
  const protocols = parseProtocol(protocol);
  if (!port) return null;
  const value = port.value.trim().toLowerCase();
  if (ALL_PORTS.has(value)) return null;
  const ranges: PortRange[] = [];
  for (const item of value.split(/[\s,]+/).filter((s) => s !== '')) {
    ranges.push(parseItem(item, port, services));
  }
  if (ranges.length === 0) throw bad(port, 'port', 'a port, a service name or a range like 1000:2000, comma separated');
  const ports = mergeRanges(ranges);
  if (ports.length === 1 && ports[0]?.from === 0 && ports[0].to === 65535) return null;
  return { protocols, ports };
}

/** The scopes of every jail that names ports (enabled or not: a ban may come from another host). */
export function jailScopes(jails: readonly JailConfig[], services: ServiceTable = systemServices()): JailScopes {
  const out = new Map<string, PortScope>();
  for (const jail of jails) {
    const scope = jailScope(jail, services);
    if (scope) out.set(jail.name, scope);
  }
  return out;
}

/** `tcp/22`, `tcp,udp/1000-2000,2222`: the scope as one short text (logs, element keys). */
export function scopeText(scope: PortScope): string {
  const ports = scope.ports.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(',');
  return `${scope.protocols.join(',')}/${ports}`;
}

function parseProtocol(opt: JailOption | undefined): PortProtocol[] {
  if (!opt) return ['tcp'];
  const v = opt.value.trim().toLowerCase();
  if (v === 'tcp' || v === 'udp') return [v];
  if (v === 'all') return ['tcp', 'udp'];
  throw bad(opt, 'protocol', 'tcp, udp or all');
}

function parseItem(item: string, opt: JailOption, services: ServiceTable): PortRange {
  const range = /^([^:-]+)[:-]([^:-]+)$/.exec(item);
  if (range) {
    const from = portOf(range[1] as string, opt, services);
    const to = portOf(range[2] as string, opt, services);
    if (to < from) throw bad(opt, 'port', 'a range whose end is not below its start');
    return { from, to };
  }
  const p = portOf(item, opt, services);
  return { from: p, to: p };
}

function portOf(text: string, opt: JailOption, services: ServiceTable): number {
  if (/^\d{1,5}$/.test(text)) {
    const n = Number(text);
    if (n <= 65535) return n;
    throw bad(opt, 'port', 'ports between 0 and 65535');
  }
  const named = services.get(text);
  if (named === undefined) throw bad(opt, 'port', `a port number or a service name from /etc/services (unknown: ${text})`);
  return named;
}

function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.from <= last.to + 1) out[out.length - 1] = { from: last.from, to: Math.max(last.to, r.to) };
    else out.push(r);
  }
  return out;
}

function bad(opt: JailOption, key: 'port' | 'protocol', expected: string): ConfigError {
  return new ConfigError(opt.file, `${opt.section}.${key} (line ${opt.line})`, expected, opt.value);
}
