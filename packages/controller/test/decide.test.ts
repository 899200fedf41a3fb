/**
 * The decide stage: one failure in, one verdict out, with real jail trackers and a real host
 * registry; bans and offences are plain maps, time is a number. No NATS.
 */
import t from 'tap';
import {
  type BanDecision,
  type FailureEvent,
  type Heartbeat,
  historyKey,
  type JailConfig,
  type Offence,
} from '@fleetban/shared';
import { JailTrackers } from '../src/aggregate/jail-tracker.js';
import { BanDecider, type Verdict } from '../src/decide/ban-decider.js';
import { fleetGuard } from '../src/decide/fleet-guard.js';
import { HostRegistry } from '../src/fleet/host-registry.js';
import { OffenceBook } from '../src/store/offence-book.js';
import { type JailOverrides, testJail } from '../../../test/fixtures/jail-config.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const NOW = 1_700_000_000_000;

/** A jail as the config loader would produce it. */
const jail = (over: JailOverrides = {}): JailConfig => testJail({ maxretry: 3, bantimeMs: HOUR, ...over });

/** The [DEFAULT] section: what a jail without a section of its own gets. */
const DEFAULTS = jail({ name: '', maxretry: 2, bantimeMs: 5 * MIN, findtimeMs: 5 * MIN, maxmatches: 2 });

interface World {
  readonly decider: BanDecider;
  /** Decides, and commits a ban verdict as the failure handler does once the ban is stored. */
  decide(e: FailureEvent, nowMs: number): Verdict;
  readonly trackers: JailTrackers;
  readonly hosts: HostRegistry;
  readonly bans: Map<string, BanDecision>;
  readonly offences: OffenceBook;
}

const LIMITS = { minPrefixV4: 16, minPrefixV6: 32, maxBantimeMs: 365 * 24 * HOUR };

function world(opts: { jails?: JailConfig[]; globalAllow?: string[]; natsServers?: string[]; controller?: string[]; maxBantimeMs?: number } = {}): World {
  const trackers = new JailTrackers(opts.jails ?? [jail()], (name) => ({ ...DEFAULTS, name }), 1000);
  const hosts = new HostRegistry();
  const bans = new Map<string, BanDecision>();
  const offences = new OffenceBook();
  const guard = fleetGuard({
    hosts,
    natsServers: opts.natsServers ?? [],
    controller: opts.controller ?? [],
    ignoreip: opts.globalAllow ?? [],
    limits: { ...LIMITS, maxBantimeMs: opts.maxBantimeMs ?? LIMITS.maxBantimeMs },
  });
  const decider = new BanDecider({ trackers, bans, offences, guard, clockSkewMs: MIN });
  const decide = (e: FailureEvent, nowMs: number): Verdict => {
    const v = decider.decide(e, nowMs);
    if (v.kind === 'ban') decider.commit(v);
    return v;
  };
  return { decider, decide, trackers, hosts, bans, offences };
}

/** An offence as the store records it (ended when cleared, no recent fleet-wide bans unless given). */
function offence(o: Pick<Offence, 'count' | 'lastBanMs' | 'clearedAtMs'> & Partial<Offence>): Offence {
  return { endsMs: o.clearedAtMs, banTimesMs: [], ...o };
}

let seq = 0;
/** One failure as an agent reports it. */
function failure(ip: string, timeMs: number, host = 'web-1', jailName = 'sshd'): FailureEvent {
  seq++;
  return {
    id: `${host}:1:${seq}`,
    host,
    jail: jailName,
    ip,
    timeMs,
    user: 'root',
    line: `sshd[${seq}]: Failed password for root from ${ip} port 22 ssh2`,
  };
}

function heartbeat(host: string, addresses: string[]): Heartbeat {
  return { host, timeMs: NOW, addresses, jails: ['sshd'], backend: 'dry-run', firewall: 'none', banned: 0, version: '0.1.0', lines: 0, failures: 0, buffered: 0, skipped: 0, undecodable: 0, matched: 0, bytesBehind: 0, spoolBytes: 0, drift: 0, enforceFailed: 0, fallback: false, localBans: 0, refused: 0 };
}

