/**
 * The pure policy stage shared by the controller and the agent's fallback: the failure window
 * (fail2ban's failmanager) and the ban duration (bantime and bantime.increment). Times are plain
 * numbers: nothing reads a clock.
 */
import t from 'tap';
import { banDuration, banExpiry } from '../src/policy/bantime.js';
import { FailureWindow, hostsOf, type WindowOptions } from '../src/policy/failure-window.js';
import { PERMANENT } from '../src/time/duration.js';
import { Allowlist } from '../src/ip/allowlist.js';
import { parseNetwork } from '../src/ip/address.js';
import { allowlistSpace, BanGuard } from '../src/policy/guards.js';
import { judgeFailure, scopeIncludes, type ThresholdContext } from '../src/policy/threshold.js';
import { testJail } from '../../../test/fixtures/jail-config.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const T0 = 1_700_000_000_000;


/** A jail as the config loader would produce it, fail2ban's defaults unless overridden. */
const jail = testJail;

function windowOf(over: Partial<WindowOptions> = {}, maxTimes?: number): FailureWindow {
  return new FailureWindow({ findtimeMs: 10 * MIN, maxmatches: 5, maxTracked: 100, ...over }, maxTimes);
}

const line = (n: number) => `sshd[${n}]: Failed password for root from 192.0.2.10 port 22 ssh2`;

t.test('failure window: counts only failures inside findtime of the newest', async (tt) => {
  const w = windowOf();
  const ip = '192.0.2.10';
  tt.equal(w.add(ip, T0, 'web-1', line(1)).times.length, 1);
  tt.equal(w.add(ip, T0 + 4 * MIN, 'web-1', line(2)).times.length, 2);
  tt.equal(w.add(ip, T0 + 9 * MIN, 'web-1', line(3)).times.length, 3);
  const t4 = w.add(ip, T0 + 11 * MIN, 'web-1', line(4));
  tt.same(t4.times, [T0 + 4 * MIN, T0 + 9 * MIN, T0 + 11 * MIN], 'the failure at T0 fell out of the window');
  const t5 = w.add(ip, T0 + 30 * MIN, 'web-1', line(5));
  tt.same(t5.times, [T0 + 30 * MIN], 'a failure after a quiet findtime starts over');
  tt.equal(w.size, 1);

  const edge = windowOf();
  edge.add('198.51.100.1', T0, 'web-1', 'a');
  tt.same(edge.add('198.51.100.1', T0 + 10 * MIN, 'web-1', 'b').times, [T0 + 10 * MIN], 'exactly findtime apart is outside');
  tt.equal(edge.add('198.51.100.1', T0 + 20 * MIN - 1, 'web-1', 'c').times.length, 2, 'one ms inside is inside');
});

t.test('failure window: addresses are counted apart', async (tt) => {
  const w = windowOf();
  w.add('192.0.2.1', T0, 'web-1', 'a');
  w.add('192.0.2.1', T0 + 1, 'web-1', 'b');
  tt.equal(w.add('2001:db8::1', T0 + 2, 'web-1', 'c').times.length, 1);
  tt.equal(w.add('192.0.2.1', T0 + 3, 'web-1', 'd').times.length, 3);
  tt.equal(w.size, 2);
});

t.test('failure window: out-of-order times are sorted in by the event time', async (tt) => {
  const w = windowOf();
  const ip = '203.0.113.5';
  w.add(ip, T0 + 5 * MIN, 'web-1', 'a');
  w.add(ip, T0 + 1 * MIN, 'web-2', 'b');
  const t3 = w.add(ip, T0 + 3 * MIN, 'web-3', 'c');
  tt.same(t3.times, [T0 + 1 * MIN, T0 + 3 * MIN, T0 + 5 * MIN], 'oldest first');
  const late = w.add(ip, T0 - 6 * MIN, 'web-1', 'd');
  tt.same(late.times, [T0 + 1 * MIN, T0 + 3 * MIN, T0 + 5 * MIN], 'a late failure older than findtime before the newest is not counted');
  const t5 = w.add(ip, T0 - 4 * MIN, 'web-1', 'e');
  tt.same(t5.times, [T0 - 4 * MIN, T0 + 1 * MIN, T0 + 3 * MIN, T0 + 5 * MIN], 'a late failure inside the window is');
  const t6 = w.add(ip, T0 + 7 * MIN, 'web-1', 'f');
  tt.same(t6.times, [T0 + 1 * MIN, T0 + 3 * MIN, T0 + 5 * MIN, T0 + 7 * MIN], 'then ages out by the newest time');
});

