/**
 * What crosses a boundary: addresses and networks (ip/), durations (time/), the protobuf codec
 * (proto/) and NATS names (subjects.ts). Pure logic only: no network, no NATS.
 */
import t, { type Test } from 'tap';
import { DecodeError, FleetbanError, ParseError } from '../src/errors.js';
import { Allowlist } from '../src/ip/allowlist.js';
import { networkContains, normalizeTarget, parseAddress, parseNetwork, tryParseAddress } from '../src/ip/address.js';
import type { AdminReply, AdminRequest } from '../src/model/admin.js';
import type { BanDecision } from '../src/model/ban.js';
import type { ControllerAlive } from '../src/model/controller-alive.js';
import type { FailureEvent } from '../src/model/failure.js';
import type { Heartbeat } from '../src/model/heartbeat.js';
import { WIRE_LIMITS } from '../src/model/wire-limits.js';
import {
  decodeAdminReply,
  decodeAdminRequest,
  decodeBan,
  decodeControllerAlive,
  decodeFailure,
  decodeHeartbeat,
  encodeAdminReply,
  encodeAdminRequest,
  encodeBan,
  encodeControllerAlive,
  encodeFailure,
  encodeHeartbeat,
  SCHEMA_VERSION,
} from '../src/proto/codec.js';
import { banKey, controllerAliveSubject, eventSubject, heartbeatSubject, historyKey, hostInboxPrefix, hostPermissions, targetOfBanKey } from '../src/subjects.js';
import { formatDuration, parseDuration, PERMANENT } from '../src/time/duration.js';

/** Runs `fn`, expects an error of class `cls` with `code`; `label` names the case in the output. */
function expectError(
  tt: Test,
  fn: () => unknown,
  cls: new (...args: never[]) => FleetbanError,
  code: string,
  label: string,
): void {
  try {
    fn();
  } catch (err) {
    tt.ok(err instanceof cls, `${label}: throws ${cls.name}`, { found: String(err) });
    tt.equal((err as FleetbanError).code, code, `${label}: code ${code}`);
    return;
  }
  tt.fail(`${label}: expected ${cls.name}, nothing was thrown`);
}

/** mulberry32: a small seeded PRNG, so a failing random case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(rnd: () => number, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** Protobuf by hand (the generated code stays inside the codec): varints, tags, strings. */
const pb = {
  varint(n: number): number[] {
    const out: number[] = [];
    let v = BigInt.asUintN(64, BigInt(n));
    do {
      const byte = Number(v & 0x7fn);
      v >>= 7n;
      out.push(v > 0n ? byte | 0x80 : byte);
    } while (v > 0n);
    return out;
  },
  /** Field `no` as a varint (wire type 0). */
  uint(no: number, n: number): number[] {
    return [(no << 3) | 0, ...pb.varint(n)];
  },
  /** Field `no` as a length-delimited string (wire type 2). */
  str(no: number, s: string): number[] {
    const b = [...new TextEncoder().encode(s)];
    return [(no << 3) | 2, ...pb.varint(b.length), ...b];
  },
  bytes(...fields: number[][]): Uint8Array {
    return Uint8Array.from(fields.flat());
  },
};

const FAILURE: FailureEvent = {
  id: 'web-1:1700000000:42',
  host: 'web-1',
  jail: 'sshd',
  ip: '192.0.2.10',
  timeMs: 1_700_000_000_123,
  user: 'root',
  line: 'Failed password for root from 192.0.2.10 port 22 ssh2',
};

const BAN: BanDecision = {
  ip: '2001:db8::/64',
  jail: 'sshd',
  atMs: 1_700_000_000_000,
  expiresMs: 2 ** 41 + 12_345, // past 2^32 and 2^40: int64 must come back exactly
  reason: 'threshold',
  banCount: 3,
  hosts: ['web-1', 'web-2'],
  matches: ['line one', 'line two'],
  failures: 5,
  scope: ['web-1'],
};

const HEARTBEAT: Heartbeat = {
  host: 'web-2',
  timeMs: 1_700_000_001_000,
  addresses: ['198.51.100.2', '2001:db8::2'],
  jails: ['sshd', 'nginx-http-auth'],
  backend: 'nftables',
  firewall: 'nftables 1.0.9',
  banned: 17,
  version: '0.1.0',
  lines: 2 ** 40 + 1,
  failures: 12_345,
  buffered: 0,
  skipped: 3,
  undecodable: 1,
  matched: 99,
  bytesBehind: 2 ** 33,
  spoolBytes: 4096,
  drift: 2,
  enforceFailed: 1,
  fallback: true,
  localBans: 2,
  refused: 4,
};

const ALIVE: ControllerAlive = { host: 'ctl', timeMs: 1_700_000_003_000, intervalMs: 1000 };

