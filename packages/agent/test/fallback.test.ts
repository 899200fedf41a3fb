/**
 * The fallback stage's pure parts: the link (NATS + controller liveness), the local decider (the
 * jail thresholds on this host's failures, banning only while the fleet is unreachable), the set
 * of local bans, and the follower keeping local bans through its reconciles. Time is a number.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { BanChange, BanListWatch, FailureEvent, JailConfig } from '@fleetban/shared';
import { silentLogger } from '@fleetban/shared';
import { BanFollower } from '../src/decisions/ban-follower.js';
import { FirewallWriter } from '../src/decisions/firewall-writer.js';
import { BanListOpener } from '../src/decisions/ban-list-opener.js';
import type { BanEntry, Enforcer } from '../src/enforce/enforcer.js';
import { hostGuard } from '../src/decisions/host-guard.js';
import { FleetLink } from '../src/fallback/fleet-link.js';
import { type LocalBan, type LocalContext, LocalBans, LocalDecider } from '../src/fallback/local-decider.js';
import { type JailOverrides, testJail } from '../../../test/fixtures/jail-config.js';

const SEC = 1000;
const MIN = 60 * SEC;
const NOW = 1_700_000_000_000;

const jail = (over: JailOverrides = {}): JailConfig => testJail({ logpath: [], ignoreip: ['127.0.0.0/8', '::1'], maxretry: 3, bantimeMs: 15 * MIN, ...over });

let seq = 0;
function failure(ip: string, timeMs = NOW, jailName = 'sshd'): FailureEvent {
  return { id: `web-1:${jailName}:${++seq}`, host: 'web-1', jail: jailName, ip, timeMs, user: 'root', line: `Failed password for root from ${ip}` };
}

function ctx(over: Partial<LocalContext> = {}): LocalContext {
  return { nowMs: NOW, unreachable: 'nats disconnected', isBanned: () => false, ...over };
}

t.test('fleet link: NATS connection and two missed liveness intervals', async (t) => {
  t.same(new FleetLink(NOW, { connected: false }).state(NOW), { reachable: false, why: 'nats disconnected' }, 'a link that starts unconnected');
  const link = new FleetLink(NOW);
  t.same(link.state(NOW + 2 * SEC), { reachable: true }, 'a fresh link has a grace of two assumed 1 s intervals');
  t.same(link.state(NOW + 2 * SEC + 1), { reachable: false, why: 'no controller liveness' }, 'then it needs liveness');
  link.alive(3 * SEC, NOW + 4 * SEC);
  t.same(link.state(NOW + 10 * SEC), { reachable: true }, 'two of the announced 3 s intervals');
  t.same(link.state(NOW + 10 * SEC + 1), { reachable: false, why: 'no controller liveness' });
  t.equal(link.timeoutMs, 6 * SEC);
  link.alive(3 * SEC, NOW + 11 * SEC);
  link.connection(false);
  t.same(link.state(NOW + 11 * SEC), { reachable: false, why: 'nats disconnected' }, 'a disconnect counts at once');
  link.connection(true);
  t.same(link.state(NOW + 12 * SEC), { reachable: true }, 'a short outage: the last liveness is recent enough');
  link.connection(false);
  link.connection(true);
  t.same(link.state(NOW + 60 * SEC), { reachable: false, why: 'no controller liveness' }, 'after a long outage, reconnecting is not enough: the controller must be heard');
  link.alive(3 * SEC, NOW + 60 * SEC);
  t.same(link.state(NOW + 60 * SEC), { reachable: true });
  const custom = new FleetLink(NOW, { missed: 5, assumedIntervalMs: 100 });
  t.same(custom.state(NOW + 500), { reachable: true });
  t.same(custom.state(NOW + 501), { reachable: false, why: 'no controller liveness' });
});

t.test('local decider: maxretry within findtime bans while the fleet is unreachable, for the jail\'s bantime', async (t) => {
  const d = new LocalDecider([jail()]);
  t.same(d.decide(failure('203.0.113.5', NOW - 2 * SEC), ctx()), { kind: 'counted', failures: 1 });
  t.same(d.decide(failure('203.0.113.5', NOW - SEC), ctx()), { kind: 'counted', failures: 2 });
  const v = d.decide(failure('203.0.113.5', NOW), ctx());
  t.same(v, { kind: 'ban', ban: { ip: '203.0.113.5', jail: 'sshd', atMs: NOW, expiresMs: NOW + 15 * MIN, failures: 3, why: 'nats disconnected' } });
  t.equal(d.tracked, 0, 'the window starts over after a ban');
  t.same(d.decide(failure('203.0.113.5', NOW), ctx({ isBanned: () => true })), { kind: 'ignored', why: 'banned' }, 'an address banned already is not counted');
});

t.test('local decider: what reached maxretry just before the fleet was found unreachable is banned at once (catch-up)', async (t) => {
  const d = new LocalDecider([jail()]);
  const up = ctx({ unreachable: null });
  for (let i = 0; i < 3; i++) d.decide(failure('203.0.113.40', NOW - 3 * SEC + i), up);
  for (let i = 0; i < 3; i++) d.decide(failure('203.0.113.41', NOW - 3 * SEC + i), up);
  for (let i = 0; i < 2; i++) d.decide(failure('203.0.113.42', NOW - 3 * SEC + i), up);
  for (let i = 0; i < 3; i++) d.decide(failure('203.0.113.43', NOW - 20 * MIN + i), ctx({ unreachable: null, nowMs: NOW - 20 * MIN }));
  for (let i = 0; i < 3; i++) d.decide(failure('203.0.113.44', NOW - 3 * SEC + i), ctx({ unreachable: null, nowMs: NOW - 5 * SEC }));
  const bans = d.catchUp(NOW, 'no controller liveness', NOW - 4 * SEC, (ip) => ip === '203.0.113.41');
  t.same(bans, [{ ip: '203.0.113.40', jail: 'sshd', atMs: NOW, expiresMs: NOW + 15 * MIN, failures: 3, why: 'no controller liveness' }],
    'only the address at maxretry inside findtime, after the controller was last heard, that the fleet has not banned (.41 is banned, .42 is below maxretry, .43 aged out, .44 reached maxretry while the controller was alive: its call)');
  t.same(d.catchUp(NOW, 'no controller liveness', 0, () => false), [], 'each address is caught up once');
  t.same(d.decide(failure('203.0.113.42', NOW), ctx()), { kind: 'ban', ban: { ip: '203.0.113.42', jail: 'sshd', atMs: NOW, expiresMs: NOW + 15 * MIN, failures: 3, why: 'nats disconnected' } }, 'failures below maxretry keep counting');
});

t.test('local decider: while the fleet is reachable, the controller decides', async (t) => {
  const d = new LocalDecider([jail()]);
  const up = ctx({ unreachable: null });
  d.decide(failure('203.0.113.6'), up);
  d.decide(failure('203.0.113.6'), up);
  t.same(d.decide(failure('203.0.113.6'), up), { kind: 'fleet-decides', failures: 3 }, 'no local ban');
  t.match(d.decide(failure('203.0.113.6'), ctx()), { kind: 'ban', ban: { failures: 3 } }, 'the window is kept: once the fleet is unreachable, the next failure bans');
  const e = new LocalDecider([jail()]);
  e.decide(failure('203.0.113.7'), up);
  e.decide(failure('203.0.113.7'), up);
  t.match(e.decide(failure('203.0.113.7'), ctx({ unreachable: 'no controller liveness' })), { kind: 'ban', ban: { failures: 3, why: 'no controller liveness' } }, 'failures counted while reachable count towards a ban once it is not');
});

t.test('local decider: the jail\'s own thresholds, findtime and allowlists', async (t) => {
  const d = new LocalDecider([jail(), jail({ name: 'nginx', maxretry: 2, findtimeMs: MIN, bantimeMs: -1, ignoreip: ['198.51.100.0/24'] })], { ignoreip: ['192.0.2.0/24'] });
  t.same(d.decide(failure('203.0.113.8', NOW, 'nope'), ctx()), { kind: 'ignored', why: 'unknown-jail' });
  t.match(d.decide(failure('127.0.0.1'), ctx()), { kind: 'refused', refusal: { code: 'special-address' } }, 'loopback');
  t.match(d.decide(failure('198.51.100.3', NOW, 'nginx'), ctx()), { kind: 'refused', refusal: { code: 'jail-ignoreip' } }, 'the other jail\'s ignoreip');
  t.same(d.decide(failure('198.51.100.3'), ctx()), { kind: 'counted', failures: 1 }, 'not in sshd\'s ignoreip');
  t.match(d.decide(failure('192.0.2.9'), ctx()), { kind: 'refused', refusal: { code: 'ignoreip' } }, '[controller] ignoreip of this host\'s file');
  t.same(d.decide(failure('203.0.113.8', NOW - 10 * MIN), ctx()), { kind: 'ignored', why: 'stale' }, 'older than findtime');
  t.same(d.decide(failure('203.0.113.8', NOW - 2 * MIN, 'nginx'), ctx()), { kind: 'ignored', why: 'stale' }, 'older than the jail\'s own findtime');
  d.decide(failure('203.0.113.8', NOW - 50 * SEC, 'nginx'), ctx());
  t.same(d.decide(failure('203.0.113.8', NOW + 20 * SEC, 'nginx'), ctx({ nowMs: NOW + 20 * SEC })), { kind: 'counted', failures: 1 }, 'the first failure slid out of the 1 min window');
  t.match(d.decide(failure('203.0.113.8', NOW + 30 * SEC, 'nginx'), ctx({ nowMs: NOW + 30 * SEC })), { kind: 'ban', ban: { jail: 'nginx', expiresMs: 0 } }, 'maxretry 2; bantime -1 is permanent');
  t.same(d.decide(failure('203.0.113.8'), ctx()), { kind: 'counted', failures: 1 }, 'jails count separately');
});

t.test('local decider: never this host\'s own or its NATS servers\' addresses; time clamped; a future-dated failure bans from its own time', async (t) => {
  const guard = hostGuard({ own: () => ['192.0.2.2'], natsServers: ['192.0.2.3'], clock: () => NOW });
  const d = new LocalDecider([jail({ maxretry: 1 })], { guard, clockSkewMs: MIN });
  t.match(d.decide(failure('192.0.2.2'), ctx()), { kind: 'refused', refusal: { code: 'own-address' } });
  t.match(d.decide(failure('192.0.2.3'), ctx()), { kind: 'refused', refusal: { code: 'nats-server' } });
  t.same(d.decide(failure('203.0.113.9', NOW + MIN + 1), ctx()), { kind: 'ignored', why: 'future' }, 'beyond the clock skew');
  t.match(d.decide(failure('203.0.113.9', NOW + 2 * SEC), ctx()), { kind: 'ban', ban: { atMs: NOW + 2 * SEC, expiresMs: NOW + 2 * SEC + 15 * MIN } });
  const rnd = new LocalDecider([jail({ maxretry: 1, increment: { enabled: true, factor: 1, multipliers: [], maxtimeMs: 0, rndtimeMs: 10 * SEC } })], { random: () => 0.5 });
  t.match(rnd.decide(failure('203.0.113.10'), ctx()), { kind: 'ban', ban: { expiresMs: NOW + 15 * MIN } }, 'banDuration with no history: the bantime (fail2ban adds increment and rndtime to repeat offenders only)');
});

t.test('local decider: memory bounded per jail', async (t) => {
  const d = new LocalDecider([jail()], { maxTracked: 100 });
  for (let i = 0; i < 1000; i++) {
    d.decide(failure(`203.0.${113 + (i >> 8)}.${i & 255}`), ctx());
    if (d.tracked > 100) t.fail(`${d.tracked} addresses tracked`);
  }
  t.equal(d.tracked, 100, 'never more than maxTracked; the least recently failing goes when full');
  d.prune(NOW + 10 * MIN);
  t.equal(d.tracked, 0, 'pruned once findtime has passed');
});

t.test('local bans: in force until expiry, then dropped', async (t) => {
  const bans = new LocalBans();
  bans.add({ ip: '203.0.113.5', jail: 'sshd', atMs: NOW, expiresMs: NOW + MIN, failures: 3, why: 'nats disconnected' });
  bans.add({ ip: '203.0.113.6', jail: 'sshd', atMs: NOW, expiresMs: 0, failures: 3, why: 'nats disconnected' });
  t.ok(bans.has('203.0.113.5', NOW + MIN - 1));
  t.notOk(bans.has('203.0.113.5', NOW + MIN));
  t.same(bans.active(NOW + MIN).map((b) => b.ip), ['203.0.113.6']);
  t.same(bans.expire(NOW + MIN - 1), [], 'nothing due yet');
  t.same(bans.expire(NOW + MIN).map((b) => b.ip), ['203.0.113.5']);
  t.equal(bans.size, 1, 'a permanent local ban stays');
  t.ok(bans.forget('203.0.113.6'));
  t.notOk(bans.forget('203.0.113.6'));
  t.equal(bans.size, 0);
});

/** An enforcer that records what it is asked. */
function recordingEnforcer(): Enforcer & { applied: BanEntry[][]; unbanned: string[][]; reconciled: BanEntry[][] } {
  const rec = { applied: [] as BanEntry[][], unbanned: [] as string[][], reconciled: [] as BanEntry[][] };
  return Object.assign(rec, {
    name: 'recording',
    start: async () => {},
    apply: async (bans: readonly BanEntry[], unbans: readonly string[]) => {
      rec.applied.push([...bans]);
      rec.unbanned.push([...unbans]);
    },
    reconcile: async (all: readonly BanEntry[]) => {
      rec.reconciled.push([...all].sort((a, b) => a.target.localeCompare(b.target)));
      return { added: 0, removed: 0 };
    },
    list: async () => [],
    report: () => ({ backend: 'recording', elements: 0, applied: 0, removed: 0, failed: 0, drift: 0, repairs: 0, reconciles: 0 }),
    stop: async () => {},
  });
}