function banOf(v: Verdict): BanDecision | undefined {
  return v.kind === 'ban' ? v.decision : undefined;
}

/** The refusal code of a verdict, or its kind when it is not a refusal. */
function refusalOf(v: Verdict): string {
  return v.kind === 'refused' ? v.refusal.code : v.kind;
}

function activeBan(ip: string, expiresMs: number): BanDecision {
  return { ip, jail: 'sshd', atMs: NOW - HOUR, expiresMs, reason: 'threshold', banCount: 1, hosts: ['web-1'], matches: [], failures: 3, scope: [] };
}

t.test('maxretry reached across hosts: a ban', async (tt) => {
  const w = world();
  const ip = '192.0.2.10';
  const events = [failure(ip, NOW - 3 * MIN, 'web-2'), failure(ip, NOW - 2 * MIN, 'web-3'), failure(ip, NOW - 1 * MIN, 'web-1')];
  tt.same(w.decide(events[0] as FailureEvent, NOW), { kind: 'counted', failures: 1 });
  tt.same(w.decide(events[1] as FailureEvent, NOW), { kind: 'counted', failures: 2 });
  const v = w.decide(events[2] as FailureEvent, NOW);
  tt.equal(v.kind, 'ban');
  tt.same(banOf(v), {
    ip,
    jail: 'sshd',
    atMs: NOW,
    expiresMs: NOW + HOUR,
    reason: 'threshold',
    banCount: 1,
    hosts: ['web-1', 'web-2', 'web-3'],
    matches: events.map((e) => e.line),
    failures: 3,
    scope: [],
    id: events[2]?.id,
    user: events[2]?.user,
  }, 'the ban\'s id and user are those of the failure that tipped it over');
});

t.test('below maxretry: counted', async (tt) => {
  const w = world({ jails: [jail({ maxretry: 5 })] });
  for (let i = 1; i <= 4; i++) {
    tt.same(w.decide(failure('2001:db8::10', NOW - (5 - i) * SEC), NOW), { kind: 'counted', failures: i }, `failure ${i}`);
  }
  tt.same(w.decide(failure('198.51.100.4', NOW), NOW), { kind: 'counted', failures: 1 }, 'another address counts apart');
  tt.equal(w.decide(failure('2001:db8::10', NOW), NOW).kind, 'ban', 'the fifth bans');
});

t.test('maxmatches bounds the evidence; failures counts them all', async (tt) => {
  const w = world({ jails: [jail({ maxretry: 4, maxmatches: 2 })] });
  const events = [1, 2, 3, 4].map((i) => failure('203.0.113.44', NOW - (5 - i) * SEC, `web-${i}`));
  let v: Verdict | undefined;
  for (const e of events) v = w.decide(e, NOW);
  const ban = v && banOf(v);
  tt.same(ban?.matches, [events[2]?.line, events[3]?.line], 'the newest lines');
  tt.equal(ban?.failures, 4);
  tt.same(ban?.hosts, ['web-1', 'web-2', 'web-3', 'web-4']);
});

t.test('failures spread over more than findtime never ban', async (tt) => {
  const w = world();
  const kinds = new Set<string>();
  let most = 0;
  for (let i = 0; i < 20; i++) {
    const at = NOW + i * 6 * MIN; // two fit in 10 minutes, three never do
    const v = w.decide(failure('192.0.2.20', at, `web-${i % 3}`), at);
    kinds.add(v.kind);
    if (v.kind === 'counted') most = Math.max(most, v.failures);
  }
  tt.same([...kinds], ['counted']);
  tt.equal(most, 2);
  tt.equal(w.trackers.get('sshd').totalBanned, 0);
});

