/** The `[controller]` section: how the controller decides and keeps state. */

import type { IniEntry } from '../f2bconf/ini-file.js';
import { checkKnownKeys } from './known-keys.js';
import type { ControllerConfig } from './types.js';
import { entryMap, invalidValue, readDuration, readListenAddress, readNetworks, readOr, readPositiveInt } from './value.js';

/** Keys of the `[controller]` section. */
export const CONTROLLER_KEYS: readonly string[] = [
  'ignoreip', 'expire_interval', 'events_max_age', 'max_tracked', 'max_clock_skew', 'min_prefix_v4', 'min_prefix_v6', 'max_bantime',
  'lease_ttl', 'snapshot_interval', 'dbpurgeage', 'replicas', 'metrics', 'web', 'web_token', 'web_admin_token',
];

/** Defaults of the `[controller]` section. */
export const CONTROLLER_DEFAULTS: ControllerConfig = {
  ignoreip: [],
  expireMs: 1_000,
  eventsMaxAgeMs: 86_400_000,
  maxTracked: 100_000,
  maxClockSkewMs: 60_000,
  minPrefixV4: 16,
  minPrefixV6: 32,
  maxBantimeMs: 365 * 86_400_000,
  leaseTtlMs: 1_000,
  snapshotMs: 10_000,
  dbPurgeAgeMs: 86_400_000,
  replicas: 1,
  metrics: null,
  web: null,
  webToken: '',
  webAdminToken: '',
};

/** Reads the `[controller]` section's entries (none when the section is absent). Throws ConfigError. */
export function readController(entries: readonly IniEntry[]): ControllerConfig {
  checkKnownKeys(entries, CONTROLLER_KEYS);
  const map = entryMap(entries);
  const d = CONTROLLER_DEFAULTS;
  return {
    ignoreip: readOr(map, 'ignoreip', readNetworks, d.ignoreip),
    expireMs: readOr(map, 'expire_interval', readDuration('positive'), d.expireMs),
    eventsMaxAgeMs: readOr(map, 'events_max_age', readDuration('positive'), d.eventsMaxAgeMs),
    maxTracked: readOr(map, 'max_tracked', readPositiveInt, d.maxTracked),
    maxClockSkewMs: readOr(map, 'max_clock_skew', readDuration('zero-or-more'), d.maxClockSkewMs),
    minPrefixV4: readOr(map, 'min_prefix_v4', readPrefixLength(32), d.minPrefixV4),
    minPrefixV6: readOr(map, 'min_prefix_v6', readPrefixLength(128), d.minPrefixV6),
    maxBantimeMs: readOr(map, 'max_bantime', readDuration('positive'), d.maxBantimeMs),
    leaseTtlMs: readOr(map, 'lease_ttl', readDuration('positive'), d.leaseTtlMs),
    snapshotMs: readOr(map, 'snapshot_interval', readDuration('zero-or-more'), d.snapshotMs),
    dbPurgeAgeMs: readOr(map, 'dbpurgeage', readDuration('positive'), d.dbPurgeAgeMs),
    replicas: readOr(map, 'replicas', readReplicas, d.replicas),
    metrics: readOr(map, 'metrics', readListenAddress, d.metrics),
    web: readOr(map, 'web', readListenAddress, d.web),
    webToken: readOr(map, 'web_token', readWebToken, d.webToken),
    webAdminToken: readOr(map, 'web_admin_token', readWebToken, d.webAdminToken),
  };
}

/** Shortest inline web token accepted (a guessable token is refused on load). */
export const WEB_TOKEN_MIN_LENGTH = 16;

/** The prefix of a web token given as the path of a file holding it. */
export const WEB_TOKEN_FILE_PREFIX = 'file:';

/**
 * A web token: `file:/absolute/path` (read when the web view starts) or the token itself, at
 * least {@link WEB_TOKEN_MIN_LENGTH} characters with no white space.
 */
function readWebToken(e: IniEntry): string {
  const v = e.value;
  if (v.startsWith(WEB_TOKEN_FILE_PREFIX)) {
    if (!v.slice(WEB_TOKEN_FILE_PREFIX.length).startsWith('/')) throw invalidValue(e, 'file:/absolute/path or a token of at least 16 characters');
    return v;
  }
  if (v.length < WEB_TOKEN_MIN_LENGTH || /\s/.test(v)) throw invalidValue(e, 'file:/absolute/path or a token of at least 16 characters without spaces');
  return v;
}

/** A prefix length from 0 to `max`. */
function readPrefixLength(max: number): (e: IniEntry) => number {
  return (e) => {
    const n = /^\d{1,3}$/.test(e.value) ? Number(e.value) : NaN;
    if (!(n >= 0 && n <= max)) throw invalidValue(e, `a prefix length from 0 to ${max}`);
    return n;
  };
}

/** A JetStream replica count: 1 to 5 (nats-server's own limit). */
function readReplicas(e: IniEntry): number {
  const n = /^[1-5]$/.test(e.value) ? Number(e.value) : NaN;
  if (Number.isNaN(n)) throw invalidValue(e, 'a replica count from 1 to 5');
  return n;
}