/** A ban list source the test drives by hand. */
function handList() {
  let w: BanListWatch | undefined;
  return {
    watch: async (watch: BanListWatch) => {
      w = watch;
      setImmediate(() => watch.onInitialized());
      return { stop: () => {} };
    },
    push: (c: BanChange) => w?.onChange(c, false),
  };
}

/** A writer over `enf` saving into a fresh directory; stopped at the end of `t`. */
function writerFor(t: Test, enf: Enforcer, clock = () => NOW, dir = t.testdir()): FirewallWriter {
  const w = new FirewallWriter(enf, clock, silentLogger(), { stateDir: dir, reconcileMs: 60_000 });
  t.teardown(() => w.stop());
  return w;
}

const localBan = (ip: string, expiresMs: number): LocalBan => ({ ip, jail: 'sshd', atMs: NOW, expiresMs, failures: 3, why: 'nats disconnected' });
const settle = () => new Promise((r) => setImmediate(r));

t.test('firewall writer: the list ∪ active local bans; a fleet ban never shortens a local one; an unban lifts it', async (t) => {
  const enf = recordingEnforcer();
  const writer = writerFor(t, enf);
  await writer.restore();
  writer.localBan(localBan('203.0.113.5', NOW + 10 * MIN));
  await settle();
  await writer.reconcile('reconnect');
  t.same(enf.reconciled, [], 'no reconcile before the list is read (it would wipe what the kernel kept)');
  t.same(enf.applied.at(-1), [{ target: '203.0.113.5', expiresMs: NOW + 10 * MIN, jail: 'sshd' }], 'a local ban is enforced at once, list or not');
  const follower = new BanFollower(writer, silentLogger());
  const list = handList();
  await follower.start(list);
  t.teardown(() => follower.stop());
  t.same(enf.reconciled.at(-1), [{ target: '203.0.113.5', expiresMs: NOW + 10 * MIN, jail: 'sshd' }], 'the first reconcile keeps the local ban');
  const ban = (ip: string, expiresMs: number) => ({ ip, jail: 'sshd', atMs: NOW, expiresMs, reason: 'threshold' as const, banCount: 1, hosts: ['web-1'], matches: [], failures: 3, scope: [] as string[] });
  list.push({ kind: 'put', ban: ban('203.0.113.5', NOW + 5 * MIN) });
  list.push({ kind: 'put', ban: ban('203.0.113.6', NOW + 5 * MIN) });
  await settle();
  await writer.reconcile('periodic');
  t.same(enf.applied.at(-1), [
    { target: '203.0.113.5', expiresMs: NOW + 10 * MIN, jail: 'sshd' },
    { target: '203.0.113.6', expiresMs: NOW + 5 * MIN, jail: 'sshd' },
  ], 'the longer of the fleet\'s and the local ban is enforced, both in one batch');
  t.same(enf.reconciled.at(-1)?.map((b) => [b.target, b.expiresMs]), [['203.0.113.5', NOW + 10 * MIN], ['203.0.113.6', NOW + 5 * MIN]], 'reconcile: the list and the local ban, merged');
  t.ok(writer.banned('203.0.113.6', NOW));
  t.notOk(writer.banned('203.0.113.6', NOW + 5 * MIN));
  list.push({ kind: 'delete', target: '203.0.113.5' });
  await settle();
  await writer.reconcile('periodic');
  t.notOk(writer.banned('203.0.113.5', NOW), 'an unban from the fleet lifts the local ban');
  t.same(enf.unbanned.at(-1), ['203.0.113.5']);
  t.same(enf.reconciled.at(-1)?.map((b) => b.target), ['203.0.113.6']);
});