const ADMIN_REPLY: AdminReply = {
  ok: true,
  error: '',
  jails: [
    {
      name: 'sshd',
      currentlyFailed: 2,
      totalFailed: 2 ** 33,
      currentlyBanned: 1,
      totalBanned: 9,
      banned: ['2001:db8::/64'],
      maxretry: 5,
      findtimeMs: 600_000,
      bantimeMs: -1,
    },
  ],
  hosts: [{ ...HEARTBEAT, host: 'web-1', lastHeartbeatMs: 1_700_000_002_000 }],
  bans: [BAN, { ...BAN, ip: '198.51.100.9', reason: 'manual', expiresMs: 0, hosts: [], matches: [] }],
  malformed: 4,
  nowMs: 1_700_000_003_000,
  counters: { 'events.received': 2 ** 33, 'events.rejected.future': 1 },
};

t.test('ip/address: IPv4, normalised', async (tt) => {
  const a = parseAddress('192.0.2.1');
  tt.same(a, { family: 4, value: 0xc0000201n, text: '192.0.2.1' });
  tt.equal(parseAddress(' 203.0.113.255 ').text, '203.0.113.255', 'surrounding spaces are trimmed');
  tt.equal(parseAddress('0.0.0.0').value, 0n);
  tt.equal(parseAddress('255.255.255.255').value, 0xffffffffn);
});

t.test('ip/address: IPv6 printed as RFC 5952', async (tt) => {
  const cases: Array<[string, string]> = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'], // lowercase, longest zero run compressed
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'], // leading zeros dropped
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // equal runs: the first is compressed
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest run wins over an earlier shorter one
    ['2001:db8::0:1', '2001:db8::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:db8:0:0:0:0:0:0', '2001:db8::'],
    ['2001:DB8:A:B:C:D:E:F', '2001:db8:a:b:c:d:e:f'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'], // embedded dotted quad, not v4-mapped
  ];
  for (const [input, want] of cases) {
    const a = parseAddress(input);
    tt.equal(a.text, want, input);
    tt.equal(a.family, 6, `${input} is IPv6`);
  }
  tt.equal(parseAddress('2001:db8::1').value, (0x20010db8n << 96n) | 1n);
});

t.test('ip/address: v4-mapped, brackets, zone ids', async (tt) => {
  tt.same(parseAddress('::ffff:192.0.2.1'), parseAddress('192.0.2.1'), 'v4-mapped folds to IPv4');
  tt.equal(parseAddress('::FFFF:192.0.2.1').text, '192.0.2.1', 'mapped prefix in upper case');
  tt.equal(parseAddress('::ffff:c000:201').text, '192.0.2.1', 'v4-mapped in hex folds too');
  tt.equal(parseAddress('::ffff:c000:201').family, 4);
  tt.equal(parseAddress('[2001:db8::1]').text, '2001:db8::1', 'brackets are removed');
  tt.equal(parseAddress('[2001:0DB8::0001]').text, '2001:db8::1');
  tt.equal(parseAddress('fe80::1%eth0').text, 'fe80::1', 'zone id is dropped');
  tt.equal(parseAddress('fe80::1%eth0').family, 6);
  tt.equal(tryParseAddress('%eth0'), null, 'a zone id alone is not an address');
});

t.test('ip/address: invalid inputs', async (tt) => {
  for (const bad of ['1.2.3', '256.1.1.1', 'abc', '', ' ', '1.2.3.4.5', '01.2.3.4', '2001:db8::1::1', '2001:db8::g', '::ffff:256.1.1.1', '192.0.2.1/24']) {
    tt.equal(tryParseAddress(bad), null, `tryParseAddress(${JSON.stringify(bad)}) is null`);
    expectError(tt, () => parseAddress(bad), ParseError, 'PARSE_INVALID', `parseAddress(${JSON.stringify(bad)})`);
  }
});

