import { createRequire } from 'node:module';
import { readFailureFast } from './failure-fast.js';
import { readFlatStrings } from './flat-strings.js';
import { v4Of } from '../ip/v4-number.js';
import { DecodeError } from '../errors.js';
import { normalizeTarget, tryParseAddress } from '../ip/address.js';
import type { AdminReply, AdminRequest, AdminVerb, HostStatus, IgnoreEntry, IgnoreOp } from '../model/admin.js';
import type { BanDecision, BanReason } from '../model/ban.js';
import type { FailureEvent } from '../model/failure.js';
import type { ControllerAlive } from '../model/controller-alive.js';
import type { Heartbeat } from '../model/heartbeat.js';
import { WIRE_LIMITS } from '../model/wire-limits.js';
import { checkToken } from '../subjects.js';
import type { fleetban } from './generated/wire.cjs';

/** Version of the wire contract written by this build; a newer one is refused on decode. */
export const SCHEMA_VERSION = 1;

/**
 * The generated message classes (pbjs, CommonJS), required at the first encode or decode rather
 * than with this module: loading them loads protobufjs, which tools that never touch the wire
 * (`fleetban regex`) should not pay for. A synchronous require keeps the codec synchronous.
 */
let wireTypes: typeof fleetban.wire | undefined;

function wire(): typeof fleetban.wire {
  if (wireTypes === undefined) {
    readFlatStrings();
    wireTypes = (createRequire(import.meta.url)('./generated/wire.cjs') as typeof import('./generated/wire.cjs')).fleetban.wire;
  }
  return wireTypes;
}
type Int64 = number | { toNumber(): number };

const num = (v: Int64 | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());
const str = (v: string | null | undefined): string => v ?? '';
const strs = (v: string[] | null | undefined): string[] => v ?? [];

interface WireType<M> {
  encode(m: M): { finish(): Uint8Array };
  decode(b: Uint8Array): M;
}

function decodeWith<M extends { schema?: number | null }>(type: WireType<M>, name: string, bytes: Uint8Array): M {
  let m: M;
  try {
    m = type.decode(bytes);
  } catch (cause) {
    throw new DecodeError(`${name}: not a valid protobuf message`, { cause });
  }
  checkSchema(name, m.schema ?? 0);
  return m;
}

function checkSchema(name: string, schema: number): void {
  if (schema < 1 || schema > SCHEMA_VERSION) throw new DecodeError(`${name}: unsupported schema version ${schema}`);
}

function required(name: string, field: string, value: string): string {
  if (!value) throw new DecodeError(`${name}: missing ${field}`);
  return value;
}

/** A string field of at most `max` characters. */
function bounded(name: string, field: string, value: string, max: number): string {
  if (value.length > max) throw new DecodeError(`${name}: ${field} longer than ${max} characters (${value.length})`);
  return value;
}

/** A host or jail name usable as a subject token; '' is allowed when `optional`. */
function token(name: string, field: string, kind: 'host' | 'jail', value: string, optional = false): string {
  if (optional && value === '') return value;
  try {
    return checkToken(kind, value);
  } catch (cause) {
    throw new DecodeError(`${name}: ${field} is not a ${kind} name: ${JSON.stringify(value.slice(0, 80))}`, { cause });
  }
}

/** A list field of at most `max` items, each checked by `each`. */
function list(name: string, field: string, values: string[], max: number, each: (v: string) => string): string[] {
  if (values.length > max) throw new DecodeError(`${name}: ${field} has more than ${max} items (${values.length})`);
  return values.map(each);
}

/** A number that is finite (a time, a count). */
function finite(name: string, field: string, value: number): number {
  if (!Number.isFinite(value)) throw new DecodeError(`${name}: ${field} is not a finite number`);
  return value;
}

/** A heartbeat's own address: one canonical host address, never a network. */
function hostAddress(value: string): string {
  return canonicalAddress('Heartbeat', value);
}

/** A failure names one address in canonical form: never a network, never another spelling. */
function canonicalAddress(name: string, value: string): string {
  if (v4Of(value) >= 0) return value; // canonical dotted IPv4, without parsing it into an object
  if (tryParseAddress(value)?.text !== value || value.includes('/')) throw new DecodeError(`${name}: ip is not a canonical address: ${JSON.stringify(value)}`);
  return value;
}