t.test('firewall writer: both lists are saved in state_dir and restored, by a guard, into the firewall of the next start', async (t) => {
  const dir = t.testdir();
  const first = recordingEnforcer();
  const w1 = new FirewallWriter(first, () => NOW, silentLogger(), { stateDir: dir, reconcileMs: 60_000 });
  await w1.restore();
  const follower = new BanFollower(w1, silentLogger());
  const list = handList();
  await follower.start(list);
  list.push({ kind: 'put', ban: { ip: '203.0.113.30', jail: 'sshd', atMs: NOW, expiresMs: NOW + MIN, reason: 'threshold', banCount: 1, hosts: [], matches: [], failures: 3, scope: [] } });
  list.push({ kind: 'put', ban: { ip: '192.0.2.2', jail: 'sshd', atMs: NOW, expiresMs: 0, reason: 'manual', banCount: 1, hosts: [], matches: [], failures: 0, scope: [] } });
  w1.localBan(localBan('203.0.113.31', NOW + 2 * MIN));
  w1.localBan(localBan('203.0.113.32', NOW + 10));
  await settle();
  follower.stop();
  await w1.stop();
  t.same(Object.keys(JSON.parse(readFileSync(join(dir, 'local-bans.json'), 'utf8'))).length, 2, 'local bans saved at once');

  const second = recordingEnforcer();
  const later = NOW + 1000;
  const w2 = new FirewallWriter(second, () => later, silentLogger(), { stateDir: dir, reconcileMs: 60_000, admit: (ip) => ip !== '192.0.2.2' });
  t.teardown(() => w2.stop());
  t.same(await w2.restore(), { fleet: 1, local: 1 }, 'what is still in force, and what the guard admits (192.0.2.2 became this host\'s address)');
  t.same(second.applied.at(-1)?.map((b) => b.target).sort(), ['203.0.113.30', '203.0.113.31'], 'put back into the firewall before anything else');
  t.same(second.reconciled, [], 'no reconcile: the fleet\'s current list decides what goes');
  t.ok(w2.banned('203.0.113.31', later) && w2.banned('203.0.113.30', later));
  writeFileSync(join(dir, 'local-bans.json'), '{ not json');
  const w3 = new FirewallWriter(recordingEnforcer(), () => later, silentLogger(), { stateDir: dir, reconcileMs: 60_000 });
  t.teardown(() => w3.stop());
  t.same(await w3.restore(), { fleet: 2, local: 0 }, 'a damaged file is ignored, the other still read');
});