t.test('allowlisted addresses are ignored: jail ignoreip and the controller ignoreip', async (tt) => {
  const w = world({
    jails: [jail({ ignoreip: ['198.51.100.0/24'] }), jail({ name: 'nginx-http-auth', ignoreip: [] })],
    globalAllow: ['2001:db8:1::/48', '203.0.113.7'],
  });
  for (let i = 0; i < 5; i++) {
    tt.equal(refusalOf(w.decide(failure('198.51.100.99', NOW), NOW)), 'jail-ignoreip', `jail ignoreip, failure ${i}`);
    tt.equal(refusalOf(w.decide(failure('2001:db8:1:2::3', NOW), NOW)), 'ignoreip', `global ignoreip (v6 network), failure ${i}`);
    tt.equal(refusalOf(w.decide(failure('203.0.113.7', NOW), NOW)), 'ignoreip', `global ignoreip (single address), failure ${i}`);
  }
  tt.equal(refusalOf(w.decide(failure('2001:db8:1::9', NOW, 'web-1', 'nginx-http-auth'), NOW)), 'ignoreip', 'the global list covers every jail');
  tt.same(w.decide(failure('198.51.100.99', NOW, 'web-1', 'nginx-http-auth'), NOW), { kind: 'counted', failures: 1 }, "a jail's ignoreip is its own");
  tt.same(w.decide(failure('203.0.113.8', NOW), NOW), { kind: 'counted', failures: 1 }, 'the neighbour is not allowlisted');
  tt.equal(w.trackers.get('sshd').totalFailed, 1, 'ignored failures are not counted');
  tt.equal(w.trackers.get('sshd').window.size, 1);
});

t.test("a fleet host's address (from a heartbeat) is never counted", async (tt) => {
  const w = world();
  tt.same(w.decide(failure('203.0.113.10', NOW), NOW), { kind: 'counted', failures: 1 }, 'before the heartbeat');
  w.hosts.record(heartbeat('web-9', ['203.0.113.10', '2001:db8:9::10']), NOW);
  for (let i = 0; i < 4; i++) {
    tt.equal(refusalOf(w.decide(failure('203.0.113.10', NOW), NOW)), 'fleet-host', `v4, failure ${i}`);
  }
  tt.equal(refusalOf(w.decide(failure('2001:db8:9::10', NOW), NOW)), 'fleet-host', 'v6');
  tt.same(w.decide(failure('203.0.113.11', NOW), NOW), { kind: 'counted', failures: 1 }, 'another address');
  w.hosts.record(heartbeat('web-9', ['2001:db8:9::10']), NOW + SEC);
  tt.same(w.decide(failure('203.0.113.10', NOW + SEC), NOW + SEC), { kind: 'counted', failures: 2 }, 'an address the host no longer reports');
});

t.test('a stale failure (older than findtime before now) is ignored', async (tt) => {
  const w = world();
  tt.same(w.decide(failure('192.0.2.30', NOW - HOUR), NOW), { kind: 'ignored', why: 'stale' });
  tt.same(w.decide(failure('192.0.2.30', NOW - 10 * MIN), NOW), { kind: 'ignored', why: 'stale' }, 'exactly findtime old');
  tt.same(w.decide(failure('192.0.2.30', NOW - 10 * MIN + 1), NOW), { kind: 'counted', failures: 1 }, 'one ms younger');
  tt.equal(w.trackers.get('sshd').totalFailed, 1);
});

t.test('an address with an active ban is ignored', async (tt) => {
  const w = world();
  w.bans.set('192.0.2.40', activeBan('192.0.2.40', NOW + 30 * MIN));
  w.bans.set('192.0.2.41', activeBan('192.0.2.41', 0)); // permanent
  w.bans.set('192.0.2.42', activeBan('192.0.2.42', NOW - 1)); // expired, not yet removed
  for (let i = 0; i < 4; i++) {
    tt.same(w.decide(failure('192.0.2.40', NOW), NOW), { kind: 'ignored', why: 'banned' }, `failure ${i}`);
  }
  tt.same(w.decide(failure('192.0.2.41', NOW), NOW), { kind: 'ignored', why: 'banned' }, 'permanent ban');
  tt.same(w.decide(failure('192.0.2.42', NOW), NOW), { kind: 'counted', failures: 1 }, 'an expired ban does not count');
});