t.test('ip/address: networks clear host bits; full length prints the bare address', async (tt) => {
  const cases: Array<[string, string, number]> = [
    ['192.0.2.7/24', '192.0.2.0/24', 24],
    ['192.0.2.7/32', '192.0.2.7', 32],
    ['192.0.2.7', '192.0.2.7', 32],
    ['198.51.100.200/25', '198.51.100.128/25', 25],
    ['203.0.113.9/0', '0.0.0.0/0', 0],
    ['2001:db8::ff/64', '2001:db8::/64', 64],
    ['2001:db8:1:2:3:4:5:6/32', '2001:db8::/32', 32],
    ['2001:db8::1/128', '2001:db8::1', 128],
    ['2001:DB8::1', '2001:db8::1', 128],
    ['[2001:db8::1]/48', '2001:db8::/48', 48],
    ['::/0', '::/0', 0],
    ['::ffff:192.0.2.7/120', '192.0.2.0/24', 24], // v4-mapped prefix folds to IPv4
    ['::ffff:192.0.2.7', '192.0.2.7', 32],
  ];
  for (const [input, text, bits] of cases) {
    const n = parseNetwork(input);
    tt.equal(n.text, text, input);
    tt.equal(n.bits, bits, `${input}: bits`);
    tt.equal(normalizeTarget(input), text, `normalizeTarget(${input})`);
  }
  tt.equal(parseNetwork('192.0.2.7/24').base, 0xc0000200n);
  for (const bad of ['2001:db8::/129', '192.0.2.0/33', '192.0.2.0/', '192.0.2.0/-1', '192.0.2.0/x', '192.0.2.0/24/8', 'abc/24', '1.2.3/24', '256.1.1.1', '', '/24']) {
    expectError(tt, () => parseNetwork(bad), ParseError, 'PARSE_INVALID', `parseNetwork(${JSON.stringify(bad)})`);
    expectError(tt, () => normalizeTarget(bad), ParseError, 'PARSE_INVALID', `normalizeTarget(${JSON.stringify(bad)})`);
  }
});

t.test('ip/address: networkContains', async (tt) => {
  const v4 = parseNetwork('198.51.100.0/24');
  tt.ok(networkContains(v4, parseAddress('198.51.100.0')));
  tt.ok(networkContains(v4, parseAddress('198.51.100.255')));
  tt.notOk(networkContains(v4, parseAddress('198.51.101.0')));
  tt.ok(networkContains(v4, parseAddress('::ffff:198.51.100.42')), 'v4-mapped is inside its IPv4 network');
  const v6 = parseNetwork('2001:db8:1::/48');
  tt.ok(networkContains(v6, parseAddress('2001:db8:1:ffff::1')));
  tt.notOk(networkContains(v6, parseAddress('2001:db8:2::1')));
  tt.notOk(networkContains(parseNetwork('::/0'), parseAddress('192.0.2.1')), 'families never mix');
  tt.notOk(networkContains(parseNetwork('0.0.0.0/0'), parseAddress('2001:db8::1')), 'families never mix');
  tt.ok(networkContains(parseNetwork('0.0.0.0/0'), parseAddress('203.0.113.1')), '/0 holds every IPv4 address');
  const host = parseNetwork('203.0.113.5');
  tt.ok(networkContains(host, parseAddress('203.0.113.5')));
  tt.notOk(networkContains(host, parseAddress('203.0.113.4')));
});

t.test('ip/allowlist: CIDRs, both families, non-addresses', async (tt) => {
  const allow = new Allowlist(['192.0.2.0/24', '198.51.100.7', '2001:db8:a::/48', parseNetwork('203.0.113.128/25')]);
  tt.same(allow.entries(), ['192.0.2.0/24', '198.51.100.7', '2001:db8:a::/48', '203.0.113.128/25']);
  tt.ok(allow.has('192.0.2.1'));
  tt.ok(allow.has('192.0.2.255'));
  tt.ok(allow.has('::ffff:192.0.2.9'), 'v4-mapped form of a listed address');
  tt.ok(allow.has('198.51.100.7'));
  tt.notOk(allow.has('198.51.100.8'));
  tt.ok(allow.has('2001:db8:a:1::1'));
  tt.ok(allow.has('2001:DB8:A::'), 'any spelling of a listed address');
  tt.ok(allow.has('[2001:db8:a::5]'));
  tt.notOk(allow.has('2001:db8:b::1'));
  tt.ok(allow.has('203.0.113.200'));
  tt.notOk(allow.has('203.0.113.100'));
  tt.ok(allow.has(parseAddress('192.0.2.77')), 'a parsed address');
  for (const notAddress of ['', 'abc', '192.0.2', '192.0.2.0/24', '192.0.2.1 x', 'localhost', '2001:db8:a::/48']) {
    tt.equal(allow.has(notAddress), false, `has(${JSON.stringify(notAddress)}) is false`);
  }
  tt.equal(new Allowlist([]).has('192.0.2.1'), false, 'an empty list holds nothing');
  expectError(tt, () => new Allowlist(['192.0.2.0/33']), ParseError, 'PARSE_INVALID', 'a bad entry');
});