t.test('failure window: capture is a copy, restore takes it back in eviction order', async (tt) => {
  const w = windowOf({ maxTracked: 3 });
  w.add('192.0.2.1', 1_000, 'a', 'one');
  w.add('192.0.2.2', 2_000, 'b', 'two');
  w.add('192.0.2.1', 3_000, 'c', 'three');
  const captured = w.capture().slice();
  w.add('192.0.2.1', 4_000, 'a', 'four');
  tt.same(captured.map((c) => c.ip), ['192.0.2.2', '192.0.2.1'], 'least recently failing first');
  tt.same(captured[1], { ip: '192.0.2.1', times: [1_000, 3_000], sources: ['a', 'c'], matches: ['one', 'three'] }, 'later failures do not change it');
  const back = windowOf({ maxTracked: 3 });
  back.restore(captured);
  tt.equal(back.size, 2);
  tt.same(back.add('192.0.2.1', 5_000, 'd', 'five').times, [1_000, 3_000, 5_000], 'restored failures count');
  back.add('192.0.2.3', 5_000, 'd', 'x');
  back.add('192.0.2.4', 5_000, 'd', 'y');
  tt.equal(back.dropped, 1, 'the cap holds after a restore');
  tt.same(back.capture().slice().map((c) => c.ip), ['192.0.2.1', '192.0.2.3', '192.0.2.4'], '192.0.2.2, restored first, was dropped first');
});

t.test('failure window: reset forgets an address', async (tt) => {
  const w = windowOf();
  for (let i = 0; i < 4; i++) w.add('192.0.2.20', T0 + i, 'web-1', line(i));
  w.add('192.0.2.21', T0, 'web-1', 'x');
  w.reset('192.0.2.20');
  tt.equal(w.size, 1);
  const again = w.add('192.0.2.20', T0 + 10, 'web-2', 'new');
  tt.same(again.times, [T0 + 10], 'counting starts over');
  tt.same(hostsOf(again), ['web-2'], 'hosts start over');
  tt.same(again.matches, ['new'], 'matches start over');
  w.reset('198.51.100.250');
  tt.equal(w.size, 2, 'resetting an unknown address is harmless');
});

t.test('failure window: prune drops addresses whose newest failure left findtime', async (tt) => {
  const w = windowOf();
  w.add('192.0.2.1', T0, 'web-1', 'a');
  w.add('192.0.2.2', T0 + 5 * MIN, 'web-1', 'b');
  w.add('192.0.2.3', T0 - 2 * MIN, 'web-1', 'c');
  w.add('192.0.2.3', T0 + 8 * MIN, 'web-1', 'd');
  w.prune(T0 + 9 * MIN);
  tt.equal(w.size, 3, 'nothing aged out yet');
  w.prune(T0 + 10 * MIN);
  tt.equal(w.size, 2, 'exactly findtime old is dropped');
  tt.equal(w.add('192.0.2.1', T0 + 10 * MIN, 'web-1', 'e').times.length, 1, 'pruned address starts over');
  w.prune(T0 + 17 * MIN);
  tt.equal(w.size, 2, '192.0.2.3 (newest T0+8m) and 192.0.2.1 remain');
  w.prune(T0 + 60 * MIN);
  tt.equal(w.size, 0);
  tt.equal(w.dropped, 0, 'pruning is not dropping');
});

