/**
 * The effective configuration as text: every key of every section and jail, the value fleetban
 * uses (written, inherited from `[DEFAULT]`, or the built-in default) and where it came from
 * (`file:line`, or `default`). What `fleetban config show` prints, and the commented defaults
 * `fleetban import-fail2ban` writes for fleetban's own sections.
 */

import { readConfFiles } from '../f2bconf/conf-store.js';
import { formatDuration } from '../time/duration.js';
import { AGENT_DEFAULTS } from './agent-section.js';
import { CONTROLLER_DEFAULTS } from './controller-section.js';
import { FLEET_DEFAULTS } from './fleet-section.js';
import type { ActionSite, ActionSpec } from '../actions/types.js';
import { JAIL_KEYS } from './jail-section.js';
import type { AgentConfig, ControllerConfig, FleetbanConfig, FleetConfig, JailBackend, JailConfig, ListenAddress } from './types.js';

/** One key's effective value. */
export interface ConfigValue {
  readonly key: string;
  /** The value as fleetban reads it (durations compact, lists space-separated, secrets masked). */
  readonly value: string;
  /** `file:line` where it was written (for a jail, possibly in `[DEFAULT]`), or `default`. */
  readonly origin: string;
}

/** One section's (or jail's) effective values, its keys in a stable order. */
export interface ConfigSectionView {
  /** `fleetban`, `agent`, `controller`, `DEFAULT` or a jail's name. */
  readonly section: string;
  readonly values: readonly ConfigValue[];
}

type Show<T> = (c: T) => string;