t.test('time/duration: parseDuration', async (tt) => {
  const cases: Array<[string, number]> = [
    ['600', 600_000],
    ['0', 0],
    ['1.5', 1500],
    ['10m', 600_000],
    ['10M', 600_000],
    ['10 m', 600_000],
    ['45s', 45_000],
    ['250ms', 250],
    ['1d12h', 129_600_000],
    ['1h 30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['2w', 1_209_600_000],
    ['1 hour', 3_600_000],
    ['3 days', 259_200_000],
    ['1s500ms', 1500],
    [' 600 ', 600_000],
    ['-1', PERMANENT],
    ['-5', PERMANENT],
  ];
  for (const [input, ms] of cases) tt.equal(parseDuration(input), ms, JSON.stringify(input));
  tt.equal(PERMANENT, -1);
  for (const bad of ['abc', '10x', '', ' ', 'm', '1m30', '1h-', '-1h', '.5h', '1.h', 'h1']) {
    expectError(tt, () => parseDuration(bad), ParseError, 'PARSE_INVALID', `parseDuration(${JSON.stringify(bad)})`);
  }
});

t.test('time/duration: formatDuration, and it parses back', async (tt) => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [-1, 'permanent'],
    [1, '1ms'],
    [45_000, '45s'],
    [90_000, '1m30s'],
    [600_000, '10m'],
    [3_600_000, '1h'],
    [129_600_000, '1d12h'],
    [604_800_000, '7d'],
    [1500, '1s500ms'],
    [90_061_001, '1d1h1m1s1ms'],
  ];
  for (const [ms, text] of cases) tt.equal(formatDuration(ms), text, String(ms));
  for (const [ms] of cases) if (ms >= 0) tt.equal(parseDuration(formatDuration(ms)), ms, `round trip of ${ms}`);
});

t.test('proto/codec: round trips', async (tt) => {
  tt.equal(SCHEMA_VERSION, 1);
  tt.same(decodeFailure(encodeFailure(FAILURE)), FAILURE, 'FailureEvent');
  tt.same(decodeFailure(encodeFailure({ ...FAILURE, user: '', line: '' })), { ...FAILURE, user: '', line: '' }, 'FailureEvent with empty optional strings');

  const ban = decodeBan(encodeBan(BAN));
  tt.same(ban, BAN, 'BanDecision');
  tt.equal(ban.expiresMs, 2 ** 41 + 12_345, 'int64 near 2^41 is exact');
  tt.equal(typeof ban.expiresMs, 'number');
  const far = { ...BAN, atMs: Number.MAX_SAFE_INTEGER - 1, expiresMs: Number.MAX_SAFE_INTEGER };
  tt.same(decodeBan(encodeBan(far)), far, 'int64 up to MAX_SAFE_INTEGER');
  const permanent = { ...BAN, ip: '198.51.100.9', expiresMs: 0, reason: 'manual' as const, hosts: [], matches: [], failures: 0 };
  tt.same(decodeBan(encodeBan(permanent)), permanent, 'permanent manual ban with empty lists');

  tt.same(decodeHeartbeat(encodeHeartbeat(HEARTBEAT)), HEARTBEAT, 'Heartbeat');
  tt.same(decodeControllerAlive(encodeControllerAlive(ALIVE)), ALIVE, 'ControllerAlive');

  for (const req of [
    { verb: 'status', jail: '', ip: '', bantimeMs: 0 },
    { verb: 'ban', jail: 'sshd', ip: '203.0.113.7', bantimeMs: -1 },
    { verb: 'ban', jail: 'sshd', ip: '2001:db8::/48', bantimeMs: 2 ** 41 },
    { verb: 'unban', jail: '', ip: '192.0.2.0/24', bantimeMs: 0 },
    { verb: 'banned', jail: '', ip: '', bantimeMs: 0 },
    { verb: 'ban', jail: '', ip: '192.0.0.0/12', bantimeMs: 0, force: true },
    { verb: 'banned', jail: '', ip: '', bantimeMs: 0, offset: 20_000, limit: 500 },
  ] satisfies AdminRequest[]) {
    tt.same(decodeAdminRequest(encodeAdminRequest(req)), req, `AdminRequest ${req.verb} ${req.bantimeMs}`);
  }

  tt.same(decodeAdminReply(encodeAdminReply(ADMIN_REPLY)), ADMIN_REPLY, 'AdminReply with jails, hosts and bans');
  const refused: AdminReply = { ok: false, error: "jail 'x' does not exist", jails: [], hosts: [], bans: [], malformed: 0, nowMs: 1, counters: {} };
  tt.same(decodeAdminReply(encodeAdminReply(refused)), refused, 'AdminReply refusal');
  const page: AdminReply = { ...refused, ok: true, error: '', bans: [BAN], total: 1_000_000 };
  tt.same(decodeAdminReply(encodeAdminReply(page)), page, 'AdminReply: a page of banned with its total');
});

