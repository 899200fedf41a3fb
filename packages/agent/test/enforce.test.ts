/**
 * The enforcement stage against real nft, always inside network namespaces this file creates
 * (the host's own firewall is never touched), plus the dry-run backend, detection and the
 * `nft -j` reader.
 */
import t from 'tap';
import type { Test } from 'tap';
import { ExecError, silentLogger, type JailConfig } from '@fleetban/shared';
import { createEnforcer } from '../src/enforce/create.js';
import { detectFirewall } from '../src/enforce/detect.js';
import { DryRunEnforcer } from '../src/enforce/dry-run.js';
import type { BanEntry } from '../src/enforce/enforcer.js';
import { createRunner, spawn, type Runner } from '../src/enforce/exec.js';
import { parseTable } from '../src/enforce/nft-json.js';
import { nftDuration } from '../src/enforce/nft-script.js';
import { NftablesEnforcer, type NftablesOptions } from '../src/enforce/nftables.js';
import { jailScope, jailScopes, parseServices, scopeText } from '../src/enforce/port-scope.js';
import { createLan, createNetns, listenTcp, tcpConnects, type Netns } from '../../../test/fixtures/netns.js';

const base = createRunner({ timeoutMs: 10_000 });

/**
 * What the tests give the enforcer: every command prefixed with `ip netns exec NS`, the `nft -i`
 * session included (`session: false`: a process per batch, as a runner without `spawn` does).
 */
function nsRunner(ns: Netns, session = true): Runner {
  const run = (file: string, args: string[], input?: string) => base('ip', ['netns', 'exec', ns.name, file, ...args], input);
  if (!session) return run;
  return Object.assign(run, { spawn: (file: string, args: string[]) => spawn('ip', ['netns', 'exec', ns.name, file, ...args]) });
}

function enforcerIn(ns: Netns, clock: () => number = Date.now, opts: Partial<NftablesOptions> = {}): NftablesEnforcer {
  const enf = new NftablesEnforcer({ runner: nsRunner(ns), clock, logger: silentLogger(), ...opts });
  return enf;
}

async function tableOf(ns: Netns) {
  return parseTable(await ns.exec('nft', ['-j', 'list', 'table', 'inet', 'fleetban']), Date.now());
}

async function tables(ns: Netns): Promise<string> {
  return ns.exec('nft', ['list', 'tables']);
}