t.test('failure window: maxTracked drops the least recently failing address', async (tt) => {
  const w = windowOf({ maxTracked: 3 });
  w.add('192.0.2.1', T0, 'web-1', 'a');
  w.add('192.0.2.2', T0 + 1, 'web-1', 'b');
  w.add('192.0.2.3', T0 + 2, 'web-1', 'c');
  w.add('192.0.2.1', T0 + 3, 'web-1', 'd'); // .1 fails again: .2 is now the least recent
  tt.equal(w.dropped, 0);
  w.add('192.0.2.4', T0 + 4, 'web-1', 'e');
  tt.equal(w.size, 3);
  tt.equal(w.dropped, 1);
  tt.equal(w.add('192.0.2.1', T0 + 5, 'web-1', 'f').times.length, 3, '192.0.2.1 was kept');
  tt.equal(w.dropped, 1);
  tt.equal(w.add('192.0.2.2', T0 + 6, 'web-1', 'g').times.length, 1, '192.0.2.2 was dropped and starts over');
  tt.equal(w.dropped, 2, 'adding it back dropped the next least recent (192.0.2.3)');
  tt.equal(w.add('192.0.2.4', T0 + 7, 'web-1', 'h').times.length, 2, '192.0.2.4 was kept');
  tt.equal(w.add('192.0.2.3', T0 + 8, 'web-1', 'i').times.length, 1, '192.0.2.3 was dropped');
  tt.equal(w.size, 3);
  tt.equal(w.dropped, 3);
});

t.test('failure window: maxmatches keeps the newest lines', async (tt) => {
  const w = windowOf({ maxmatches: 3 });
  let last = w.add('192.0.2.30', T0, 'web-1', line(0));
  for (let i = 1; i < 6; i++) last = w.add('192.0.2.30', T0 + i * SEC, 'web-1', line(i));
  tt.same(last.matches, [line(3), line(4), line(5)]);
  tt.equal(last.times.length, 6, 'matches are bounded, counting is not');

  const none = windowOf({ maxmatches: 0 });
  none.add('192.0.2.31', T0, 'web-1', 'a');
  tt.same(none.add('192.0.2.31', T0 + 1, 'web-1', 'b').matches, [], 'maxmatches 0 keeps no lines');
});

t.test('failure window: the hosts that reported an address', async (tt) => {
  const w = windowOf();
  w.add('2001:db8::7', T0, 'web-2', 'a');
  w.add('2001:db8::7', T0 + 1, 'web-1', 'b');
  const t3 = w.add('2001:db8::7', T0 + 2, 'web-2', 'c');
  tt.same(hostsOf(t3), ['web-1', 'web-2'], 'each host once');
  tt.equal(t3.times.length, 3);
});

t.test('failure window: times per address are capped at maxTimes (newest kept)', async (tt) => {
  const w = windowOf({}, 4);
  let last = w.add('192.0.2.40', T0, 'web-1', 'a');
  for (let i = 1; i < 10; i++) last = w.add('192.0.2.40', T0 + i, 'web-1', 'a');
  tt.same(last.times, [T0 + 6, T0 + 7, T0 + 8, T0 + 9]);
});

t.test('bantime: without increment, the jail bantime', async (tt) => {
  const j = jail({ bantimeMs: 15 * MIN });
  for (const previous of [0, 1, 5, 100]) tt.equal(banDuration(j, previous), 15 * MIN, `previous ${previous}`);
  const withKnobs = jail({ bantimeMs: 15 * MIN, increment: { enabled: false, factor: 3, multipliers: [1, 2], maxtimeMs: MIN, rndtimeMs: HOUR } });
  tt.equal(banDuration(withKnobs, 3, () => 0.9), 15 * MIN, 'the other bantime.* keys do nothing while increment is off');
});

t.test('bantime: permanent stays permanent', async (tt) => {
  tt.equal(banDuration(jail({ bantimeMs: PERMANENT }), 0), PERMANENT);
  const inc = jail({ bantimeMs: PERMANENT, increment: { enabled: true, factor: 2, maxtimeMs: HOUR, rndtimeMs: MIN } });
  for (const previous of [0, 3]) tt.equal(banDuration(inc, previous, () => 0.5), PERMANENT, `with increment, previous ${previous}`);
  tt.equal(banExpiry(T0, PERMANENT), 0, 'a permanent ban expires at 0 (never)');
  tt.equal(banExpiry(T0, 10 * MIN), T0 + 10 * MIN);
});

