/** The `[fleetban]` section: who this host is and where the fleet meets. */

import { isAbsolute } from 'node:path';
import { ConfigError } from '../errors.js';
import type { IniEntry } from '../f2bconf/ini-file.js';
import { parseNetwork } from '../ip/address.js';
import { checkToken } from '../subjects.js';
import { checkKnownKeys } from './known-keys.js';
import type { FleetConfig } from './types.js';
import { entryMap, invalidValue, readDirs, readOr, readText, words } from './value.js';

/** Keys of the `[fleetban]` section. */
export const FLEET_KEYS: readonly string[] = [
  'host', 'nats', 'nats_user', 'nats_password', 'nats_token', 'nats_creds', 'nats_nkey', 'admin_nkey',
  'tls_ca', 'tls_cert', 'tls_key', 'state_dir', 'addresses', 'action_path',
];

/** Defaults of the `[fleetban]` section, except `host` (which comes from the machine). */
export const FLEET_DEFAULTS: Omit<FleetConfig, 'host'> = {
  servers: ['nats://127.0.0.1:4222'],
  user: '',
  password: '',
  token: '',
  creds: '',
  nkey: '',
  adminNkey: '',
  tlsCa: '',
  tlsCert: '',
  tlsKey: '',
  stateDir: '/var/lib/fleetban',
  addresses: [],
  actionPath: [],
};

/**
 * Turns a machine hostname into a host token: the part before the first dot, every character
 * other than letters, digits, '_' and '-' replaced by '-', at most 64 characters
 * (`web-1.example.com` → `web-1`). An empty result becomes `localhost`.
 */
export function hostToken(hostname: string): string {
  const short = (hostname.split('.')[0] ?? '').replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  return short === '' ? 'localhost' : short;
}

/**
 * Reads the `[fleetban]` section's entries (none when the section is absent). `hostname` is the
 * machine's name, used through {@link hostToken} when `host` is not set. Throws ConfigError.
 */
export function readFleet(entries: readonly IniEntry[], hostname: string): FleetConfig {
  checkKnownKeys(entries, FLEET_KEYS);
  const map = entryMap(entries);
  const d = FLEET_DEFAULTS;
  checkTlsPair(map);
  return {
    host: readOr(map, 'host', readHost, hostToken(hostname)),
    servers: readOr(map, 'nats', readServers, d.servers),
    user: readOr(map, 'nats_user', readText, d.user),
    password: readOr(map, 'nats_password', readText, d.password),
    token: readOr(map, 'nats_token', readText, d.token),
    creds: readOr(map, 'nats_creds', readText, d.creds),
    nkey: readOr(map, 'nats_nkey', readFilePath, d.nkey),
    adminNkey: readOr(map, 'admin_nkey', readFilePath, d.adminNkey),
    tlsCa: readOr(map, 'tls_ca', readFilePath, d.tlsCa),
    tlsCert: readOr(map, 'tls_cert', readFilePath, d.tlsCert),
    tlsKey: readOr(map, 'tls_key', readFilePath, d.tlsKey),
    stateDir: readOr(map, 'state_dir', readAbsolutePath, d.stateDir),
    addresses: readOr(map, 'addresses', readHostAddresses, d.addresses),
    actionPath: readOr(map, 'action_path', readDirs, d.actionPath),
  };
}

/** A client certificate needs its key and the other way round. */
function checkTlsPair(map: ReadonlyMap<string, IniEntry>): void {
  for (const [has, needs] of [['tls_cert', 'tls_key'], ['tls_key', 'tls_cert']] as const) {
    const e = map.get(has);
    if (e !== undefined && !map.has(needs)) {
      throw new ConfigError(e.file, `${e.section}.${needs}`, `${needs} set together with ${has} (line ${e.line}): a client certificate and its key`);
    }
  }
}

function readHost(e: IniEntry): string {
  try {
    return checkToken('host', e.value);
  } catch (err) {
    throw invalidValue(e, "a host name of 1 to 64 letters, digits, '_' or '-'", err);
  }
}

const NATS_SCHEMES = ['nats:', 'tls:'];

function isNatsUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return NATS_SCHEMES.includes(u.protocol) && u.hostname !== '';
  } catch {
    return false;
  }
}

function readServers(e: IniEntry): string[] {
  const urls = words(e.value);
  if (urls.length === 0 || !urls.every(isNatsUrl)) {
    throw invalidValue(e, 'space-separated NATS URLs such as nats://10.0.0.1:4222 or tls://nats.example:4222');
  }
  return urls;
}

function readAbsolutePath(e: IniEntry): string {
  if (!isAbsolute(e.value)) throw invalidValue(e, 'an absolute path such as /var/lib/fleetban');
  return e.value;
}

function readFilePath(e: IniEntry): string {
  if (!isAbsolute(e.value)) throw invalidValue(e, 'an absolute file path such as /etc/fleetban/web-1.nk');
  return e.value;
}

/** Single host addresses (no CIDR; a full-length /32 or /128 is accepted), canonical text. */
function readHostAddresses(e: IniEntry): string[] {
  return words(e.value).map((w) => {
    const expected = `IP addresses of this host, space separated, such as 192.0.2.10 2001:db8::10 (one address each, no CIDR range; bad entry "${w}")`;
    let net;
    try {
      net = parseNetwork(w);
    } catch (err) {
      throw invalidValue(e, expected, err);
    }
    if (net.bits !== (net.family === 4 ? 32 : 128)) throw invalidValue(e, expected);
    return net.text;
  });
}