t.test('an offence clears failures up to clearedAtMs', async (tt) => {
  const w = world();
  const ip = '2001:db8::50';
  w.offences.set(historyKey('sshd', ip), offence({ count: 1, lastBanMs: NOW - HOUR, clearedAtMs: NOW - 2 * MIN }));
  tt.same(w.decide(failure(ip, NOW - 3 * MIN), NOW), { kind: 'ignored', why: 'dealt-with' }, 'before clearedAtMs');
  tt.same(w.decide(failure(ip, NOW - 2 * MIN), NOW), { kind: 'ignored', why: 'dealt-with' }, 'at clearedAtMs');
  tt.same(w.decide(failure(ip, NOW - 2 * MIN + 1), NOW), { kind: 'counted', failures: 1 }, 'after clearedAtMs');
  tt.same(w.decide(failure(ip, NOW - 4 * MIN, 'web-1', 'nginx-http-auth'), NOW), { kind: 'counted', failures: 1 }, "another jail's history does not apply");
});

t.test('after a ban the window starts over', async (tt) => {
  const w = world();
  const ip = '198.51.100.60';
  for (let i = 0; i < 3; i++) w.decide(failure(ip, NOW - (3 - i) * SEC), NOW);
  tt.equal(w.trackers.get('sshd').window.size, 0, 'the address is no longer tracked');
  tt.same(w.decide(failure(ip, NOW), NOW), { kind: 'counted', failures: 1 }, 'the next failure counts 1');
});

t.test('bantime.increment uses the offence count as previous', async (tt) => {
  const w = world({ jails: [jail({ bantimeMs: 10 * MIN, increment: { enabled: true, factor: 1, multipliers: [], maxtimeMs: 0, rndtimeMs: 0 } })] });
  const ip = '203.0.113.70';
  w.offences.set(historyKey('sshd', ip), offence({ count: 2, lastBanMs: NOW - 2 * HOUR, clearedAtMs: NOW - HOUR }));
  let v: Verdict | undefined;
  for (let i = 0; i < 3; i++) v = w.decide(failure(ip, NOW - (3 - i) * SEC), NOW);
  const ban = v && banOf(v);
  tt.equal(ban?.banCount, 3, 'third ban');
  tt.equal(ban?.expiresMs, NOW + 40 * MIN, 'bantime × 2^2');

  const first = '203.0.113.71';
  for (let i = 0; i < 3; i++) v = w.decide(failure(first, NOW - (3 - i) * SEC), NOW);
  tt.equal(v && banOf(v)?.banCount, 1, 'no history: first ban');
  tt.equal(v && banOf(v)?.expiresMs, NOW + 10 * MIN, 'no history: bantime');
});

t.test('a permanent jail bans with expiresMs 0', async (tt) => {
  const w = world({ jails: [jail({ bantimeMs: -1 })] });
  let v: Verdict | undefined;
  for (let i = 0; i < 3; i++) v = w.decide(failure('192.0.2.80', NOW - i), NOW);
  tt.equal(v && banOf(v)?.expiresMs, 0);
});

t.test('a failure stamped after now bans from its own time', async (tt) => {
  const w = world();
  let v: Verdict | undefined;
  for (let i = 0; i < 3; i++) v = w.decide(failure('192.0.2.90', NOW + 5 * SEC), NOW);
  tt.equal(v && banOf(v)?.atMs, NOW + 5 * SEC);
  tt.equal(v && banOf(v)?.expiresMs, NOW + 5 * SEC + HOUR);
});