t.test('bantime.increment: default formula bantime × 2^previous × factor, capped by maxtime', async (tt) => {
  const j = jail({ bantimeMs: 10 * MIN, increment: { enabled: true } });
  const want = [10, 20, 40, 80, 160].map((m) => m * MIN);
  want.forEach((ms, previous) => tt.equal(banDuration(j, previous), ms, `previous ${previous}`));
  tt.equal(banDuration(j, -3), 10 * MIN, 'a negative count is treated as 0');
  tt.equal(banDuration(j, 20), 10 * MIN * 2 ** 20, 'exponent 20');
  tt.equal(banDuration(j, 50), 10 * MIN * 2 ** 20, 'the exponent stops at 20');

  const f3 = jail({ bantimeMs: 10 * MIN, increment: { enabled: true, factor: 3 } });
  tt.equal(banDuration(f3, 0), 10 * MIN, 'factor 3, previous 0: a first ban is the bantime (fail2ban applies the formula only to repeat offenders)');
  tt.equal(banDuration(f3, 1), 60 * MIN, 'factor 3, previous 1');
  tt.equal(banDuration(f3, 2), 120 * MIN, 'factor 3, previous 2');

  const capped = jail({ bantimeMs: 10 * MIN, increment: { enabled: true, maxtimeMs: HOUR } });
  tt.equal(banDuration(capped, 2), 40 * MIN, 'under the cap');
  tt.equal(banDuration(capped, 3), HOUR, 'at the cap');
  tt.equal(banDuration(capped, 19), HOUR, 'far past the cap');
});

t.test('bantime.increment: multipliers indexed by previous, clamped to the last', async (tt) => {
  const j = jail({ bantimeMs: MIN, increment: { enabled: true, multipliers: [1, 5, 30, 60] } });
  tt.equal(banDuration(j, 0), MIN);
  tt.equal(banDuration(j, 1), 5 * MIN);
  tt.equal(banDuration(j, 2), 30 * MIN);
  tt.equal(banDuration(j, 3), 60 * MIN);
  tt.equal(banDuration(j, 4), 60 * MIN, 'past the end: the last multiplier');
  tt.equal(banDuration(j, 1000), 60 * MIN);
  tt.equal(banDuration(j, -1), MIN, 'a negative count uses the first');
  const capped = jail({ bantimeMs: MIN, increment: { enabled: true, multipliers: [1, 5, 30, 60], maxtimeMs: 20 * MIN } });
  tt.equal(banDuration(capped, 1), 5 * MIN);
  tt.equal(banDuration(capped, 2), 20 * MIN, 'maxtime caps multipliers too');
});

t.test('bantime.increment: rndtime adds a part in [0, rndtime) from the injected random', async (tt) => {
  const j = jail({ bantimeMs: 10 * MIN, increment: { enabled: true, rndtimeMs: MIN } });
  tt.equal(banDuration(j, 0, () => 0), 10 * MIN, 'random 0 adds nothing');
  tt.equal(banDuration(j, 0, () => 0.5), 10 * MIN, 'a first ban gets no random part (fail2ban: no formula on a first ban)');
  tt.equal(banDuration(j, 1, () => 0.5), 20 * MIN + 30 * SEC);
  tt.equal(banDuration(j, 1, () => 0.25), 20 * MIN + 15 * SEC);
  const top = banDuration(j, 1, () => 0.999_999_999);
  tt.ok(top >= 20 * MIN && top < 21 * MIN, `just below 1 stays below the increment + rndtime (${top})`);
  const capped = jail({ bantimeMs: 10 * MIN, increment: { enabled: true, maxtimeMs: 15 * MIN, rndtimeMs: MIN } });
  tt.equal(banDuration(capped, 3, () => 0.5), 15 * MIN + 30 * SEC, 'the random part comes after the maxtime cap (as in fail2ban)');
  let calls = 0;
  banDuration(jail({ increment: { enabled: true } }), 0, () => {
    calls++;
    return 0.5;
  });
  tt.equal(calls, 0, 'no rndtime: random is not consulted');
});

