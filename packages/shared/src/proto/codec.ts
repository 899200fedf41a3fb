import { createRequire } from 'node:module';
import { DecodeError } from '../errors.js';
import { normalizeTarget, tryParseAddress } from '../ip/address.js';
import type { AdminReply, AdminRequest, AdminVerb } from '../model/admin.js';
import type { BanDecision, BanReason } from '../model/ban.js';
import type { FailureEvent } from '../model/failure.js';
import type { ControllerAlive } from '../model/controller-alive.js';
import type { Heartbeat } from '../model/heartbeat.js';
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
  return (wireTypes ??= (createRequire(import.meta.url)('./generated/wire.cjs') as typeof import('./generated/wire.cjs')).fleetban.wire);
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
  const schema = m.schema ?? 0;
  if (schema < 1 || schema > SCHEMA_VERSION) throw new DecodeError(`${name}: unsupported schema version ${schema}`);
  return m;
}

function required(name: string, field: string, value: string): string {
  if (!value) throw new DecodeError(`${name}: missing ${field}`);
  return value;
}

/** A failure names one address in canonical form: never a network, never another spelling. */
function canonicalAddress(name: string, value: string): string {
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
const VERBS: readonly AdminVerb[] = ['status', 'ban', 'unban', 'banned'];

function oneOf<T extends string>(name: string, field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new DecodeError(`${name}: ${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** Encodes a failure event. */
export function encodeFailure(e: FailureEvent): Uint8Array {
  return wire().FailureEvent.encode({ schema: SCHEMA_VERSION, ...e }).finish();
}

/** Decodes a failure event; throws {@link DecodeError}. */
export function decodeFailure(bytes: Uint8Array): FailureEvent {
  const m = decodeWith(wire().FailureEvent, 'FailureEvent', bytes);
  return {
    id: required('FailureEvent', 'id', str(m.id)),
    host: required('FailureEvent', 'host', str(m.host)),
    jail: required('FailureEvent', 'jail', str(m.jail)),
    ip: canonicalAddress('FailureEvent', str(m.ip)),
    timeMs: num(m.timeMs),
    user: str(m.user),
    line: str(m.line),
  };
}

function banToWire(b: BanDecision): fleetban.wire.IBanDecision {
  return { schema: SCHEMA_VERSION, ...b, hosts: [...b.hosts], matches: [...b.matches] };
}

function banFromWire(m: fleetban.wire.IBanDecision): BanDecision {
  return {
    ip: canonicalTarget('BanDecision', str(m.ip)),
    jail: str(m.jail),
    atMs: num(m.atMs),
    expiresMs: num(m.expiresMs),
    reason: oneOf('BanDecision', 'reason', str(m.reason), REASONS),
    banCount: m.banCount ?? 0,
    hosts: strs(m.hosts),
    matches: strs(m.matches),
    failures: m.failures ?? 0,
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
  return {
    host: required('Heartbeat', 'host', str(m.host)),
    timeMs: num(m.timeMs),
    addresses: strs(m.addresses),
    jails: strs(m.jails),
    backend: str(m.backend),
    firewall: str(m.firewall),
    banned: m.banned ?? 0,
    version: str(m.version),
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
  return { host: required('ControllerAlive', 'host', str(m.host)), timeMs: num(m.timeMs), intervalMs };
}

/** Encodes an admin request. */
export function encodeAdminRequest(r: AdminRequest): Uint8Array {
  return wire().AdminRequest.encode({ schema: SCHEMA_VERSION, ...r }).finish();
}

/** Decodes an admin request; throws {@link DecodeError}. */
export function decodeAdminRequest(bytes: Uint8Array): AdminRequest {
  const m = decodeWith(wire().AdminRequest, 'AdminRequest', bytes);
  return { verb: oneOf('AdminRequest', 'verb', str(m.verb), VERBS), jail: str(m.jail), ip: str(m.ip), bantimeMs: num(m.bantimeMs) };
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
  };
}