t.test('an unknown jail falls back to the defaults given to JailTrackers', async (tt) => {
  const w = world();
  const name = 'postfix-sasl';
  tt.same(w.decide(failure('192.0.2.100', NOW - SEC, 'web-1', name), NOW), { kind: 'counted', failures: 1 });
  const v = w.decide(failure('192.0.2.100', NOW, 'web-2', name), NOW);
  tt.same(banOf(v) && { jail: banOf(v)?.jail, expiresMs: banOf(v)?.expiresMs, hosts: banOf(v)?.hosts }, {
    jail: name,
    expiresMs: NOW + 5 * MIN,
    hosts: ['web-1', 'web-2'],
  }, 'the defaults maxretry (2) and bantime (5m)');
  const tracker = w.trackers.get(name);
  tt.equal(tracker.jail.name, name);
  tt.equal(tracker.jail.maxretry, 2);
  tt.equal(refusalOf(w.decide(failure('127.0.0.1', NOW, 'web-1', name), NOW)), 'special-address', 'loopback is never counted');
  const other = world({ jails: [jail({ name: 'x', ignoreip: ['192.0.2.0/24'] })] });
  tt.equal(refusalOf(other.decider.decide(failure('192.0.2.5', NOW, 'web-1', 'x'), NOW)), 'jail-ignoreip', "the jail's ignoreip applies");
  tt.same(w.decide(failure('192.0.2.101', NOW - 5 * MIN, 'web-1', name), NOW), { kind: 'ignored', why: 'stale' }, "the defaults' findtime (5m)");
  tt.same(w.trackers.all().map((x) => x.jail.name), ['sshd', name], 'configured jails first');
});

t.test('totals move: totalFailed counts counted failures, totalBanned bans', async (tt) => {
  const w = world({ globalAllow: ['203.0.113.0/24'] });
  const sshd = w.trackers.get('sshd');
  w.decide(failure('203.0.113.1', NOW), NOW); // allowlisted
  w.decide(failure('192.0.2.1', NOW - HOUR), NOW); // stale
  tt.same([sshd.totalFailed, sshd.totalBanned], [0, 0], 'ignored failures move nothing');
  for (let i = 0; i < 3; i++) w.decide(failure('192.0.2.1', NOW - i), NOW);
  tt.same([sshd.totalFailed, sshd.totalBanned], [3, 1], 'one ban');
  for (let i = 0; i < 2; i++) w.decide(failure('192.0.2.2', NOW - i), NOW);
  tt.same([sshd.totalFailed, sshd.totalBanned], [5, 1]);
  w.decide(failure('192.0.2.2', NOW), NOW);
  tt.same([sshd.totalFailed, sshd.totalBanned], [6, 2], 'a second ban');
  w.bans.set('192.0.2.2', activeBan('192.0.2.2', NOW + HOUR));
  w.decide(failure('192.0.2.2', NOW), NOW);
  tt.same([sshd.totalFailed, sshd.totalBanned], [6, 2], 'a failure of a banned address moves nothing');
});

t.test('a ban names only the hosts whose failures it counts', async (tt) => {
  const w = world();
  const ip = '198.51.100.77';
  w.decide(failure(ip, NOW - 30 * MIN, 'web-9'), NOW - 30 * MIN); // counted, then ages out
  let v: Verdict | undefined;
  for (let i = 1; i <= 3; i++) v = w.decide(failure(ip, NOW - (4 - i) * SEC, `web-${i}`), NOW);
  const ban = v && banOf(v);
  tt.equal(ban?.failures, 3, 'the three failures inside findtime');
  tt.same(ban?.hosts, ['web-1', 'web-2', 'web-3'], 'hosts: web-9 reported nothing inside findtime');
});

t.test('an event whose ip is a network, not an address, never bans', async (tt) => {
  // decodeFailure refuses such events at the boundary; the decider refuses them again
  const w = world({ globalAllow: ['203.0.113.0/24'] });
  w.hosts.record(heartbeat('web-1', ['192.0.2.1']), NOW);
  let v: Verdict | undefined;
  for (let i = 0; i < 3; i++) v = w.decide(failure('0.0.0.0/0', NOW - i), NOW);
  tt.not(v?.kind, 'ban', 'a network as ip (0.0.0.0/0 covers the fleet and the allowlist) is refused');
  tt.same(v, { kind: 'ignored', why: 'invalid' });
});