// fail2ban (server/jail.py, setBanTimeExtra) multiplies the multipliers by bantime.factor
// (`ban.Time * banFactor * multipliers[...]`), and floors the formula at the bantime
// (`max(ban.Time, eval(formula))`).
t.test('bantime.increment: fail2ban parity', async (tt) => {
  const mult = jail({ bantimeMs: MIN, increment: { enabled: true, factor: 2, multipliers: [1, 5] } });
  tt.equal(banDuration(mult, 1), 10 * MIN, 'bantime × factor × multipliers[previous]');
  const half = jail({ bantimeMs: 10 * MIN, increment: { enabled: true, factor: 0.5 } });
  tt.equal(banDuration(half, 0), 10 * MIN, 'the formula never goes below bantime');
  tt.equal(banDuration(jail({ bantimeMs: MIN, increment: { enabled: true, multipliers: [1, 5] } }), 1), 5 * MIN, 'factor 1: the two agree');
});

t.test('guards: special space and protected addresses are never banned, whatever the prefix, force or not', async (tt) => {
  const guard = new BanGuard(
    [
      allowlistSpace('fleet-host', "a fleet host's address", new Allowlist(['198.51.100.10', '2001:db8:10::10'])),
      allowlistSpace('nats-server', "a NATS server's address", new Allowlist(['198.51.100.20'])),
      allowlistSpace('ignoreip', "in the controller's ignoreip", new Allowlist(['192.0.2.0/24'])),
    ],
    { minPrefixV4: 16, minPrefixV6: 32, maxBantimeMs: 365 * 24 * HOUR },
  );
  const code = (target: string, force = false, bantimeMs?: number) => guard.check(target, { force, bantimeMs })?.code ?? 'allowed';
  for (const force of [false, true]) {
    tt.equal(code('0.0.0.0/0', force), 'special-address', `0.0.0.0/0 (force ${force})`);
    tt.equal(code('::/0', force), 'special-address', `::/0 (force ${force})`);
    tt.equal(code('198.51.100.0/24', force), 'fleet-host', `a CIDR covering a fleet host (force ${force})`);
    tt.equal(code('198.51.100.10', force), 'fleet-host');
    tt.equal(code('2001:db8:10::/48', force), 'fleet-host', 'v6');
    tt.equal(code('198.51.100.20', force), 'nats-server');
    tt.equal(code('192.0.2.0/25', force), 'ignoreip', 'a CIDR inside the allowlist');
    tt.equal(code('192.0.0.0/16', force), 'ignoreip', 'a CIDR containing the allowlist');
    tt.equal(code('192.0.2.77', force), 'ignoreip');
  }
  for (const ip of ['127.0.0.1', '127.5.0.0/16', '169.254.0.1', '224.0.0.251', '239.0.0.0/8', '255.255.255.255', '0.0.0.0', '::1', '::', 'fe80::1', 'ff02::1']) {
    tt.equal(code(ip, true), 'special-address', ip);
  }
  tt.match(guard.check('0.0.0.0/0'), { reason: '0.0.0.0/0 covers 0.0.0.0/8 (unspecified), special address space: not banned' });
  tt.match(guard.check('198.51.100.10'), { reason: "198.51.100.10 is a fleet host's address: not banned" });
  tt.equal(code('203.0.112.0/12'), 'too-broad', 'a /12 needs force');
  tt.equal(code('203.0.112.0/12', true), 'allowed', 'with force it is accepted');
  tt.equal(code('203.0.113.0/16'), 'allowed', 'the minimum itself');
  tt.equal(code('2001:db4::/31'), 'too-broad');
  tt.equal(code('2001:db4::/31', true), 'allowed');
  tt.equal(code('203.0.113.9', false, 99_999_999 * 24 * HOUR), 'bantime-too-long', 'an absurd bantime');
  tt.equal(code('203.0.113.9', true, 400 * 24 * HOUR), 'bantime-too-long', 'force does not lift the bantime limit');
  tt.equal(code('203.0.113.9', false, PERMANENT), 'allowed', 'permanent is a bantime of its own');
  tt.equal(code('203.0.113.9', false, 365 * 24 * HOUR), 'allowed');
});