const dur = (ms: number): string => (ms < 0 ? '-1' : formatDuration(ms));
const list = (xs: readonly (string | number)[]): string => xs.join(' ');
const listen = (a: ListenAddress | null): string => (a === null ? '' : a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
const secret = (s: string): string => (s === '' ? '' : '********');
/** A web token's file path is shown, an inline token masked. */
const webSecret = (s: string): string => (s.startsWith('file:') ? s : secret(s));

const FLEET: ReadonlyArray<[string, Show<FleetConfig>]> = [
  ['host', (c) => c.host], ['nats', (c) => list(c.servers)], ['nats_user', (c) => c.user],
  ['nats_password', (c) => secret(c.password)], ['nats_token', (c) => secret(c.token)], ['nats_creds', (c) => c.creds],
  ['nats_nkey', (c) => c.nkey], ['admin_nkey', (c) => c.adminNkey], ['tls_ca', (c) => c.tlsCa],
  ['tls_cert', (c) => c.tlsCert], ['tls_key', (c) => c.tlsKey], ['state_dir', (c) => c.stateDir],
  ['addresses', (c) => list(c.addresses)],
  ['action_path', (c) => list(c.actionPath)],
];

const AGENT: ReadonlyArray<[string, Show<AgentConfig>]> = [
  ['enforcer', (c) => c.enforcer], ['on_stop', (c) => c.onStop], ['heartbeat', (c) => dur(c.heartbeatMs)],
  ['reconcile', (c) => dur(c.reconcileMs)], ['poll', (c) => dur(c.pollMs)], ['buffer', (c) => String(c.buffer)],
  ['blocktype', (c) => c.blockType], ['max_line', (c) => String(c.maxLineBytes)], ['spool', (c) => String(c.spoolBytes)],
  ['filter_path', (c) => list(c.filterPath)], ['metrics', (c) => listen(c.metrics)],
];

const CONTROLLER: ReadonlyArray<[string, Show<ControllerConfig>]> = [
  ['ignoreip', (c) => list(c.ignoreip)], ['expire_interval', (c) => dur(c.expireMs)], ['events_max_age', (c) => dur(c.eventsMaxAgeMs)],
  ['max_tracked', (c) => String(c.maxTracked)], ['max_clock_skew', (c) => dur(c.maxClockSkewMs)],
  ['min_prefix_v4', (c) => String(c.minPrefixV4)], ['min_prefix_v6', (c) => String(c.minPrefixV6)],
  ['max_bantime', (c) => dur(c.maxBantimeMs)], ['lease_ttl', (c) => dur(c.leaseTtlMs)], ['snapshot_interval', (c) => dur(c.snapshotMs)], ['dbpurgeage', (c) => dur(c.dbPurgeAgeMs)],
  ['replicas', (c) => String(c.replicas)], ['metrics', (c) => listen(c.metrics)], ['web', (c) => listen(c.web)],
  ['web_token', (c) => webSecret(c.webToken)], ['web_admin_token', (c) => webSecret(c.webAdminToken)],
];

function backendText(b: JailBackend): string {
  if (b.kind === 'systemd') {
    const opts = [...(b.journalpath ? [`journalpath=${b.journalpath}`] : []), ...(b.journalfiles.length > 0 ? [`journalfiles=${list(b.journalfiles)}`] : [])];
    return opts.length > 0 ? `systemd[${opts.join(', ')}]` : 'systemd';
  }
  if (b.kind === 'docker') return `docker[container=${b.container}, root=${b.root}]`;
  return b.kind;
}

const JAIL: Readonly<Record<string, Show<JailConfig>>> = {
  enabled: (j) => String(j.enabled),
  filter: (j) => j.filter,
  logpath: (j) => list(j.logpath),
  failregex: (j) => j.failregex.join('\n'),
  ignoreregex: (j) => j.ignoreregex.join('\n'),
  ignoreip: (j) => list(j.ignoreip),
  maxretry: (j) => String(j.maxretry),
  findtime: (j) => dur(j.findtimeMs),
  bantime: (j) => dur(j.bantimeMs),
  maxmatches: (j) => String(j.maxmatches),
  'bantime.increment': (j) => String(j.increment.enabled),
  'bantime.factor': (j) => String(j.increment.factor),
  'bantime.multipliers': (j) => list(j.increment.multipliers),
  'bantime.maxtime': (j) => dur(j.increment.maxtimeMs),
  'bantime.rndtime': (j) => dur(j.increment.rndtimeMs),
  'bantime.formula': (j) => j.increment.formula,
  'bantime.overalljails': (j) => String(j.increment.overalljails),
  maxretry_per_host: (j) => String(j.maxretryPerHost),
  min_hosts: (j) => String(j.minHosts),
  policy: (j) => j.policy,
  backend: (j) => backendText(j.backend),
  action: (j) => actionsText(j, 'controller'),
  host_action: (j) => actionsText(j, 'host'),
};

/** Action options whose values are secrets (tokens, webhook secrets, passwords, keys): shown as `***`. */
const SECRET_OPTION = /(token|secret|password|passwd|apikey|api_key|key)$/i;

/** A jail's actions that run at `site`, one `name[opt=value, ...]` per line. */
function actionsText(j: JailConfig, site: ActionSite): string {
  const spec = (a: ActionSpec): string => {
    const opts = Object.entries(a.options).map(([k, v]) => `${k}=${SECRET_OPTION.test(k) ? '"***"' : JSON.stringify(v)}`);
    return opts.length > 0 ? `${a.name}[${opts.join(', ')}]` : a.name;
  };
  return j.actions.filter((a) => a.site === site).map(spec).join('\n');
}

function sectionView<T>(section: string, table: ReadonlyArray<[string, Show<T>]>, c: T, origin: (key: string) => string): ConfigSectionView {
  return { section, values: table.map(([key, show]) => ({ key, value: show(c), origin: origin(key) })) };
}

/**
 * A jail's (or `[DEFAULT]`'s, name '') effective values: fleetban's jail keys first, in the
 * order of the documentation, then every other key written for it (fail2ban's own keys, helper
 * keys of paths-*.conf) as written.
 */
export function jailView(j: JailConfig): ConfigSectionView {
  const origin = (key: string): string => {
    const o = j.options[key];
    return o ? `${o.file}:${o.line}` : 'default';
  };
  const known = JAIL_KEYS.map((key) => ({ key, value: (JAIL[key] as Show<JailConfig>)(j), origin: origin(key) }));
  const others = Object.keys(j.options)
    .filter((k) => !JAIL_KEYS.includes(k))
    .sort()
    .map((key) => ({ key, value: (j.options[key] as { value: string }).value, origin: origin(key) }));
  return { section: j.name === '' ? 'DEFAULT' : j.name, values: [...known, ...others] };
}

/**
 * Every section of a loaded configuration with the effective value and origin of each key:
 * `[fleetban]`, `[agent]`, `[controller]`, `[DEFAULT]`, then the jails in file order. Origins of
 * fleetban's own sections are read again from `config.file` (with its includes and `.local`).
 */
export function configView(config: FleetbanConfig): ConfigSectionView[] {
  const store = config.file === '' ? undefined : readConfFiles([config.file]);
  const from = (section: string) => (key: string): string => {
    const e = store?.entry(section, key, true);
    return e ? `${e.file}:${e.line}` : 'default';
  };
  return [
    sectionView('fleetban', FLEET, config.fleet, from('fleetban')),
    sectionView('agent', AGENT, config.agent, from('agent')),
    sectionView('controller', CONTROLLER, config.controller, from('controller')),
    jailView(config.jailDefaults),
    ...config.jails.map(jailView),
  ];
}

/**
 * The built-in defaults of `[fleetban]`, `[agent]` and `[controller]` (`host`: `hostname`, the
 * caller says what). Every origin is `default`.
 */
export function settingDefaults(hostname: string): ConfigSectionView[] {
  const d = (): string => 'default';
  return [
    sectionView('fleetban', FLEET, { ...FLEET_DEFAULTS, host: hostname }, d),
    sectionView('agent', AGENT, AGENT_DEFAULTS, d),
    sectionView('controller', CONTROLLER, CONTROLLER_DEFAULTS, d),
  ];
}