t.test('the NATS servers, the controller and special space are never counted', async (tt) => {
  const w = world({ natsServers: ['192.0.2.200'], controller: ['192.0.2.201', '2001:db8::201'] });
  tt.equal(refusalOf(w.decide(failure('192.0.2.200', NOW), NOW)), 'nats-server');
  tt.equal(refusalOf(w.decide(failure('192.0.2.201', NOW), NOW)), 'controller');
  tt.equal(refusalOf(w.decide(failure('2001:db8::201', NOW), NOW)), 'controller');
  for (const ip of ['127.0.0.1', '169.254.1.1', '224.0.0.1', '0.0.0.0', '255.255.255.255', '::1', 'fe80::1', 'ff02::1', '::']) {
    tt.equal(refusalOf(w.decide(failure(ip, NOW), NOW)), 'special-address', ip);
  }
  tt.equal(w.trackers.get('sshd').totalFailed, 0);
});

t.test('event times are clamped to [now - findtime, now + clock skew]', async (tt) => {
  const w = world();
  tt.same(w.decide(failure('192.0.2.91', NOW + MIN + 1), NOW), { kind: 'ignored', why: 'future' }, 'beyond the clock skew');
  tt.same(w.decide(failure('192.0.2.91', NOW + 365 * 24 * HOUR), NOW), { kind: 'ignored', why: 'future' }, 'a forged far-future time');
  tt.same(w.decide(failure('192.0.2.91', NOW + MIN), NOW), { kind: 'counted', failures: 1 }, 'at the edge of the skew');
  tt.equal(w.trackers.get('sshd').window.size, 1);
});

t.test('a threshold bantime is cut to max_bantime', async (tt) => {
  const w = world({ jails: [jail({ bantimeMs: 400 * 24 * HOUR })], maxBantimeMs: 30 * 24 * HOUR });
  let v: Verdict | undefined;
  for (let i = 0; i < 3; i++) v = w.decide(failure('192.0.2.92', NOW - i), NOW);
  tt.equal(v && banOf(v)?.expiresMs, NOW + 30 * 24 * HOUR);
});

t.test('min_hosts: one host alone bans on itself only; a second host makes it fleet-wide', async (tt) => {
  const w = world({ jails: [jail({ maxretry: 3, minHosts: 2 })] });
  const ip = '203.0.113.120';
  tt.same(w.decide(failure(ip, NOW - 5 * SEC, 'web-1'), NOW), { kind: 'counted', failures: 1 });
  tt.same(w.decide(failure(ip, NOW - 4 * SEC, 'web-1'), NOW), { kind: 'counted', failures: 2 });
  const local = w.decide(failure(ip, NOW - 3 * SEC, 'web-1'), NOW);
  tt.match(local, { kind: 'ban', widened: false, decision: { scope: ['web-1'], hosts: ['web-1'], failures: 3 } }, 'maxretry on web-1 alone: banned there only');
  w.bans.set(ip, (local as { decision: BanDecision }).decision);
  const wide = w.decide(failure(ip, NOW - 2 * SEC, 'web-2'), NOW);
  tt.match(wide, { kind: 'ban', widened: true, decision: { scope: [], hosts: ['web-1', 'web-2'], failures: 4, banCount: 1 } }, 'one failure on a second host: every host');
  tt.equal((wide as { decision: BanDecision }).decision.expiresMs, (local as { decision: BanDecision }).decision.expiresMs, 'the same ban, widened: same expiry');
  w.bans.set(ip, (wide as { decision: BanDecision }).decision);
  tt.same(w.decide(failure(ip, NOW - SEC, 'web-3'), NOW), { kind: 'ignored', why: 'banned' }, 'then banned everywhere');
  tt.equal(w.trackers.get('sshd').totalBanned, 1, 'one ban');
});