t.test('threshold rule: maxretry_per_host and min_hosts', async (tt) => {
  const rule = { maxretry: 3, findtimeMs: 10 * MIN, maxretryPerHost: 0, minHosts: 1 };
  const ctx: ThresholdContext = { nowMs: T0, clockSkewMs: MIN, refused: null, bannedOn: null, clearedAtMs: 0 };
  const judge = (w: FailureWindow, host: string, r = rule, c: Partial<ThresholdContext> = {}) =>
    judgeFailure(w, r, { ip: '203.0.113.1', host, timeMs: T0, line: '' }, { ...ctx, ...c });
  const fail2ban = windowOf();
  judge(fail2ban, 'a');
  judge(fail2ban, 'a');
  tt.match(judge(fail2ban, 'a'), { kind: 'ban', scope: [] }, "defaults: fail2ban's meaning, one host is enough");
  const capped = windowOf();
  const r = { ...rule, maxretryPerHost: 1, minHosts: 1 };
  tt.match(judge(capped, 'a', r), { kind: 'counted', failures: 1, hosts: 1 });
  tt.match(judge(capped, 'a', r), { kind: 'counted', failures: 1, hosts: 1 }, 'a host adds at most its cap');
  tt.match(judge(capped, 'a', r), { kind: 'ban', scope: ['a'] }, 'maxretry on one host: a ban there');
  tt.match(judge(capped, 'a', r, { bannedOn: ['a'] }), { kind: 'counted', failures: 1 }, 'no more for the same host');
  tt.match(judge(capped, 'b', r, { bannedOn: ['a'] }), { kind: 'counted', failures: 2, hosts: 2 });
  tt.match(judge(capped, 'c', r, { bannedOn: ['a'] }), { kind: 'ban', scope: [] }, 'three hosts: every host');
  tt.match(judge(windowOf(), 'a', rule, { refused: { code: 'fleet-host', target: 'x', covers: 'x', reason: 'r' } }), { kind: 'refused' });
  tt.match(judgeFailure(windowOf(), rule, { ip: '203.0.113.1', host: 'a', timeMs: T0 + MIN + 1, line: '' }, ctx), { kind: 'ignored', why: 'future' });
  tt.match(judgeFailure(windowOf(), rule, { ip: '203.0.113.1', host: 'a', timeMs: T0 - 10 * MIN, line: '' }, ctx), { kind: 'ignored', why: 'stale' });
  tt.ok(scopeIncludes([], 'x') && scopeIncludes(['x'], 'x') && !scopeIncludes(['y'], 'x'));
});

t.test('guard: an IPv4 address asked as text (its 32-bit value) gets the answer its parsed network gets', async (tt) => {
  let seed = 7;
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const byte = () => Math.floor(random() * 256);
  const addr = () => `${[10, 127, 169, 192, 224, 255][Math.floor(random() * 6)]}.${byte() % 4}.${byte() % 4}.${byte()}`;
  let differences = 0;
  for (let round = 0; round < 50; round++) {
    const nets = Array.from({ length: Math.floor(random() * 6) }, () => `${addr()}/${[0, 1, 8, 16, 24, 30, 32][Math.floor(random() * 7)]}`);
    const guard = new BanGuard([allowlistSpace('ignoreip', 'the allowlist', new Allowlist([...nets, '2001:db8::/32']))], { minPrefixV4: 16, minPrefixV6: 32, maxBantimeMs: 60_000 });
    const extra = [allowlistSpace('jail-ignoreip', "the jail's ignoreip", new Allowlist(nets.slice(0, 1)))];
    for (let i = 0; i < 200; i++) {
      const ip = addr();
      const ask = { bantimeMs: [undefined, 1000, 120_000][i % 3], extra: i % 2 ? extra : undefined };
      const fast = guard.check(ip, ask);
      const slow = guard.check(parseNetwork(ip), ask);
      if (JSON.stringify(fast) !== JSON.stringify(slow) && differences++ < 3) tt.same(fast, slow, `${ip} against ${nets.join(' ')}`);
    }
  }
  tt.equal(differences, 0, 'no difference');
});