/** Polls `check` every 50 ms until it is true or `limitMs` passes; resolves with the last result. */
async function eventually(check: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const until = Date.now() + limitMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sorted = (xs: readonly string[]) => [...xs].sort();
const inMs = (ms: number): number => Date.now() + ms;

t.test('(1) start creates table, sets and chains; twice is idempotent', async (t: Test) => {
  const ns = await createNetns(t, 'enf1');
  const enf = enforcerIn(ns);
  await enf.start();
  const first = await tableOf(ns);
  t.same([...first.sets.keys()].sort(), ['ban4', 'ban4_net', 'ban4_port', 'ban4_port_net', 'ban6', 'ban6_net', 'ban6_port', 'ban6_port_net']);
  t.equal(first.sets.get('ban4_port')?.type, 'ipv4_addr . inet_proto . inet_service');
  t.equal(first.sets.get('ban4')?.type, 'ipv4_addr');
  t.equal(first.sets.get('ban6')?.type, 'ipv6_addr');
  t.same(first.sets.get('ban4')?.flags, ['timeout'], 'single addresses: a hash set');
  t.same(first.sets.get('ban4_net')?.flags, ['interval', 'timeout'], 'networks: an interval set');
  t.same(first.sets.get('ban6_port_net')?.flags, ['interval', 'timeout']);
  t.match(first.chains.get('prerouting'), { type: 'filter', hook: 'prerouting', prio: -300 });
  t.match(first.chains.get('input'), { type: 'filter', hook: 'input', prio: -10 });
  t.equal(first.rules.length, 12, 'eight rules in prerouting, four in input');

  await enf.apply([{ target: '192.0.2.9', expiresMs: 0 }], []);
  await enf.start();
  await enforcerIn(ns).start(); // a restarted agent
  const again = await tableOf(ns);
  t.equal(again.rules.length, 12, 'no duplicated rules after restarts');
  t.same(await enf.list(), ['192.0.2.9'], 'elements survive a restart');
  t.same(enf.report(), { backend: 'nftables', elements: 1, applied: 1, removed: 0, failed: 0, drift: 0, repairs: 0, reconciles: 0 });
});

t.test('(2) banned addresses cannot connect, others can; unban restores; CIDR covers its range', async (t: Test) => {
  const lan = await createLan(t, 'enf2', ['attacker', 'friend', 'server'] as const);
  const { attacker, friend, server } = lan.hosts;
  await listenTcp(server.ns, 8022);
  const enf = enforcerIn(server.ns);
  await enf.start();
  const can = (from: Netns, to: string, timeoutMs = 3000) => tcpConnects(from, to, 8022, timeoutMs);
  const blocked = async (from: Netns, to: string) => !(await can(from, to, 700));

  t.ok(await can(attacker.ns, server.ipv4), 'attacker connects before any ban (IPv4)');
  t.ok(await can(attacker.ns, server.ipv6), 'attacker connects before any ban (IPv6)');

  await enf.apply([{ target: attacker.ipv4, expiresMs: inMs(600_000) }, { target: attacker.ipv6, expiresMs: 0 }], []);
  t.same(sorted(await enf.list()), sorted([attacker.ipv4, attacker.ipv6]));
  t.ok(await blocked(attacker.ns, server.ipv4), 'banned IPv4 address is dropped');
  t.ok(await blocked(attacker.ns, server.ipv6), 'banned IPv6 address is dropped');
  t.ok(await can(friend.ns, server.ipv4), 'unbanned neighbour connects (IPv4)');
  t.ok(await can(friend.ns, server.ipv6), 'unbanned neighbour connects (IPv6)');
  const prerouting = await server.ns.exec('nft', ['list', 'chain', 'inet', 'fleetban', 'prerouting']);
  const input = await server.ns.exec('nft', ['list', 'chain', 'inet', 'fleetban', 'input']);
  t.match(prerouting, /ip saddr @ban4 counter packets [1-9]/, 'IPv4 dropped in prerouting (priority -300)');
  t.match(prerouting, /ip6 saddr @ban6 counter packets [1-9]/, 'IPv6 dropped in prerouting');
  t.match(input, /ip saddr @ban4 counter packets 0 /, 'nothing left for the input chain');

  await enf.apply([], [attacker.ipv4, attacker.ipv6]);
  t.same(await enf.list(), []);
  t.ok(await can(attacker.ns, server.ipv4), 'unban restores IPv4');
  t.ok(await can(attacker.ns, server.ipv6), 'unban restores IPv6');

  await enf.apply([{ target: '192.0.2.0/30', expiresMs: 0 }, { target: '2001:db8:f1ee::/124', expiresMs: 0 }], []);
  t.ok(await blocked(attacker.ns, server.ipv4), 'IPv4 CIDR covers .1');
  t.ok(await blocked(attacker.ns, server.ipv6), 'IPv6 CIDR covers ::1');
  await enf.apply([], ['192.0.2.0/30', '2001:db8:f1ee::/124']);
  await enf.apply([{ target: '192.0.2.0/31', expiresMs: 0 }], []);
  t.ok(await blocked(attacker.ns, server.ipv4), '192.0.2.0/31 covers .1');
  t.ok(await can(friend.ns, server.ipv4), 'and not .2');
});

t.test('(3) an element with a 2 s timeout disappears by itself', async (t: Test) => {
  const ns = await createNetns(t, 'enf3');
  const enf = enforcerIn(ns);
  await enf.start();
  const start = Date.now();
  await enf.apply([{ target: '198.51.100.20', expiresMs: start + 2000 }, { target: '198.51.100.21', expiresMs: 0 }], []);
  t.same(sorted(await enf.list()), ['198.51.100.20', '198.51.100.21']);
  const gone = await eventually(async () => !(await enf.list()).includes('198.51.100.20'), 6000);
  t.ok(gone, 'expired in the kernel');
  t.ok(Date.now() - start >= 1000, 'not before its time');
  t.same(await enf.list(), ['198.51.100.21'], 'the permanent one stays');
  t.equal(enf.report().elements, 1, 'report counts live elements only');
});

t.test('(4) reconcile repairs extra, missing, re-timed elements and a flushed ruleset', async (t: Test) => {
  const ns = await createNetns(t, 'enf4');
  const enf = enforcerIn(ns, Date.now, { fullReadEvery: 1 }); // every reconcile reads every element
  await enf.start();
  const wanted: BanEntry[] = [
    { target: '192.0.2.10', expiresMs: inMs(600_000) },
    { target: '192.0.2.11', expiresMs: 0 },
    { target: '198.51.100.0/24', expiresMs: inMs(3_600_000) },
    { target: '2001:db8:bad::/48', expiresMs: inMs(600_000) },
    { target: '2001:db8::7', expiresMs: 0 },
    { target: '203.0.113.128/26', expiresMs: inMs(20 * 365 * 86_400_000) }, // capped at 3650 days
  ];
  const wantedTargets = sorted(wanted.map((b) => b.target));
  t.same(await enf.reconcile(wanted), { added: 6, removed: 0 }, 'first reconcile fills the sets');
  t.equal(enf.report().drift, 0, 'filling an empty set is no drift');
  t.same(await enf.reconcile(wanted), { added: 0, removed: 0 }, 'a second reconcile changes nothing');

  await ns.exec('nft', ['add', 'element', 'inet', 'fleetban', 'ban4', '{ 203.0.113.99 }']);
  await ns.exec('nft', ['add', 'element', 'inet', 'fleetban', 'ban6_net', '{ 2001:db8:1::1-2001:db8:1::5 }']);
  await ns.exec('nft', ['delete', 'element', 'inet', 'fleetban', 'ban4', '{ 192.0.2.10 }']);
  await ns.exec('nft', ['delete', 'element', 'inet', 'fleetban', 'ban6', '{ 2001:db8::7 }']);
  await ns.exec('nft', ['add', 'element', 'inet', 'fleetban', 'ban6', '{ 2001:db8::7 timeout 30s }']);
  t.same(await enf.reconcile(wanted), { added: 2, removed: 2 }, 'adds missing, re-times, removes extra');
  t.same(sorted(await enf.list()), wantedTargets);
  t.equal(enf.report().drift, 4, 'one missing, two extra, one wrong timeout');
  const v6 = (await tableOf(ns)).sets.get('ban6')?.elements.find((el) => el.key === '2001:db8::7');
  t.equal(v6?.expiresMs, 0, 'permanent again');

  await ns.exec('nft', ['flush', 'ruleset']);
  t.same(await enf.list(), [], 'table gone');
  t.same(await enf.reconcile(wanted), { added: 6, removed: 0 });
  t.same(sorted(await enf.list()), wantedTargets, 'repaired to exactly the wanted list');
  t.equal((await tableOf(ns)).rules.length, 12, 'chains and rules are back');
  t.equal(enf.report().drift, 4 + 1 + 6, 'missing table and its six elements count as drift');

  await ns.exec('nft', ['flush', 'chain', 'inet', 'fleetban', 'input']);
  await enf.reconcile(wanted);
  t.equal((await tableOf(ns)).rules.length, 12, 'a flushed chain gets its rules back');

  await ns.exec('nft', ['delete', 'table', 'inet', 'fleetban']);
  await ns.exec('nft', ['-f', '-'], { input: 'add table inet fleetban\nadd set inet fleetban ban4 { type ipv4_addr; }\n' });
  t.same(await enf.reconcile(wanted), { added: 6, removed: 0 }, 'a set of the wrong kind is rebuilt');
  t.same(sorted(await enf.list()), wantedTargets);
  t.same(await enf.reconcile(wanted.slice(0, 2)), { added: 0, removed: 4 }, 'unwanted ones are removed');
  t.same(sorted(await enf.list()), ['192.0.2.10', '192.0.2.11']);
});

t.test('(5) one bad element in a batch does not block the others', async (t: Test) => {
  const ns = await createNetns(t, 'enf5');
  const enf = enforcerIn(ns);
  await enf.start();
  await enf.apply([{ target: '198.51.100.0/24', expiresMs: 0 }], []);
  const batch: BanEntry[] = [
    { target: '192.0.2.50', expiresMs: inMs(60_000) },
    { target: '198.51.100.0/28', expiresMs: 0 }, // overlaps the /24 interval: nft rejects it
    { target: '192.0.2.51', expiresMs: 0 },
    { target: 'not-an-address', expiresMs: 0 }, // refused before nft
    { target: '192.0.2.9 } ; flush ruleset ; add element inet fleetban ban4 { 10.0.0.1', expiresMs: 0 }, // injection attempt
    { target: '2001:db8::5', expiresMs: inMs(60_000) },
    { target: '192.0.2.99', expiresMs: Date.now() - 1000 }, // already expired: skipped
  ];
  await enf.apply(batch, ['203.0.113.1']); // unban of an absent element: nothing to do
  t.same(sorted(await enf.list()), sorted(['198.51.100.0/24', '192.0.2.50', '192.0.2.51', '2001:db8::5']));
  t.match(enf.report(), { applied: 4, failed: 3, removed: 0 });
  t.equal((await tableOf(ns)).rules.length, 12, 'the injection attempt changed nothing');

  // a re-ban with a new timeout replaces the element (delete + add in one batch)
  await enf.apply([{ target: '192.0.2.50', expiresMs: 0 }], []);
  const el = (await tableOf(ns)).sets.get('ban4')?.elements.find((e) => e.key === '192.0.2.50');
  t.equal(el?.expiresMs, 0, 're-banned as permanent');
  // a stale local view (element removed by hand) does not block a batch either
  await ns.exec('nft', ['delete', 'element', 'inet', 'fleetban', 'ban4', '{ 192.0.2.51 }']);
  await enf.apply([{ target: '192.0.2.51', expiresMs: inMs(60_000) }, { target: '192.0.2.52', expiresMs: 0 }], []);
  const now = await enf.list();
  t.ok(now.includes('192.0.2.51') && now.includes('192.0.2.52'), 'both applied');
  t.equal(enf.report().failed, 3, 'and nothing counted as failed');
});

t.test('(6) stop: flush deletes the table, keep leaves it', async (t: Test) => {
  const ns = await createNetns(t, 'enf6');
  const keep = enforcerIn(ns);
  await keep.start();
  await keep.apply([{ target: '192.0.2.60', expiresMs: 0 }], []);
  await keep.stop('keep');
  t.match(await tables(ns), /table inet fleetban/);
  t.same(await enforcerIn(ns).list(), ['192.0.2.60'], 'bans stay in force');

  const flush = enforcerIn(ns);
  await flush.start();
  await flush.stop('flush');
  t.notMatch(await tables(ns), /fleetban/);
  await flush.stop('flush'); // idempotent
  t.same(await flush.list(), []);
});

t.test('(7) dry-run keeps an in-memory set and touches nothing', async (t: Test) => {
  let now = 1_700_000_000_000;
  const enf = new DryRunEnforcer({ clock: () => now, logger: silentLogger() });
  t.equal(enf.name, 'dry-run');
  await enf.start();
  await enf.apply([
    { target: '192.0.2.1', expiresMs: now + 10_000 },
    { target: '2001:db8::/64', expiresMs: 0 },
    { target: 'bogus', expiresMs: 0 },
  ], []);
  t.same(sorted(await enf.list()), ['192.0.2.1', '2001:db8::/64']);
  now += 11_000;
  t.same(await enf.list(), ['2001:db8::/64'], 'expires by the clock');
  t.same(await enf.reconcile([{ target: '198.51.100.1', expiresMs: 0 }]), { added: 1, removed: 1 });
  await enf.apply([], ['198.51.100.1']);
  t.same(await enf.list(), []);
  t.same(enf.report(), { backend: 'dry-run', elements: 0, applied: 3, removed: 2, failed: 1, drift: 0, repairs: 0, reconciles: 1 });
  await enf.apply([{ target: '192.0.2.2', expiresMs: 0 }], []);
  await enf.stop('keep');
  t.same(await enf.list(), ['192.0.2.2']);
  await enf.stop('flush');
  t.same(await enf.list(), []);
});

t.test('(8) detection and backend choice', async (t: Test) => {
  const ns = await createNetns(t, 'enf8');
  const detected = await detectFirewall(nsRunner(ns), { exists: () => false });
  t.equal(detected.nft, true);
  t.equal(detected.docker, false);
  t.equal(detected.firewalld, false);
  t.match(detected.summary, /^nftables native \(nftables v[\d.]+\); iptables is iptables-nft \(compat\);/);

  const none: Runner = async (file, args) => {
    throw new ExecError([file, ...args].join(' '), 'not found');
  };
  const absent = await detectFirewall(none, { exists: () => false });
  t.match(absent, { nft: false, iptables: 'none', iptablesNft: false, iptablesLegacy: false, ipset: false, dockerUser: null, docker: false, firewalld: false });
  t.equal(absent.summary, 'nftables not usable; no iptables command; no ipset; docker absent; firewalld absent');

  const deps = { clock: Date.now, logger: silentLogger(), detect: { exists: () => false } };
  t.equal((await createEnforcer('auto', { ...deps, runner: nsRunner(ns) })).enforcer.name, 'nftables');
  t.equal((await createEnforcer('auto', { ...deps, runner: none })).enforcer.name, 'dry-run');
  t.equal((await createEnforcer('dry-run', { ...deps, runner: nsRunner(ns) })).enforcer.name, 'dry-run');
  const auto = await createEnforcer('auto', { ...deps, runner: nsRunner(ns) });
  t.match(auto.detected.summary, /; using nftables$/, 'the summary says which backend is used');
  const forced = await createEnforcer('iptables', { ...deps, runner: nsRunner(ns) });
  t.equal(forced.enforcer.name, 'iptables');
  t.match(forced.detected.summary, /; using iptables \(iptables \+ ipset\) \(forced by \[agent\] enforcer\)$/);
  // no nft: auto falls back to iptables + ipset
  const noNft: Runner = async (file, args, input) => {
    if (file === 'nft') throw new ExecError([file, ...args].join(' '), 'not found');
    return nsRunner(ns)(file, args, input);
  };
  t.equal((await createEnforcer('auto', { ...deps, runner: noNft })).enforcer.name, 'iptables');
  // Docker's chain in iptables-legacy: the iptables backend follows it there
  await ns.exec('iptables-legacy', ['-N', 'DOCKER-USER']);
  const legacy = await createEnforcer('iptables', { ...deps, runner: nsRunner(ns) });
  t.equal(legacy.detected.dockerUser, 'legacy');
  t.match(legacy.detected.summary, /with DOCKER-USER present \(in iptables-legacy\).*docker present.*using iptables \(iptables-legacy \+ ipset\)/);
  await t.rejects(new NftablesEnforcer({ ...deps, runner: none }).start(), { code: 'EXEC_FAILED' });
  t.throws(() => new NftablesEnforcer({ ...deps, runner: none, table: 'x; flush ruleset' }), { code: 'PARSE_INVALID' });
});

t.test('(9) nft -j elements and durations', async (t: Test) => {
  const doc = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6' } },
      {
        set: {
          family: 'inet', name: 'ban4', table: 'fleetban', type: 'ipv4_addr', flags: ['interval', 'timeout'],
          elem: [
            '192.0.2.1',
            { prefix: { addr: '198.51.100.0', len: 24 } },
            { range: ['203.0.113.0', '203.0.113.15'] },
            { range: ['203.0.113.20', '203.0.113.22'] },
            { elem: { val: '192.0.2.2', timeout: 600, expires: 599 } },
            { elem: { val: { prefix: { addr: '10.0.0.0', len: 8 } }, timeout: 60, expires: 30 } },
          ],
        },
      },
      { set: { family: 'inet', name: 'ban6', table: 'fleetban', type: 'ipv6_addr', flags: ['interval', 'timeout'], elem: ['2001:0db8::0001'] } },
    ],
  });
  const table = parseTable(doc, 1000);
  const el = (key: string, family: 4 | 6, expiresMs: number) => ({ key, target: key, family, expiresMs });
  t.same(table.sets.get('ban4')?.elements, [
    el('192.0.2.1', 4, 0),
    el('198.51.100.0/24', 4, 0),
    el('203.0.113.0/28', 4, 0),
    el('203.0.113.20-203.0.113.22', 4, 0),
    el('192.0.2.2', 4, 600_500),
    el('10.0.0.0/8', 4, 31_500),
  ]);
  t.same(table.sets.get('ban6')?.elements, [el('2001:db8::1', 6, 0)]);
  t.throws(() => parseTable('not json', 0), { code: 'DECODE_FAILED' });
  t.equal(nftDuration(1), '1s');
  t.equal(nftDuration(600), '600s', 'a plain count: nft parses it faster');
  t.equal(nftDuration(90_061), '90061s');
  t.equal(nftDuration(99_999_999), '99999999s', 'the longest plain count nft takes');
  t.equal(nftDuration(100_000_000), '1157d9h46m40s', 'longer: the composite form');
  t.equal(nftDuration(3650 * 86_400), '3650d');
});

