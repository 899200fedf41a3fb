// Bounded fuzzing with a seeded PRNG (the seed is printed; FLEETBAN_FUZZ_SEED=<n> replays a run,
// FLEETBAN_FUZZ_SEED=random explores; CI runs a fixed seed).
//
// 1. Wire: a real controller behind a real nats-server is sent a few thousand hostile messages on
//    every subject a host may publish to (its events through JetStream, its heartbeat, the
//    read-only admin verbs): random bytes, valid messages mutated, and valid messages carrying
//    hostile values. It must stay up, answer, count every input exactly once, and ban nothing in
//    special space.
// 2. Filters: every filter shipped in packages/agent/filter.d is fed its own sample lines, mutated
//    (insertions, unicode, control characters, lines up to 64 KiB, injected "from 1.2.3.4"): nothing
//    throws, every line is counted once as matched, missed or ignored, every address is canonical.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import {
  adminRequest,
  adminSubject,
  type AdminReply,
  BanGuard,
  decodeAdminReply,
  decodeAdminRequest,
  decodeFailure,
  decodeHeartbeat,
  encodeAdminRequest,
  encodeFailure,
  encodeHeartbeat,
  type FailureEvent,
  type Heartbeat,
  hostOfSubject,
  jetstream,
  type NatsConnection,
  silentLogger,
  tryParseAddress,
} from '@fleetban/shared';
import { fixedTimeZone } from '../packages/agent/src/filter/date/time-zone.js';
import { PROJECT_FILTER_DIR } from '../packages/agent/src/filter/filter-file.js';
import { createJailFilter } from '../packages/agent/src/filter/jail-filter.js';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import {
  fuzzSeed,
  HOSTILE_ADDRESSES,
  HOSTILE_NUMBERS,
  HOSTILE_TOKENS,
  hostileTimes,
  hugeString,
  mutateBytes,
  mutateText,
  randomText,
  Rng,
} from './fixtures/fuzz.js';
import { testJail } from './fixtures/jail-config.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { startNatsServer } from './fixtures/nats-server.js';

const SEED = fuzzSeed();
t.comment(`fuzz seed ${SEED} (replay with FLEETBAN_FUZZ_SEED=${SEED})`);

/** How many messages of each kind the wire fuzz sends. */
const WIRE = { events: 3000, heartbeats: 900, admin: 500 } as const;
/** Mutated lines per (filter, mode) in the filter fuzz. */
const LINES_PER_FILTER_MODE = 1500;