t.test('proto/codec: hand-made bytes agree with the encoder', async (tt) => {
  const bytes = pb.bytes(
    pb.uint(1, 1),
    pb.str(2, FAILURE.id),
    pb.str(3, FAILURE.host),
    pb.str(4, FAILURE.jail),
    pb.str(5, FAILURE.ip),
    pb.uint(6, FAILURE.timeMs),
    pb.str(7, FAILURE.user),
    pb.str(8, FAILURE.line),
  );
  tt.same([...encodeFailure(FAILURE)], [...bytes], 'same bytes as encodeFailure');
  tt.same(decodeFailure(bytes), FAILURE);
  const reordered = pb.bytes(pb.str(5, '203.0.113.3'), pb.str(4, 'sshd'), pb.str(3, 'web-3'), pb.str(2, 'x'), pb.uint(1, 1));
  tt.same(decodeFailure(reordered), { id: 'x', host: 'web-3', jail: 'sshd', ip: '203.0.113.3', timeMs: 0, user: '', line: '' }, 'any field order');
  const unknownField = pb.bytes(pb.uint(1, 1), pb.str(2, 'x'), pb.str(3, 'h'), pb.str(4, 'j'), pb.str(5, '192.0.2.1'), pb.str(15, 'future'));
  tt.equal(decodeFailure(unknownField).ip, '192.0.2.1', 'unknown fields are skipped');
});

t.test('proto/codec: schema 0 and schemas newer than this build are refused', async (tt) => {
  const failureBody = [pb.str(2, 'id-1'), pb.str(3, 'web-1'), pb.str(4, 'sshd'), pb.str(5, '192.0.2.1'), pb.uint(6, 1000)];
  const banBody = [pb.str(2, '192.0.2.1'), pb.str(3, 'sshd'), pb.uint(4, 1), pb.uint(5, 2), pb.str(6, 'threshold')];
  const heartbeatBody = [pb.str(2, 'web-1'), pb.uint(3, 1)];
  const requestBody = [pb.str(2, 'status')];
  const decoders: Array<[string, (b: Uint8Array) => unknown, number[][]]> = [
    ['FailureEvent', decodeFailure, failureBody],
    ['BanDecision', decodeBan, banBody],
    ['Heartbeat', decodeHeartbeat, heartbeatBody],
    ['AdminRequest', decodeAdminRequest, requestBody],
    ['AdminReply', decodeAdminReply, []],
    ['ControllerAlive', decodeControllerAlive, [pb.str(2, 'ctl'), pb.uint(3, 1), pb.uint(4, 1000)]],
  ];
  for (const [name, decode, body] of decoders) {
    tt.doesNotThrow(() => decode(pb.bytes(pb.uint(1, 1), ...body)), `${name} with schema 1 decodes`);
    for (const schema of [0, 2, 99, 2 ** 31]) {
      expectError(tt, () => decode(pb.bytes(pb.uint(1, schema), ...body)), DecodeError, 'DECODE_FAILED', `${name} schema ${schema}`);
    }
    expectError(tt, () => decode(pb.bytes(...body)), DecodeError, 'DECODE_FAILED', `${name} without schema`);
  }
  // patching an encoded message: the encoder writes field 1 first (0x08, then the value)
  const patched = encodeFailure(FAILURE).slice();
  tt.same([patched[0], patched[1]], [0x08, 0x01]);
  patched[1] = 99;
  expectError(tt, () => decodeFailure(patched), DecodeError, 'DECODE_FAILED', 'encoded FailureEvent patched to schema 99');
  patched[1] = 0;
  expectError(tt, () => decodeFailure(patched), DecodeError, 'DECODE_FAILED', 'encoded FailureEvent patched to schema 0');
});

t.test('proto/codec: missing required fields are refused', async (tt) => {
  const full = { id: 'id-1', host: 'web-1', jail: 'sshd', ip: '192.0.2.1' };
  const no = { id: 2, host: 3, jail: 4, ip: 5 } as const;
  for (const field of Object.keys(no) as Array<keyof typeof no>) {
    const fields = (Object.keys(no) as Array<keyof typeof no>).filter((f) => f !== field).map((f) => pb.str(no[f], full[f]));
    expectError(tt, () => decodeFailure(pb.bytes(pb.uint(1, 1), ...fields)), DecodeError, 'DECODE_FAILED', `FailureEvent without ${field}`);
  }
  expectError(tt, () => decodeFailure(encodeFailure({ ...FAILURE, ip: '' })), DecodeError, 'DECODE_FAILED', 'FailureEvent with empty ip');
  expectError(tt, () => decodeBan(encodeBan({ ...BAN, ip: '' })), DecodeError, 'DECODE_FAILED', 'BanDecision with empty ip');
  expectError(tt, () => decodeHeartbeat(encodeHeartbeat({ ...HEARTBEAT, host: '' })), DecodeError, 'DECODE_FAILED', 'Heartbeat with empty host');
  expectError(tt, () => decodeControllerAlive(encodeControllerAlive({ ...ALIVE, host: '' })), DecodeError, 'DECODE_FAILED', 'ControllerAlive with empty host');
  expectError(tt, () => decodeControllerAlive(encodeControllerAlive({ ...ALIVE, intervalMs: 0 })), DecodeError, 'DECODE_FAILED', 'ControllerAlive without interval');
  expectError(tt, () => decodeFailure(new Uint8Array(0)), DecodeError, 'DECODE_FAILED', 'empty buffer');
});