t.test('(10) port-scoped bans close their ports only; reject answers instead of dropping', async (t: Test) => {
  const lan = await createLan(t, 'enf10', ['attacker', 'friend', 'server'] as const);
  const { attacker, friend, server } = lan.hosts;
  await listenTcp(server.ns, 8022);
  await listenTcp(server.ns, 8080);
  const scopes = new Map([['sshd', { protocols: ['tcp' as const], ports: [{ from: 8022, to: 8022 }] }]]);
  const enf = new NftablesEnforcer({ runner: nsRunner(server.ns), clock: Date.now, logger: silentLogger(), scopes });
  await enf.start();
  const can = (from: Netns, to: string, port: number, timeoutMs = 3000) => tcpConnects(from, to, port, timeoutMs);

  await enf.apply([
    { target: attacker.ipv4, expiresMs: inMs(600_000), jail: 'sshd' },
    { target: attacker.ipv6, expiresMs: 0, jail: 'sshd' },
  ], []);
  t.same(sorted(await enf.list()), sorted([`${attacker.ipv4} tcp/8022`, `${attacker.ipv6} tcp/8022`]));
  t.notOk(await can(attacker.ns, server.ipv4, 8022, 700), 'scoped ban closes 8022 (IPv4)');
  t.notOk(await can(attacker.ns, server.ipv6, 8022, 700), 'scoped ban closes 8022 (IPv6)');
  t.ok(await can(attacker.ns, server.ipv4, 8080), 'other ports stay open (IPv4)');
  t.ok(await can(attacker.ns, server.ipv6, 8080), 'other ports stay open (IPv6)');
  t.ok(await can(friend.ns, server.ipv4, 8022), 'others reach 8022');

  // the same address banned again by a jail without ports: the whole address, scoped element gone
  await enf.apply([{ target: attacker.ipv4, expiresMs: 0, jail: 'recidive' }], []);
  t.same(sorted(await enf.list()), sorted([attacker.ipv4, `${attacker.ipv6} tcp/8022`]));
  t.notOk(await can(attacker.ns, server.ipv4, 8080, 700), 'whole address closed');
  await enf.apply([], [attacker.ipv4, attacker.ipv6]);
  t.same(await enf.list(), [], 'unban removes every element of the target');
  t.ok(await can(attacker.ns, server.ipv4, 8022), 'reopened');

  // a CIDR with a port scope
  await enf.apply([{ target: '192.0.2.0/30', expiresMs: 0, jail: 'sshd' }], []);
  t.notOk(await can(attacker.ns, server.ipv4, 8022, 700), 'CIDR scoped ban covers .1 on 8022');
  t.ok(await can(attacker.ns, server.ipv4, 8080), 'and leaves 8080');
  t.same(await enf.reconcile([{ target: '192.0.2.0/30', expiresMs: 0, jail: 'sshd' }]), { added: 0, removed: 0 }, 'reconcile agrees');

  // reject: the same table, rules rewritten by start()
  const rej = new NftablesEnforcer({ runner: nsRunner(server.ns), clock: Date.now, logger: silentLogger(), scopes, blockType: 'reject' });
  await rej.start();
  t.match(await server.ns.exec('nft', ['list', 'chain', 'inet', 'fleetban', 'prerouting']), /th dport @ban4_port counter packets \d+ bytes \d+ reject/);
  t.same(await rej.list(), ['192.0.2.0/30 tcp/8022'], 'elements kept');
  const refused = await execaRefused(attacker.ns, server.ipv4, 8022);
  t.equal(refused, 'refused', 'a rejected connection is refused at once, not left to time out');
  // back to drop: a running enforcer whose rules were changed to the other verdict repairs them
  t.same(await enf.reconcile([{ target: '192.0.2.0/30', expiresMs: 0, jail: 'sshd' }]), { added: 0, removed: 0 });
  t.match(await server.ns.exec('nft', ['list', 'chain', 'inet', 'fleetban', 'prerouting']), /@ban4_port counter packets \d+ bytes \d+ drop/);
  t.equal(enf.report().repairs, 1, 'a verdict of the other kind counts as drift');
});