t.test('ban list opener: retries with a bounded backoff, says so once, stops on demand', async (t) => {
  const lines: string[] = [];
  const logger = { ...silentLogger(), warn: (_o: unknown, msg: string) => lines.push(`warn ${msg}`), info: (_o: unknown, msg: string) => lines.push(`info ${msg}`) } as unknown as ReturnType<typeof silentLogger>;
  let attempts = 0;
  const opener = new BanListOpener(async () => {
    if (++attempts < 4) throw new Error('stream not found');
    return 'list';
  }, logger, { firstDelayMs: 1, maxDelayMs: 4 });
  t.equal(await opener.tryOnce(), null);
  t.equal(await opener.wait(), 'list');
  t.equal(attempts, 4);
  t.same(lines, ['warn ban list not there yet: waiting for the controller to create it (protecting locally meanwhile)', 'info ban list found: following it']);
  const never = new BanListOpener(async () => { throw new Error('no'); }, silentLogger(), { firstDelayMs: 10_000 });
  const waiting = never.wait();
  await new Promise((r) => setTimeout(r, 5));
  never.stop();
  t.equal(await waiting, null, 'stop() ends the wait at once');
});

t.test('ban follower: a ban scoped to other hosts, or covering this host or its NATS server, never reaches the firewall', async (t) => {
  const enf = recordingEnforcer();
  const guard = hostGuard({ own: () => ['192.0.2.2'], natsServers: ['192.0.2.3'], clock: () => NOW });
  const writer = writerFor(t, enf);
  await writer.restore();
  const follower = new BanFollower(writer, silentLogger(), { host: 'web-1', guard });
  const list = handList();
  await follower.start(list);
  t.teardown(() => follower.stop());
  const ban = (ip: string, scope: string[] = []) => ({ ip, jail: 'sshd', atMs: NOW, expiresMs: NOW + MIN, reason: 'manual' as const, banCount: 1, hosts: [], matches: [], failures: 0, scope });
  writer.localBan(localBan('203.0.113.23', NOW + MIN));
  list.push({ kind: 'put', ban: ban('192.0.2.0/24') });
  list.push({ kind: 'put', ban: ban('192.0.2.3') });
  list.push({ kind: 'put', ban: ban('203.0.113.20', ['web-2']) });
  list.push({ kind: 'put', ban: ban('203.0.113.21', ['web-1', 'web-2']) });
  list.push({ kind: 'put', ban: ban('203.0.113.22') });
  list.push({ kind: 'put', ban: ban('203.0.113.23', ['web-2']) });
  await settle();
  await writer.reconcile('periodic');
  t.same(enf.reconciled.at(-1)?.map((b) => b.target), ['203.0.113.21', '203.0.113.22', '203.0.113.23'], 'only the bans for this host that its guard allows, and the local ban');
  t.equal(follower.refused, 2, 'the two refusals are counted');
  t.notOk(writer.banned('203.0.113.20', NOW), 'a ban scoped to web-2 is not held here');
  t.ok(writer.banned('203.0.113.23', NOW), 'a ban scoped to others leaves this host\'s local ban of the address alone');
  list.push({ kind: 'put', ban: ban('203.0.113.22', ['web-2']) });
  await settle();
  await writer.reconcile('periodic');
  t.same(enf.reconciled.at(-1)?.map((b) => b.target), ['203.0.113.21', '203.0.113.23'], 'a ban narrowed away from this host is lifted here');
});

t.test('local decider: a spray from more addresses than a window holds is counted as evictions, not kept', async (t) => {
  const d = new LocalDecider([jail()], { maxTracked: 64 });
  for (let i = 0; i < 1000; i++) d.decide(failure(`2001:db8::${i.toString(16)}`, NOW + i), ctx({ nowMs: NOW + i, unreachable: null }));
  t.ok(d.tracked <= 64, `at most maxTracked addresses are kept (${d.tracked})`);
  t.equal(d.tracked + d.evicted, 1000, 'every address is either tracked or counted as evicted');
  t.equal(d.maxTracked, 64);
  const v = d.decide(failure('2001:db8::3e7', NOW + 1000), ctx({ nowMs: NOW + 1000, unreachable: null }));
  t.same(v, { kind: 'counted', failures: 2 }, 'the most recently failing addresses are the ones kept');
});