t.test('proto/codec: FailureEvent.ip must be a normalised address', async (tt) => {
  tt.equal(decodeFailure(encodeFailure({ ...FAILURE, ip: '2001:db8::1' })).ip, '2001:db8::1');
  for (const ip of ['0.0.0.0/0', '192.0.2.0/24', 'abc', '2001:DB8::1', '::ffff:192.0.2.1']) {
    tt.throws(() => decodeFailure(encodeFailure({ ...FAILURE, ip })), { code: 'DECODE_FAILED' }, `ip ${JSON.stringify(ip)} is refused`);
  }
});

t.test('proto/codec: truncated and corrupted messages throw DecodeError with the cause', async (tt) => {
  const bytes = encodeFailure(FAILURE);
  for (const cut of [1, 3, 10, bytes.length - 1]) {
    expectError(tt, () => decodeFailure(bytes.subarray(0, cut)), DecodeError, 'DECODE_FAILED', `cut at ${cut}`);
  }
  let caught: unknown;
  try {
    decodeFailure(Uint8Array.from([0x08, 0x01, 0x12, 0x05, 0x61])); // string of 5 bytes, 1 present
  } catch (err) {
    caught = err;
  }
  tt.ok(caught instanceof DecodeError);
  tt.ok((caught as DecodeError).cause instanceof Error, 'keeps the foreign error as cause');
  expectError(tt, () => decodeFailure(Uint8Array.from([0x08, 0x01, 0x12, 0x02, 0xc3, 0x28])), DecodeError, 'DECODE_FAILED', 'invalid UTF-8');
  expectError(tt, () => decodeFailure(Uint8Array.from([0x0f])), DecodeError, 'DECODE_FAILED', 'wire type 7');
});

/** Shape checks for whatever the fuzzer manages to decode. */
const isStr = (v: unknown): boolean => typeof v === 'string';
const isNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const isStrs = (v: unknown): boolean => Array.isArray(v) && v.every(isStr);
function validBan(b: BanDecision): boolean {
  return b.ip !== '' && isStr(b.jail) && isNum(b.atMs) && isNum(b.expiresMs) && isStr(b.reason) && isNum(b.banCount) && isStrs(b.hosts) && isStrs(b.matches) && isNum(b.failures);
}
const validators: Array<[string, (b: Uint8Array) => unknown, (v: never) => boolean]> = [
  ['FailureEvent', decodeFailure, (e: FailureEvent) => [e.id, e.host, e.jail, e.ip].every((s) => isStr(s) && s !== '') && isNum(e.timeMs) && isStr(e.user) && isStr(e.line)],
  ['BanDecision', decodeBan, validBan],
  ['Heartbeat', decodeHeartbeat, (h: Heartbeat) => h.host !== '' && isNum(h.timeMs) && isStrs(h.addresses) && isStrs(h.jails) && isStr(h.backend) && isStr(h.firewall) && [h.banned, h.lines, h.failures, h.buffered].every(isNum) && isStr(h.version)],
  ['ControllerAlive', decodeControllerAlive, (a: ControllerAlive) => a.host !== '' && isNum(a.timeMs) && isNum(a.intervalMs) && a.intervalMs > 0],
  ['AdminRequest', decodeAdminRequest, (r: AdminRequest) => isStr(r.verb) && isStr(r.jail) && isStr(r.ip) && isNum(r.bantimeMs)],
  ['AdminReply', decodeAdminReply, (r: AdminReply) => typeof r.ok === 'boolean' && isStr(r.error) && Array.isArray(r.jails) && Array.isArray(r.hosts) && r.bans.every(validBan) && isNum(r.malformed) && isNum(r.nowMs)],
];