/** Hosts the fuzzing client speaks for (subject tokens). */
const HOSTS = ['web-1', 'web-2', 'web-3', 'db-1', 'fz_5'] as const;
/** Jails: configured ones and a few the controller has no section for. */
const JAILS = ['sshd', 'scoped', 'nginx-http-auth', 'fz-jail-1', 'fz-jail-2'] as const;
/** Addresses plausible failures come from: few, so thresholds are reached and bans made. */
const ATTACKERS = [
  ...Array.from({ length: 12 }, (_, i) => `203.0.113.${i + 1}`),
  ...Array.from({ length: 6 }, (_, i) => `198.51.100.${i + 1}`),
  ...Array.from({ length: 6 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`),
];
/** Addresses heartbeats claim (some overlap the attackers: the guard then refuses their bans). */
const HOST_ADDRESSES = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8:1::1', '203.0.113.12', '198.51.100.6'];

/** Tally of what was sent, by kind (printed, and the counts in the report). */
class Tally {
  readonly counts = new Map<string, number>();
  add(k: string): void {
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }
  toString(): string {
    return [...this.counts].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(' ');
  }
}

function sumOf(counters: Readonly<Record<string, number>>, pred: (k: string) => boolean): number {
  return Object.entries(counters).reduce((n, [k, v]) => (pred(k) ? n + v : n), 0);
}

// ---------------------------------------------------------------------------------------------
// Message makers

function plausibleEvent(rng: Rng, host: string, nowMs: number, serial: number): FailureEvent {
  const jail = rng.pick(JAILS);
  return {
    id: `${host}:${jail}:fuzz-${SEED}-${serial}`,
    host,
    jail,
    ip: rng.pick(ATTACKERS),
    timeMs: nowMs - rng.int(30_000),
    user: rng.pick(['root', 'admin', 'oracle', '']),
    line: `Failed password for root from 203.0.113.1 port ${rng.range(1024, 65535)} ssh2`,
  };
}

function plausibleHeartbeat(rng: Rng, host: string, nowMs: number): Heartbeat {
  return {
    host,
    timeMs: nowMs,
    addresses: [rng.pick(HOST_ADDRESSES)],
    jails: ['sshd'],
    backend: 'dry-run',
    firewall: 'fuzz',
    banned: rng.int(10),
    version: '0.0.0-fuzz',
    lines: rng.int(1e6),
    failures: rng.int(1000),
    buffered: 0,
    skipped: 0,
    undecodable: 0,
    matched: rng.int(1000),
    bytesBehind: 0,
    spoolBytes: 0,
    drift: 0,
    enforceFailed: 0,
    fallback: rng.chance(0.1),
    localBans: 0,
    refused: 0,
  };
}

/** Encodes with the codec; a value the encoder itself refuses yields null (counted, not sent). */
function tryEncode<T>(encode: (v: T) => Uint8Array, v: T): Uint8Array | null {
  try {
    return encode(v);
  } catch {
    return null;
  }
}

interface Outgoing {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly kind: string;
}

/** Makes the fuzzer's messages; remembers recent ids and messages to duplicate and splice. */
class MessageMaker {
  #serial = 0;
  readonly #recentIds: string[] = [];
  #lastEvent: Uint8Array = new Uint8Array();
  #lastHeartbeat: Uint8Array = new Uint8Array();
  constructor(private readonly rng: Rng) {}

  event(nowMs: number): Outgoing | null {
    const rng = this.rng;
    const host = rng.pick(HOSTS);
    const jailToken = rng.chance(0.9) ? rng.pick(JAILS) : rng.pick(['x', 'sshd.extra.tokens', 'ⓙⓐⓘⓛ', 'a'.repeat(100), '*', '>']);
    // now and then a wildcard where the host goes (the stream stores such literal subjects)
    const subject = rng.chance(0.03) ? rng.pick(['fleetban.events.*.sshd', 'fleetban.events.>']) : `fleetban.events.${host}.${jailToken}`;
    const base = plausibleEvent(rng, host, nowMs, this.#serial++);
    const kind = rng.weighted({ random: 2, mutated: 4, hostile: 5, plausible: 4, duplicate: 1 });
    let data: Uint8Array | null;
    let label: string = kind;
    switch (kind) {
      case 'random':
        data = rng.bytes(rng.length());
        label = `random(${data.length === 0 ? '0' : data.length >= 60 * 1024 ? '~64KiB' : data.length <= 32 ? '<=32' : 'other'})`;
        break;
      case 'mutated': {
        const m = mutateBytes(rng, encodeFailure(base), this.#lastEvent);
        data = m.bytes;
        label = `mutated.${m.how}`;
        break;
      }
      case 'hostile': {
        const [e, what] = this.hostileEvent(base, nowMs);
        data = tryEncode(encodeFailure, e);
        label = `hostile.${what}`;
        break;
      }
      case 'duplicate': {
        const id = this.#recentIds.length > 0 ? rng.pick(this.#recentIds) : base.id;
        data = encodeFailure({ ...base, id });
        break;
      }
      default:
        data = encodeFailure(base);
    }
    if (data === null) return null;
    this.#recentIds.push(base.id);
    if (this.#recentIds.length > 64) this.#recentIds.shift();
    this.#lastEvent = data;
    return { subject, data, kind: `event.${label}` };
  }

  private hostileEvent(e: FailureEvent, nowMs: number): [FailureEvent, string] {
    const rng = this.rng;
    switch (rng.weighted({ ip: 5, host: 2, jail: 2, time: 3, id: 1, user: 1, line: 1, all: 1 })) {
      case 'ip':
        return [{ ...e, ip: rng.chance(0.9) ? rng.pick(HOSTILE_ADDRESSES) : hugeString(rng) }, 'ip'];
      case 'host':
        return [{ ...e, host: rng.chance(0.6) ? rng.pick(HOSTS.filter((h) => h !== e.host)) : rng.pick(HOSTILE_TOKENS) }, 'host-mismatch'];
      case 'jail':
        return [{ ...e, jail: rng.chance(0.7) ? rng.pick(HOSTILE_TOKENS) : hugeString(rng) }, 'jail'];
      case 'time':
        return [{ ...e, timeMs: rng.pick(hostileTimes(nowMs)) }, 'time'];
      case 'id':
        return [{ ...e, id: rng.pick(['', hugeString(rng), 'x'.repeat(513), 'x'.repeat(512)]) }, 'id'];
      case 'user':
        return [{ ...e, user: hugeString(rng) }, 'user'];
      case 'line':
        return [{ ...e, line: rng.chance(0.5) ? 'L'.repeat(rng.pick([8192, 8193])) : hugeString(rng) }, 'line'];
      default:
        return [{
          id: hugeString(rng),
          host: rng.pick(HOSTILE_TOKENS),
          jail: rng.pick(HOSTILE_TOKENS),
          ip: rng.pick(HOSTILE_ADDRESSES),
          timeMs: rng.pick(hostileTimes(nowMs)),
          user: hugeString(rng),
          line: hugeString(rng),
        }, 'all'];
    }
  }

  heartbeat(nowMs: number): Outgoing | null {
    const rng = this.rng;
    const host = rng.chance(0.94) ? rng.pick(HOSTS) : rng.pick(['ⓦⓔⓑ', 'h'.repeat(80), '*', '>']);
    const subject = `fleetban.heartbeat.${host}`;
    const base = plausibleHeartbeat(rng, host, nowMs);
    const kind = rng.weighted({ random: 2, mutated: 4, hostile: 5, plausible: 3 });
    let data: Uint8Array | null;
    let label: string = kind;
    switch (kind) {
      case 'random':
        data = rng.bytes(rng.length());
        break;
      case 'mutated': {
        const m = mutateBytes(rng, encodeHeartbeat(base), this.#lastHeartbeat);
        data = m.bytes;
        label = `mutated.${m.how}`;
        break;
      }
      case 'hostile': {
        const [h, what] = this.hostileHeartbeat(base, nowMs);
        data = tryEncode(encodeHeartbeat, h);
        label = `hostile.${what}`;
        break;
      }
      default:
        data = encodeHeartbeat(base);
    }
    if (data === null) return null;
    this.#lastHeartbeat = data;
    return { subject, data, kind: `heartbeat.${label}` };
  }

  private hostileHeartbeat(h: Heartbeat, nowMs: number): [Heartbeat, string] {
    const rng = this.rng;
    const many = (n: number, each: (i: number) => string) => Array.from({ length: n }, (_, i) => each(i));
    switch (rng.weighted({ addresses: 4, jails: 2, lists10k: 2, host: 2, numbers: 2, texts: 1, time: 1 })) {
      case 'addresses':
        return [{ ...h, addresses: rng.chance(0.7) ? [rng.pick(HOSTILE_ADDRESSES)] : many(rng.pick([32, 33]), (i) => `192.0.2.${i + 10}`) }, 'addresses'];
      case 'jails':
        return [{ ...h, jails: rng.chance(0.5) ? [rng.pick(HOSTILE_TOKENS)] : many(rng.pick([256, 257]), (i) => `j${i}`) }, 'jails'];
      case 'lists10k':
        return rng.chance(0.5)
          ? [{ ...h, addresses: many(10_000, (i) => `10.${(i >> 8) & 255}.${i & 255}.1`) }, 'addresses-10k']
          : [{ ...h, jails: many(10_000, (i) => `jail-${i}`) }, 'jails-10k'];
      case 'host':
        return [{ ...h, host: rng.chance(0.6) ? rng.pick(HOSTS.filter((x) => x !== h.host)) : rng.pick(HOSTILE_TOKENS) }, 'host-mismatch'];
      case 'numbers': {
        const n = () => rng.pick(HOSTILE_NUMBERS);
        return [{ ...h, banned: n(), lines: n(), failures: n(), buffered: n(), bytesBehind: n(), localBans: n(), refused: n(), drift: n() }, 'numbers'];
      }
      case 'texts':
        return [{ ...h, version: hugeString(rng), backend: rng.chance(0.5) ? 'b'.repeat(256) : hugeString(rng), firewall: randomText(rng, 200) }, 'texts'];
      default:
        return [{ ...h, timeMs: rng.pick(hostileTimes(nowMs)) }, 'time'];
    }
  }

  admin(): Outgoing {
    const rng = this.rng;
    const subject = adminSubject(rng.pick(['status', 'banned']));
    const verb = subject.slice('fleetban.admin.'.length) as 'status' | 'banned';
    const kind = rng.weighted({ random: 2, mutated: 3, hostile: 5 });
    let data: Uint8Array;
    let label: string = kind;
    switch (kind) {
      case 'random':
        data = rng.bytes(rng.length());
        break;
      case 'mutated': {
        const m = mutateBytes(rng, encodeAdminRequest({ verb, jail: rng.pick(['', 'sshd']), ip: '', bantimeMs: 0 }));
        data = m.bytes;
        label = `mutated.${m.how}`;
        break;
      }
      default: {
        // a read-only subject carrying another verb is how a host would try to ban or unban
        const v = rng.pick(['status', 'banned', 'ban', 'unban', 'ban', 'unban', '', 'STATUS', 'status ', 'stat\0us']);
        const ip = rng.chance(0.5) ? rng.pick(ATTACKERS) : rng.pick(HOSTILE_ADDRESSES);
        const jail = rng.pick(['', '', 'sshd', 'scoped', 'nope', '*', '>', 'x'.repeat(65)]);
        const req = { verb: v as 'status', jail, ip: rng.chance(0.1) ? hugeString(rng) : ip, bantimeMs: rng.pick([0, 0, ...HOSTILE_NUMBERS]), force: rng.chance(0.3) };
        data = encodeAdminRequest(req);
        label = ['status', 'banned'].includes(v) ? (v === verb ? 'hostile.same-verb' : 'hostile.other-read-verb') : ['ban', 'unban'].includes(v) ? 'hostile.write-verb' : 'hostile.bad-verb';
      }
    }
    return { subject, data, kind: `admin.${label}` };
  }
}

/** What the controller must have counted, predicted from the codec and the subject (as a receiver must judge them). */
class Expected {
  eventsAccepted = 0;
  eventsMalformed = 0;
  eventsForeign = 0;
  eventsDuplicate = 0;
  heartbeats = 0;
  heartbeatsMalformed = 0;
  adminRequests = 0;
  adminMalformed = 0;
  readonly #ids = new Set<string>();

  /** One event the stream stored, in stream order. */
  event(subject: string, data: Uint8Array): void {
    this.eventsAccepted++;
    let e: FailureEvent;
    try {
      e = decodeFailure(data);
    } catch {
      this.eventsMalformed++;
      return;
    }
    if (hostOfSubject(subject) !== e.host) this.eventsForeign++;
    else if (this.#ids.has(`${e.host}\n${e.id}`)) this.eventsDuplicate++; // a duplicate is the same id from the same host
    else this.#ids.add(`${e.host}\n${e.id}`);
  }

  heartbeat(subject: string, data: Uint8Array): void {
    this.heartbeats++;
    try {
      if (decodeHeartbeat(data).host !== hostOfSubject(subject)) this.heartbeatsMalformed++;
    } catch {
      this.heartbeatsMalformed++;
    }
  }

  /** A read-only admin subject: a request that does not decode, or asks another verb than its subject's, is malformed. */
  admin(subject: string, data: Uint8Array): void {
    this.adminRequests++;
    try {
      if (adminSubject(decodeAdminRequest(data).verb) !== subject) this.adminMalformed++;
    } catch {
      this.adminMalformed++;
    }
  }
}

async function status(nc: NatsConnection, expected: Expected): Promise<AdminReply> {
  expected.adminRequests++;
  return adminRequest(nc, { verb: 'status', jail: '', ip: '', bantimeMs: 0 });
}

t.test('wire fuzz: a real controller counts every hostile message, bans nothing special and stays up', async (t) => {
  const started = Date.now();
  const rng = new Rng(SEED);
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const conf = join(dir, 'controller.conf');
  writeFileSync(
    conf,
    `[fleetban]\nhost = ctl\nnats = ${nats.url}\nstate_dir = ${join(dir, 'ctl')}\n\n` +
      `[DEFAULT]\nmaxretry = 3\nfindtime = 10m\nbantime = 1h\n\n` +
      `[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n\n` +
      `[scoped]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\nmaxretry = 2\nmaxretry_per_host = 1\nmin_hosts = 3\nbantime = 5s\n\n` +
      `[nginx-http-auth]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\nignoreip = 203.0.113.10 2001:db8::/64\n`,
  );
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf]);
  await controller.waitForMsg('controller ready');
  const nc = await controllerClient(t, nats.url, 'fuzzer', dir);
  const js = jetstream(nc);

  const maker = new MessageMaker(rng);
  const expected = new Expected();
  const sent = new Tally();
  const notSent = new Tally();
  const adminReplies = new Tally();
  /** Events awaiting their JetStream acks (published in batches, judged in stream order). */
  let batch: Outgoing[] = [];
  const flushEvents = async () => {
    const acks = await Promise.allSettled(batch.map((o) => js.publish(o.subject, o.data, { timeout: 10_000 })));
    const stored: { seq: number; o: Outgoing }[] = [];
    acks.forEach((a, i) => {
      const o = batch[i] as Outgoing;
      if (a.status === 'fulfilled') stored.push({ seq: a.value.seq, o });
      else notSent.add(`${o.kind} (${String((a.reason as Error).message).slice(0, 40)})`);
    });
    for (const { o } of stored.sort((a, b) => a.seq - b.seq)) {
      expected.event(o.subject, o.data);
      sent.add(o.kind);
    }
    batch = [];
  };

  const plan = [...Array<'event'>(WIRE.events).fill('event'), ...Array<'heartbeat'>(WIRE.heartbeats).fill('heartbeat'), ...Array<'admin'>(WIRE.admin).fill('admin')];
  for (let i = plan.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [plan[i], plan[j]] = [plan[j] as 'event', plan[i] as 'event'];
  }
  for (const what of plan) {
    const now = Date.now();
    if (what === 'event') {
      const o = maker.event(now);
      if (o === null) notSent.add('event (the encoder refused the value)');
      else batch.push(o);
      if (batch.length >= 64) await flushEvents();
    } else if (what === 'heartbeat') {
      const o = maker.heartbeat(now);
      if (o === null) {
        notSent.add('heartbeat (the encoder refused the value)');
        continue;
      }
      nc.publish(o.subject, o.data);
      expected.heartbeat(o.subject, o.data);
      sent.add(o.kind);
    } else {
      await flushEvents();
      const o = maker.admin();
      expected.admin(o.subject, o.data);
      sent.add(o.kind);
      try {
        const reply = decodeAdminReply((await nc.request(o.subject, o.data, { timeout: 5000 })).data);
        adminReplies.add(reply.ok ? 'ok' : 'error reply');
      } catch (err) {
        adminReplies.add(`no reply: ${(err as Error).message}`);
      }
    }
  }
  await flushEvents();
  await nc.flush();
  t.comment(`sent: ${sent}`);
  if (notSent.counts.size > 0) t.comment(`not stored or not encodable: ${notSent}`);
  t.comment(`admin replies: ${adminReplies}`);
  t.same([...adminReplies.counts.keys()].filter((k) => k.startsWith('no reply')), [], 'every admin request was answered (an error reply at worst)');

  // wait until the controller has taken every stored event and every heartbeat in
  let reply = await status(nc, expected);
  for (let i = 0; i < 600; i++) {
    const c = reply.counters;
    if ((c['events.received'] ?? 0) >= expected.eventsAccepted && (c['heartbeats.received'] ?? 0) >= expected.heartbeats) break;
    if (controller.proc.exitCode !== null || controller.proc.signalCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
    reply = await status(nc, expected);
  }
  t.equal(controller.proc.exitCode, null, 'the controller has not exited');
  t.equal(controller.proc.signalCode, null, 'the controller was not killed by a signal');
  reply = await status(nc, expected);
  t.ok(reply.ok, 'the controller still answers status');
  const c = reply.counters;
  t.comment(`controller counters: ${JSON.stringify(c)}`);

  // events: each one counted exactly once
  t.equal(c['events.received'], expected.eventsAccepted, `events.received is every event the stream stored (${expected.eventsAccepted})`);
  const dispositions = sumOf(c, (k) => k.startsWith('events.') && k !== 'events.received');
  // (a threshold ban the store refuses is counted as bans.refused.<code> only: part of the identity)
  const storeRefused = sumOf(c, (k) => k.startsWith('bans.refused.'));
  t.equal(dispositions + storeRefused, c['events.received'], 'events.received = malformed + foreign-host + duplicate + rejected.* + refused.* + banned + dealt-with + counted (+ bans refused by the store)');
  t.equal(c['events.malformed'] ?? 0, expected.eventsMalformed, 'events.malformed: every event the codec refuses');
  t.equal(c['events.foreign-host'] ?? 0, expected.eventsForeign, 'events.foreign-host: every well-formed event naming another host than its subject');
  t.equal(c['events.duplicate'] ?? 0, expected.eventsDuplicate, 'events.duplicate: every id its host sent already');
  t.equal(c['events.failed'] ?? 0, 0, 'no failure made its handler throw');
  const made = (c['bans.made'] ?? 0) + (c['bans.widened'] ?? 0);
  t.ok(made > 0 && made <= (c['events.counted'] ?? 0), `bans were made (${made}), each by a counted failure`);

  // heartbeats
  t.equal(c['heartbeats.received'], expected.heartbeats, `heartbeats.received is every heartbeat sent (${expected.heartbeats})`);
  t.equal(c['heartbeats.malformed'] ?? 0, expected.heartbeatsMalformed, 'heartbeats.malformed: every heartbeat the codec refuses or naming another host');
  t.ok(expected.heartbeats - expected.heartbeatsMalformed > 0, `well-formed heartbeats were sent too (${expected.heartbeats - expected.heartbeatsMalformed})`);

  // admin requests on the read-only subjects
  t.equal(c['admin.requests'], expected.adminRequests, `admin.requests is every request sent (${expected.adminRequests}, status polls included)`);
  t.equal(c['admin.malformed'] ?? 0, expected.adminMalformed, 'admin.malformed: every request that does not decode or asks another verb than its subject');
  t.same(Object.keys(c).filter((k) => k.startsWith('admin.refused.')), [], 'no request on a read-only subject reached the ban door');

  // bans: nothing special, nothing manual
  const banned = await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0 });
  const open = new BanGuard([]);
  t.same(banned.bans.filter((b) => open.check(b.ip) !== null).map((b) => b.ip), [], `no ban covers special space (${banned.bans.length} bans)`);
  t.same(banned.bans.filter((b) => b.reason !== 'threshold').map((b) => `${b.ip} ${b.reason}`), [], 'every ban was made by the threshold: read-only subjects banned nothing');
  t.same(controller.entries.filter((e) => e.msg === 'banned by admin' || e.msg === 'unbanned by admin').map((e) => e.ip), [], 'no ban or unban by admin');

  // the process: no error logged, nothing but JSON on its outputs
  t.same(controller.entries.filter((e) => (e.level ?? 0) >= 50).map((e) => e.msg), [], 'no error logged');
  t.same(controller.output.filter((l) => !l.startsWith('{')).slice(0, 5), [], 'no stray output (stack traces)');
  t.equal(controller.proc.exitCode, null, 'the controller is still running');
  await controller.stop('SIGTERM');
  t.comment(`wire fuzz: ${Date.now() - started} ms`);
});

// ---------------------------------------------------------------------------------------------
// Filter fuzz

const SAMPLES = join(PROJECT_FILTER_DIR, '..', 'test', 'samples');
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);

/** Filter files with a failregex (include-only files are not filters), as own-filters.test.ts finds them. */
function ownFilters(): string[] {
  return readdirSync(PROJECT_FILTER_DIR)
    .filter((f) => f.endsWith('.conf') && /^failregex\s*=/m.test(readFileSync(join(PROJECT_FILTER_DIR, f), 'utf8')))
    .map((f) => f.slice(0, -'.conf'.length))
    .sort();
}

/** A sample file's log lines (annotations and blank lines left out) and the modes its blocks name. */
function samplesOf(name: string): { lines: string[]; modes: string[] } {
  const text = readFileSync(join(SAMPLES, name), 'utf8');
  const modes = new Set<string>();
  for (const m of text.matchAll(/^#+ ?filterOptions:(.+)$/gm)) {
    const opts = JSON.parse(m[1] as string) as Record<string, unknown> | Record<string, unknown>[];
    for (const o of Array.isArray(opts) ? opts : [opts]) if (typeof o.mode === 'string') modes.add(o.mode);
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  return { lines, modes: [...modes].sort() };
}

t.test('filter fuzz: every shipped filter takes hostile lines without throwing and counts each once', async (t) => {
  const started = Date.now();
  const rng = new Rng(SEED ^ 0x5f17e4);
  const filters = ownFilters();
  t.ok(filters.length >= 17, `${filters.length} filters`);
  const everyLine = filters.flatMap((f) => samplesOf(f).lines);
  let total = 0;
  let slowest = { ms: 0, where: '' };
  const mutations = new Tally();
  for (const name of filters) {
    const { lines, modes } = samplesOf(name);
    t.ok(lines.length > 0, `${name}: sample lines`);
    for (const mode of modes.length > 0 ? modes : ['']) {
      const where = mode ? `${name}[mode=${mode}]` : name;
      const jail = testJail({ name: `fuzz-${name}`, filter: mode ? `${name}[mode=${mode}]` : name });
      const filter = createJailFilter(jail, { logger: silentLogger(), clock: () => NOW, searchPath: [PROJECT_FILTER_DIR], zone: fixedTimeZone(0) });
      let fed = 0;
      let thrown = '';
      const bad: string[] = [];
      for (let i = 0; i < LINES_PER_FILTER_MODE; i++) {
        // its own lines mostly, now and then another filter's; 1 to 3 mutations; some whole random lines
        let text = rng.chance(0.05) ? randomText(rng, rng.length()) : rng.chance(0.85) ? rng.pick(lines) : rng.pick(everyLine);
        const n = rng.range(0, 3);
        for (let k = 0; k < n; k++) {
          const m = mutateText(rng, text);
          text = m.text;
          mutations.add(m.how);
        }
        const journal = rng.chance(0.1);
        const t0 = performance.now();
        try {
          const m = filter.match({ path: journal ? 'journal' : '/var/log/fuzz.log', text, readMs: NOW, timeMs: journal ? NOW - rng.int(60_000) : 0 });
          if (m !== null && (tryParseAddress(m.ip)?.text !== m.ip || m.ip.includes('/'))) bad.push(`${JSON.stringify(m.ip)} from ${JSON.stringify(text.slice(0, 200))}`);
          if (m !== null && !Number.isFinite(m.timeMs)) bad.push(`time ${m.timeMs} from ${JSON.stringify(text.slice(0, 200))}`);
        } catch (err) {
          thrown ||= `${(err as Error).stack ?? String(err)}\n  line: ${JSON.stringify(text.slice(0, 300))} (${text.length} chars)`;
        }
        const ms = performance.now() - t0;
        if (ms > slowest.ms) slowest = { ms, where: `${where}: ${text.length} chars` };
        fed++;
      }
      total += fed;
      const c = filter.counters();
      t.equal(thrown, '', `${where}: nothing thrown`);
      t.equal(c.matched + c.missed + c.ignored, fed, `${where}: ${fed} lines = ${c.matched} matched + ${c.missed} missed + ${c.ignored} ignored`);
      t.equal(c.perRegex.reduce((a, b) => a + b, 0), c.matched, `${where}: failures per failregex add up to the matched lines`);
      t.same(bad, [], `${where}: every matched address is canonical`);
    }
  }
  t.comment(`filter fuzz: ${total} lines in ${Date.now() - started} ms; slowest line ${slowest.ms.toFixed(1)} ms (${slowest.where}); mutations: ${mutations}`);
});