/** A ban names an address or network in canonical form. */
function canonicalTarget(name: string, value: string): string {
  let canonical: string;
  try {
    canonical = normalizeTarget(value);
  } catch (cause) {
    throw new DecodeError(`${name}: ip is not an address or network: ${JSON.stringify(value)}`, { cause });
  }
  if (canonical !== value) throw new DecodeError(`${name}: ip is not in canonical form: ${JSON.stringify(value)}`);
  return value;
}

const REASONS: readonly BanReason[] = ['threshold', 'manual', 'recidive'];
const VERBS: readonly AdminVerb[] = ['status', 'ban', 'unban', 'banned', 'get', 'set', 'reload', 'ignore', 'forget'];
const IGNORE_OPS: readonly IgnoreOp[] = ['add', 'del', 'list'];
/** Networks one `ignore add` / `ignore del` may carry. */
const MAX_NETWORKS = 1000;

function oneOf<T extends string>(name: string, field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new DecodeError(`${name}: ${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** Encodes a failure event. */
export function encodeFailure(e: FailureEvent): Uint8Array {
  return wire().FailureEvent.encode({ schema: SCHEMA_VERSION, ...e }).finish();
}

/** The schema version {@link readFailureFast} read last. */
const fastSchema = { value: 0 };

/** Decodes a failure event; throws {@link DecodeError}. */
export function decodeFailure(bytes: Uint8Array): FailureEvent {
  const n = 'FailureEvent';
  // the plain encoding read in one pass, into the event returned; anything else by protobufjs
  // (proto/failure-fast.ts)
  const fast = readFailureFast(bytes, fastSchema);
  if (fast) {
    checkSchema(n, fastSchema.value);
    checkFailure(fast);
    return fast;
  }
  const m = decodeWith(wire().FailureEvent, n, bytes);
  return checkFailure({ id: str(m.id), host: str(m.host), jail: str(m.jail), ip: str(m.ip), timeMs: num(m.timeMs), user: str(m.user), line: str(m.line) });
}

/** `e` once each field is what a failure event may carry; else throws {@link DecodeError}. */
function checkFailure(e: FailureEvent): FailureEvent {
  const n = 'FailureEvent';
  bounded(n, 'id', required(n, 'id', e.id), WIRE_LIMITS.idChars);
  token(n, 'host', 'host', e.host);
  token(n, 'jail', 'jail', e.jail);
  canonicalAddress(n, e.ip);
  finite(n, 'time_ms', e.timeMs);
  bounded(n, 'user', e.user, WIRE_LIMITS.textChars);
  bounded(n, 'line', e.line, WIRE_LIMITS.lineChars);
  return e;
}

function banToWire(b: BanDecision): fleetban.wire.IBanDecision {
  return { schema: SCHEMA_VERSION, ...b, hosts: [...b.hosts], matches: [...b.matches], scope: [...b.scope] };
}

function banFromWire(m: fleetban.wire.IBanDecision): BanDecision {
  const n = 'BanDecision';
  const hostName = (v: string) => token(n, 'hosts', 'host', v);
  return {
    ip: canonicalTarget(n, str(m.ip)),
    jail: token(n, 'jail', 'jail', str(m.jail)),
    atMs: num(m.atMs),
    expiresMs: num(m.expiresMs),
    reason: oneOf(n, 'reason', str(m.reason), REASONS),
    banCount: m.banCount ?? 0,
    hosts: list(n, 'hosts', strs(m.hosts), WIRE_LIMITS.hosts, hostName),
    matches: list(n, 'matches', strs(m.matches), WIRE_LIMITS.matches, (v) => bounded(n, 'matches', v, WIRE_LIMITS.lineChars)),
    failures: m.failures ?? 0,
    scope: list(n, 'scope', strs(m.scope), WIRE_LIMITS.hosts, (v) => token(n, 'scope', 'host', v)),
    ...(m.id ? { id: bounded(n, 'id', str(m.id), WIRE_LIMITS.idChars) } : {}),
    ...(m.user ? { user: bounded(n, 'user', str(m.user), WIRE_LIMITS.textChars) } : {}),
  };
}

/** Encodes a ban decision. */
export function encodeBan(b: BanDecision): Uint8Array {
  return wire().BanDecision.encode(banToWire(b)).finish();
}

/** Decodes a ban decision; throws {@link DecodeError}. */
export function decodeBan(bytes: Uint8Array): BanDecision {
  return banFromWire(decodeWith(wire().BanDecision, 'BanDecision', bytes));
}

function heartbeatToWire(h: Heartbeat): fleetban.wire.IHeartbeat {
  return { schema: SCHEMA_VERSION, ...h, addresses: [...h.addresses], jails: [...h.jails] };
}

function heartbeatFromWire(m: fleetban.wire.IHeartbeat): Heartbeat {
  const n = 'Heartbeat';
  const text = (field: string, v: string | null | undefined) => bounded(n, field, str(v), WIRE_LIMITS.textChars);
  return {
    host: token(n, 'host', 'host', str(m.host)),
    timeMs: num(m.timeMs),
    addresses: list(n, 'addresses', strs(m.addresses), WIRE_LIMITS.addresses, hostAddress),
    jails: list(n, 'jails', strs(m.jails), WIRE_LIMITS.jails, (v) => token(n, 'jails', 'jail', v)),
    backend: text('backend', m.backend),
    firewall: text('firewall', m.firewall),
    banned: m.banned ?? 0,
    version: text('version', m.version),
    lines: num(m.lines),
    failures: num(m.failures),
    buffered: num(m.buffered),
    skipped: num(m.skipped),
    undecodable: num(m.undecodable),
    matched: num(m.matched),
    bytesBehind: num(m.bytesBehind),
    spoolBytes: num(m.spoolBytes),
    drift: num(m.drift),
    enforceFailed: num(m.enforceFailed),
    fallback: m.fallback ?? false,
    localBans: m.localBans ?? 0,
    refused: num(m.refused),
  };
}

/** Encodes a heartbeat. */
export function encodeHeartbeat(h: Heartbeat): Uint8Array {
  return wire().Heartbeat.encode(heartbeatToWire(h)).finish();
}

/** Decodes a heartbeat; throws {@link DecodeError}. */
export function decodeHeartbeat(bytes: Uint8Array): Heartbeat {
  return heartbeatFromWire(decodeWith(wire().Heartbeat, 'Heartbeat', bytes));
}

/** Encodes the controller's liveness message. */
export function encodeControllerAlive(a: ControllerAlive): Uint8Array {
  return wire().ControllerAlive.encode({ schema: SCHEMA_VERSION, ...a }).finish();
}

/** Decodes the controller's liveness message; throws {@link DecodeError} (also for a non-positive interval). */
export function decodeControllerAlive(bytes: Uint8Array): ControllerAlive {
  const m = decodeWith(wire().ControllerAlive, 'ControllerAlive', bytes);
  const intervalMs = num(m.intervalMs);
  if (!(intervalMs > 0)) throw new DecodeError(`ControllerAlive: interval_ms must be positive, got ${intervalMs}`);
  return { host: token('ControllerAlive', 'host', 'host', str(m.host)), timeMs: num(m.timeMs), intervalMs };
}

/** Encodes an admin request. */
export function encodeAdminRequest(r: AdminRequest): Uint8Array {
  return wire().AdminRequest.encode({ schema: SCHEMA_VERSION, ...r, networks: r.networks ? [...r.networks] : [] }).finish();
}

/** Decodes an admin request; throws {@link DecodeError}. */
export function decodeAdminRequest(bytes: Uint8Array): AdminRequest {
  const m = decodeWith(wire().AdminRequest, 'AdminRequest', bytes);
  const n = 'AdminRequest';
  return {
    verb: oneOf(n, 'verb', str(m.verb), VERBS),
    jail: token(n, 'jail', 'jail', str(m.jail), true),
    ip: bounded(n, 'ip', str(m.ip), WIRE_LIMITS.textChars),
    bantimeMs: num(m.bantimeMs),
    ...(m.force ? { force: true } : {}),
    ...(m.offset ? { offset: m.offset } : {}),
    ...(m.limit ? { limit: m.limit } : {}),
    ...(m.all ? { all: true } : {}),
    ...(m.option ? { option: bounded(n, 'option', m.option, WIRE_LIMITS.textChars) } : {}),
    ...(m.value ? { value: bounded(n, 'value', m.value, WIRE_LIMITS.lineChars) } : {}),
    ...(m.op ? { op: oneOf(n, 'op', m.op, IGNORE_OPS) } : {}),
    ...(m.networks?.length ? { networks: boundedList(n, 'networks', m.networks) } : {}),
    ...(m.unban ? { unban: true } : {}),
    ...(m.host ? { host: token(n, 'host', 'host', m.host) } : {}),
  };
}

function boundedList(name: string, field: string, list: string[]): string[] {
  if (list.length > MAX_NETWORKS) throw new DecodeError(`${name}: more than ${MAX_NETWORKS} ${field}`);
  return list.map((s) => bounded(name, field, s, WIRE_LIMITS.textChars));
}

/** Encodes an entry of the ignore list (its KV value). */
export function encodeIgnoreEntry(e: IgnoreEntry): Uint8Array {
  return wire().IgnoreEntry.encode({ schema: SCHEMA_VERSION, ...e }).finish();
}

/** Decodes an entry of the ignore list; throws {@link DecodeError} (the network must be canonical). */
export function decodeIgnoreEntry(bytes: Uint8Array): IgnoreEntry {
  const m = decodeWith(wire().IgnoreEntry, 'IgnoreEntry', bytes);
  const n = 'IgnoreEntry';
  return { network: canonicalTarget(n, str(m.network)), by: bounded(n, 'by', str(m.by), WIRE_LIMITS.textChars), atMs: num(m.atMs) };
}

/** Encodes an admin reply. */
export function encodeAdminReply(r: AdminReply): Uint8Array {
  return wire().AdminReply.encode({
    schema: SCHEMA_VERSION,
    ok: r.ok,
    error: r.error,
    jails: r.jails.map((j) => ({ ...j, banned: [...j.banned] })),
    hosts: r.hosts.map(({ lastHeartbeatMs, ...h }) => ({ last: heartbeatToWire(h), receivedMs: lastHeartbeatMs })),
    bans: r.bans.map(banToWire),
    malformed: r.malformed,
    nowMs: r.nowMs,
    counters: { ...r.counters },
    total: r.total ?? 0,
    options: (r.options ?? []).map((o) => ({ ...o })),
    changes: (r.changes ?? []).map((c) => ({ ...c })),
    ignored: (r.ignored ?? []).map((e) => ({ ...e })),
  }).finish();
}

/** Decodes an admin reply; throws {@link DecodeError}. */
export function decodeAdminReply(bytes: Uint8Array): AdminReply {
  const m = decodeWith(wire().AdminReply, 'AdminReply', bytes);
  return {
    ok: m.ok ?? false,
    error: str(m.error),
    jails: (m.jails ?? []).map((j) => ({
      name: str(j.name),
      currentlyFailed: j.currentlyFailed ?? 0,
      totalFailed: num(j.totalFailed),
      currentlyBanned: j.currentlyBanned ?? 0,
      totalBanned: num(j.totalBanned),
      banned: strs(j.banned),
      maxretry: j.maxretry ?? 0,
      findtimeMs: num(j.findtimeMs),
      bantimeMs: num(j.bantimeMs),
    })),
    hosts: (m.hosts ?? []).map((h) => ({ ...heartbeatFromWire(h.last ?? {}), lastHeartbeatMs: num(h.receivedMs) })),
    bans: (m.bans ?? []).map(banFromWire),
    malformed: num(m.malformed),
    nowMs: num(m.nowMs),
    counters: Object.fromEntries(Object.entries(m.counters ?? {}).map(([k, v]) => [k, num(v)])),
    ...(num(m.total) ? { total: num(m.total) } : {}),
    ...(m.options?.length ? { options: m.options.map((o) => ({ jail: str(o.jail), name: str(o.name), value: str(o.value) })) } : {}),
    ...(m.changes?.length ? { changes: m.changes.map((c) => ({ what: str(c.what), from: str(c.from), to: str(c.to), note: str(c.note) })) } : {}),
    ...(m.ignored?.length ? { ignored: m.ignored.map((e) => ({ network: str(e.network), by: str(e.by), atMs: num(e.atMs) })) } : {}),
  };
}

/** Encodes what the controller keeps of a host (its last heartbeat and when it arrived). */
export function encodeHostStatus(h: HostStatus): Uint8Array {
  const { lastHeartbeatMs, ...beat } = h;
  return wire().HostStatus.encode({ last: heartbeatToWire(beat), receivedMs: lastHeartbeatMs }).finish();
}

/** Decodes a host record; throws {@link DecodeError} (its heartbeat is held to the heartbeat's bounds). */
export function decodeHostStatus(bytes: Uint8Array): HostStatus {
  let m: fleetban.wire.HostStatus;
  try {
    m = wire().HostStatus.decode(bytes);
  } catch (cause) {
    throw new DecodeError('HostStatus: not a valid protobuf message', { cause });
  }
  if (!m.last) throw new DecodeError('HostStatus: missing heartbeat');
  return { ...heartbeatFromWire(m.last), lastHeartbeatMs: num(m.receivedMs) };
}