/** Decodes `bytes` with every decoder; returns the problems (anything but a valid object or a DecodeError). */
function fuzzOne(bytes: Uint8Array, label: string, decoded: Map<string, number>): string[] {
  const problems: string[] = [];
  for (const [name, decode, valid] of validators) {
    let v: unknown;
    try {
      v = decode(bytes);
    } catch (err) {
      if (!(err instanceof DecodeError) || err.code !== 'DECODE_FAILED') problems.push(`${label} ${name}: threw ${String(err)}`);
      continue;
    }
    decoded.set(name, (decoded.get(name) ?? 0) + 1);
    if (!(valid as (x: unknown) => boolean)(v)) problems.push(`${label} ${name}: decoded to an invalid object ${JSON.stringify(v)}`);
  }
  return problems;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

t.test('proto/codec: random bytes decode to a valid object or throw DecodeError, never anything else', async (tt) => {
  const rnd = prng(0x5eed);
  const decoded = new Map<string, number>();
  const problems: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const bytes = randomBytes(rnd, Math.floor(rnd() * 65));
    problems.push(...fuzzOne(bytes, `random #${i} ${hex(bytes)}`, decoded));
  }
  // the same with a valid schema field in front, so decoding gets past the schema check
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from([0x08, 0x01, ...randomBytes(rnd, Math.floor(rnd() * 63))]);
    problems.push(...fuzzOne(bytes, `schema-1 prefix #${i} ${hex(bytes)}`, decoded));
  }
  // and valid messages with a few bytes overwritten
  const valid = [encodeFailure(FAILURE), encodeBan(BAN), encodeHeartbeat(HEARTBEAT), encodeAdminReply(ADMIN_REPLY), encodeControllerAlive(ALIVE)];
  for (let i = 0; i < 2000; i++) {
    const bytes = (valid[i % valid.length] as Uint8Array).slice();
    for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
    problems.push(...fuzzOne(bytes, `mutated #${i} ${hex(bytes)}`, decoded));
  }
  tt.same(problems.slice(0, 10), [], 'every buffer decoded to a valid object or threw DecodeError');
  tt.comment(`decoded without error: ${JSON.stringify(Object.fromEntries(decoded))}`);
  tt.ok((decoded.get('AdminReply') ?? 0) > 0, 'the fuzzer reached successful decodes too');
});

t.test('subjects: host and jail tokens', async (tt) => {
  tt.equal(eventSubject('web-1', 'sshd'), 'fleetban.events.web-1.sshd');
  tt.equal(eventSubject('db_2', 'nginx-http-auth'), 'fleetban.events.db_2.nginx-http-auth');
  tt.equal(heartbeatSubject('web-1'), 'fleetban.heartbeat.web-1');
  tt.equal(controllerAliveSubject(), 'fleetban.controller.alive');
  tt.ok(hostPermissions('web-1').subscribe.includes(controllerAliveSubject()), 'hosts may hear the controller liveness');
  tt.notOk(hostPermissions('web-1').publish.some((p) => p.startsWith('fleetban.controller')), 'hosts may not fake it');
  tt.equal(hostInboxPrefix('web-1'), '_INBOX_web-1');
  tt.same(hostPermissions('web-1').subscribe, ['_INBOX_web-1.>', 'fleetban.controller.alive'], 'a host hears only its own inbox and the liveness');
  const longest = 'h'.repeat(64);
  tt.equal(heartbeatSubject(longest), `fleetban.heartbeat.${longest}`, '64 characters is allowed');
  for (const bad of ['a.b', 'a*', '>', '', 'h'.repeat(65), 'a b', 'web-1\n', 'é']) {
    expectError(tt, () => eventSubject(bad, 'sshd'), ParseError, 'PARSE_INVALID', `eventSubject host ${JSON.stringify(bad)}`);
    expectError(tt, () => heartbeatSubject(bad), ParseError, 'PARSE_INVALID', `heartbeatSubject ${JSON.stringify(bad)}`);
    expectError(tt, () => eventSubject('web-1', bad), ParseError, 'PARSE_INVALID', `eventSubject jail ${JSON.stringify(bad)}`);
  }
});

t.test('subjects: ban keys round trip and are legal KV keys', async (tt) => {
  const KV_KEY = /^[-/=.\w]+$/; // what a NATS KV key may hold
  const cases: Array<[string, string]> = [
    ['192.0.2.1', 'v4.192.0.2.1'],
    ['198.51.100.0/24', 'v4.198.51.100.0/24'],
    ['2001:db8::1', 'v6.2001_db8__1'],
    ['2001:db8::/32', 'v6.2001_db8__/32'],
    ['2001:db8:1:2:3:4:5:6', 'v6.2001_db8_1_2_3_4_5_6'],
    ['::', 'v6.__'],
  ];
  for (const [target, key] of cases) {
    tt.equal(banKey(target), key, `banKey(${target})`);
    tt.match(key, KV_KEY, `${key} is a legal KV key`);
    tt.equal(targetOfBanKey(key), target, `targetOfBanKey(${key})`);
  }
  tt.equal(banKey('203.0.113.77/24'), 'v4.203.0.113.0/24', 'keys are of the normalised target');
  tt.equal(banKey('::ffff:192.0.2.1'), banKey('192.0.2.1'), 'v4-mapped shares the IPv4 key');
  tt.equal(banKey('2001:DB8:0::1'), banKey('2001:db8::1'), 'every spelling shares one key');
  expectError(tt, () => banKey('not-an-ip'), ParseError, 'PARSE_INVALID', 'banKey of a non-address');
});