t.test('min_hosts: failures spread over enough hosts ban fleet-wide at once', async (tt) => {
  const w = world({ jails: [jail({ maxretry: 3, minHosts: 2 })] });
  const ip = '203.0.113.121';
  w.decide(failure(ip, NOW - 3 * SEC, 'web-1'), NOW);
  w.decide(failure(ip, NOW - 2 * SEC, 'web-1'), NOW);
  tt.match(w.decide(failure(ip, NOW - SEC, 'web-2'), NOW), { kind: 'ban', decision: { scope: [] } });
});

t.test('maxretry_per_host: one host flooding forged failures never bans fleet-wide', async (tt) => {
  const w = world({ jails: [jail({ maxretry: 5, maxretryPerHost: 2 })] });
  const ip = '203.0.113.122';
  const verdicts: Verdict[] = [];
  for (let i = 0; i < 100; i++) {
    const v = w.decide(failure(ip, NOW - (100 - i) * 10, 'web-1'), NOW);
    verdicts.push(v);
    if (v.kind === 'ban') w.bans.set(ip, v.decision);
  }
  const bans = verdicts.filter((v) => v.kind === 'ban');
  tt.equal(bans.length, 1, 'one ban');
  tt.same(banOf(bans[0] as Verdict)?.scope, ['web-1'], 'on web-1 only: it saw maxretry failures itself');
  tt.ok(verdicts.slice(5).every((v) => v.kind === 'counted'), 'later failures of web-1 are counted, never widen the ban');
  tt.match(verdicts.at(-1), { kind: 'counted', failures: 2 }, 'web-1 counts for at most 2 fleet-wide');
  w.decide(failure(ip, NOW, 'web-2'), NOW);
  const wide = w.decide(failure(ip, NOW, 'web-2'), NOW);
  tt.match(wide, { kind: 'counted', failures: 4 }, 'two more hosts-worth needed: 2 + 2');
  tt.match(w.decide(failure(ip, NOW, 'web-3'), NOW), { kind: 'ban', widened: true, decision: { scope: [] } }, 'a third host makes 5: every host');
});

t.test('jails without a section: at most maxUnconfigured are tracked, the rest rejected', async (tt) => {
  const trackers = new JailTrackers([jail()], (name) => ({ ...DEFAULTS, name }), 1000, 2);
  const hosts = new HostRegistry();
  const guard = fleetGuard({ hosts, natsServers: [], controller: [], ignoreip: [], limits: LIMITS });
  const decider = new BanDecider({ trackers, bans: new Map(), offences: new OffenceBook(), guard });
  tt.equal(decider.decide(failure('192.0.2.150', NOW, 'web-1', 'a'), NOW).kind, 'counted');
  tt.equal(decider.decide(failure('192.0.2.150', NOW, 'web-1', 'b'), NOW).kind, 'counted');
  for (let i = 0; i < 100; i++) tt.same(decider.decide(failure('192.0.2.150', NOW, 'web-1', `x${i}`), NOW), { kind: 'ignored', why: 'jail' });
  tt.equal(decider.decide(failure('192.0.2.150', NOW, 'web-1', 'sshd'), NOW).kind, 'counted', 'configured jails are always tracked');
  tt.same(trackers.all().map((x) => x.jail.name), ['sshd', 'a', 'b']);
});

t.test('a ban verdict changes nothing until it is committed (its write may fail and be retried)', async (tt) => {
  const w = world();
  const ip = '192.0.2.160';
  w.decide(failure(ip, NOW - 2 * SEC), NOW);
  w.decide(failure(ip, NOW - SEC), NOW);
  const v = w.decider.decide(failure(ip, NOW), NOW);
  tt.equal(v.kind, 'ban');
  tt.equal(w.trackers.get('sshd').window.size, 1, 'the failures are still in the window');
  tt.equal(w.trackers.get('sshd').totalBanned, 0, 'no ban counted yet');
  w.decider.commit(v as Extract<Verdict, { kind: 'ban' }>);
  tt.equal(w.trackers.get('sshd').window.size, 0, 'committed: the window starts over');
  tt.equal(w.trackers.get('sshd').totalBanned, 1);
});