/** Connects with a 3 s limit; says whether the attempt was refused (RST / ICMP) or timed out. */
async function execaRefused(ns: Netns, host: string, port: number): Promise<'refused' | 'timeout' | 'connected'> {
  const script = "const s=require('net').connect({host:process.argv[1],port:+process.argv[2]});"
    + "s.on('connect',()=>{console.log('connected');process.exit(0)});s.on('error',()=>{console.log('refused');process.exit(0)});"
    + "setTimeout(()=>{console.log('timeout');process.exit(0)},3000);";
  const out = await ns.exec(process.execPath, ['-e', script, host, String(port)]);
  return out.trim() as 'refused' | 'timeout' | 'connected';
}

t.test('(11) port scopes from fail2ban jail keys', async (t: Test) => {
  const services = parseServices('ssh\t\t22/tcp\t\t\t# SSH\nhttp 80/tcp www\nhttps 443/tcp\nhttps 443/udp\ndomain 53/udp\n');
  const opt = (value: string, line = 7) => ({ value, file: '/etc/fleetban/fleetban.conf', section: 'web', line });
  const jail = (options: Record<string, ReturnType<typeof opt>>, name = 'web'): JailConfig => ({ name, options } as unknown as JailConfig);
  t.equal(jailScope(jail({}), services), null, 'no port key: the whole address');
  t.equal(jailScope(jail({ port: opt('0:65535') }), services), null, "fail2ban's default 0:65535: the whole address");
  t.equal(jailScope(jail({ port: opt('all') }), services), null);
  t.same(jailScope(jail({ port: opt('ssh') }), services), { protocols: ['tcp'], ports: [{ from: 22, to: 22 }] });
  t.equal(scopeText(jailScope(jail({ port: opt('http,https, 8080:8090'), protocol: opt('all') }), services)!), 'tcp,udp/80,443,8080-8090');
  t.equal(scopeText(jailScope(jail({ port: opt('22,2222,2223,www'), protocol: opt('udp') }), services)!), 'udp/22,80,2222-2223', 'adjacent ports merge');
  t.equal(scopeText(jailScope(jail({ port: opt('1000-2000') }), services)!), 'tcp/1000-2000');
  t.throws(() => jailScope(jail({ port: opt('sshh', 12) }), services), {
    code: 'CONFIG_INVALID', file: '/etc/fleetban/fleetban.conf', key: 'web.port (line 12)',
  });
  t.throws(() => jailScope(jail({ port: opt('70000') }), services), { code: 'CONFIG_INVALID', key: 'web.port (line 7)' });
  t.throws(() => jailScope(jail({ port: opt('30:20') }), services), { code: 'CONFIG_INVALID', key: 'web.port (line 7)' });
  t.throws(() => jailScope(jail({ port: opt('22'), protocol: opt('icmp', 9) }), services), { code: 'CONFIG_INVALID', key: 'web.protocol (line 9)', expected: 'tcp, udp or all' });
  const scopes = jailScopes([jail({ port: opt('ssh') }, 'sshd'), jail({}, 'recidive')], services);
  t.same([...scopes.keys()], ['sshd'], 'only jails with ports have a scope');
});