t.test('subjects: history keys', async (tt) => {
  tt.equal(historyKey('sshd', '192.0.2.1'), 'sshd.v4.192.0.2.1');
  tt.equal(historyKey('nginx-http-auth', '2001:db8::1'), 'nginx-http-auth.v6.2001_db8__1');
  tt.equal(historyKey('sshd', '198.51.100.9/24'), 'sshd.v4.198.51.100.0/24');
  expectError(tt, () => historyKey('a.b', '192.0.2.1'), ParseError, 'PARSE_INVALID', 'a jail with a dot');
  expectError(tt, () => historyKey('sshd', 'abc'), ParseError, 'PARSE_INVALID', 'a target that is not an address');
});

t.test('proto/codec: every decoded message is bounded; a hostile one is refused, never thrown past DecodeError', async (tt) => {
  const bad = (label: string, fn: () => unknown) => expectError(tt, fn, DecodeError, 'DECODE_FAILED', label);
  for (const addresses of [['0.0.0.0/0'], ['::/0'], ['192.0.2.0/24'], ['not-an-ip'], ['192.0.2.010'], ['2001:DB8::1']]) {
    bad(`a heartbeat claiming ${addresses[0]}`, () => decodeHeartbeat(encodeHeartbeat({ ...HEARTBEAT, addresses })));
  }
  const many = Array.from({ length: WIRE_LIMITS.addresses + 1 }, (_, i) => `198.51.100.${i}`);
  bad('a heartbeat with too many addresses', () => decodeHeartbeat(encodeHeartbeat({ ...HEARTBEAT, addresses: many })));
  tt.same(decodeHeartbeat(encodeHeartbeat({ ...HEARTBEAT, addresses: many.slice(1) })).addresses.length, WIRE_LIMITS.addresses, 'the bound itself is fine');
  bad('a heartbeat with a bad host name', () => decodeHeartbeat(encodeHeartbeat({ ...HEARTBEAT, host: 'web 1' })));
  bad('a heartbeat with a bad jail name', () => decodeHeartbeat(encodeHeartbeat({ ...HEARTBEAT, jails: ['a.b'] })));
  bad('a heartbeat with a huge version', () => decodeHeartbeat(encodeHeartbeat({ ...HEARTBEAT, version: 'x'.repeat(1000) })));
  bad('an event with a line over the bound', () => decodeFailure(encodeFailure({ ...FAILURE, line: 'x'.repeat(WIRE_LIMITS.lineChars + 1) })));
  bad('an event with a subject wildcard as host', () => decodeFailure(encodeFailure({ ...FAILURE, host: 'web-1.>' })));
  bad('an event with an empty jail', () => decodeFailure(encodeFailure({ ...FAILURE, jail: '' })));
  bad('a ban with a bad scope entry', () => decodeBan(encodeBan({ ...BAN, scope: ['*'] })));
  bad('a ban with too many evidence lines', () => decodeBan(encodeBan({ ...BAN, matches: Array.from({ length: WIRE_LIMITS.matches + 1 }, () => 'l') })));
  bad('an admin request with a bad jail', () => decodeAdminRequest(encodeAdminRequest({ verb: 'status', jail: 'x y', ip: '', bantimeMs: 0 })));
  bad('an admin request with a huge target', () => decodeAdminRequest(encodeAdminRequest({ verb: 'ban', jail: '', ip: '1'.repeat(5000), bantimeMs: 0 })));
});

t.test('subjects: the host a subject names, read with and without making a string', async (tt) => {
  const { hostOfSubject, subjectNamesHost } = await import('../src/subjects.js');
  const cases: Array<[string, string]> = [
    ['fleetban.events.web-1.sshd', 'web-1'],
    ['fleetban.events.web-1', 'web-1'],
    ['fleetban.events', ''],
    ['fleetban.events..sshd', ''],
    ['a.b.cc.d', 'cc'],
    ['x', ''],
  ];
  for (const [subject, host] of cases) {
    tt.equal(hostOfSubject(subject), subject.split('.')[2] ?? '', `${subject}: as a split reads it`);
    tt.equal(hostOfSubject(subject), host);
    tt.ok(subjectNamesHost(subject, host), `${subject} names ${JSON.stringify(host)}`);
    tt.notOk(subjectNamesHost(subject, `${host}x`), `${subject} does not name ${host}x`);
    if (host.length > 1) tt.notOk(subjectNamesHost(subject, host.slice(1)), `${subject} does not name a part of ${host}`);
  }
});
