// The fleet cannot be turned against itself. A controller and nats-server in one namespace, two
// hosts with their agents and nftables; every attack comes from what an attacker or a mistaken
// operator can really touch: a forged log line, a hostile message on a host's own subjects, an
// admin command, a ban written into the ban list past the controller. Every address is inside
// namespaces this test creates; all are deleted at the end.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { encodeFailure, encodeHeartbeat, type Heartbeat, Membership, natsDir, seedFile } from '@fleetban/shared';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { createLan } from './fixtures/netns.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { nftElements } from './fixtures/nft-set.js';
import { waitUntil } from './fixtures/wait-until.js';

const HOSTS = ['web1', 'web2'] as const;
const PUBLISH = fileURLToPath(new URL('./fixtures/nats-publish.mjs', import.meta.url));
const KV_PUT_BAN = fileURLToPath(new URL('./fixtures/kv-put-ban.mjs', import.meta.url));

/** A failed ssh login line as sshd writes it, from `ip`. */
const failed = (ip: string, n: number) => `Nov 21 12:00:${String(n % 60).padStart(2, '0')} web sshd[${1000 + n}]: Failed password for root from ${ip} port ${40000 + n} ssh2\n`;
const lines = (ip: string, count: number) => Array.from({ length: count }, (_, i) => failed(ip, i)).join('');

interface Status {
  hosts: { host: string; refused: number; addresses: string[] }[];
  counters: Record<string, number>;
  malformed: number;
}

t.test('the fleet cannot be turned against itself', async (t) => {
  const dir = testDir(t, {});
  const lan = await createLan(t, 'trust', ['ctl', ...HOSTS]);
  const ns = (name: string) => lan.hosts[name]!.ns.name;
  const ip = (name: string) => lan.hosts[name]!.ipv4;
  // authentication on, as `fleetban up` and `fleetban enroll` set it: one nkey member per host,
  // the controller and the admin; the server's config includes the rendered authorization file
  const ctlState = join(dir, 'ctl');
  const members = Membership.open(ctlState);
  for (const [name, role] of [['controller', 'controller'], ['admin', 'admin'], ['web1', 'host'], ['web2', 'host']] as const) members.enroll(name, role);
  members.writeAuthorization();
  const serverConf = join(natsDir(ctlState), 'nats-server.conf');
  writeFileSync(serverConf, 'include "authorization.conf"\n');
  const nats = await startNatsServer(t, { netns: ns('ctl'), host: ip('ctl'), port: 4222, configFile: serverConf });

  // thresholds are the controller's: sshd needs two hosts for a fleet-wide ban; sshd-capped lets
  // one host count for at most one failure of an address
  const jails = (capLog: string) =>
    `min_hosts = 2\nignoreip = 203.0.113.192/26\n\n[sshd-capped]\nenabled = true\nfilter = sshd\nlogpath = ${capLog}\nmaxretry = 3\nmaxretry_per_host = 1\n`;
  const ctlConf = writeTestConfig({ host: 'ctl', nats: nats.url, dir, bantime: '1h', extra: `${jails(join(dir, 'ctl', 'capped.log'))}\n[controller]\nignoreip = 198.51.100.0/24\n` });
  const startController = () => FleetbanProcess.start(t, 'controller', ['controller', '-c', ctlConf], { netns: ns('ctl') });
  let controller = startController();
  await controller.waitForMsg('controller ready');

  const confs = new Map<string, string>();
  const agents = new Map<string, FleetbanProcess>();
  const log = (h: string) => join(dir, h, 'sshd.log');
  const cappedLog = (h: string) => join(dir, h, 'capped.log');
  const startAgent = (h: string) => {
    const p = FleetbanProcess.start(t, h, ['agent', '-c', confs.get(h)!], { netns: ns(h) });
    agents.set(h, p);
    return p;
  };
  for (const h of HOSTS) {
    mkdirSync(join(dir, h), { recursive: true });
    appendFileSync(log(h), '');
    appendFileSync(cappedLog(h), '');
    // web2 also declares an address it is reached at behind NAT
    const fleetExtra = `nats_nkey = ${seedFile(ctlState, h)}\n${h === 'web2' ? 'addresses = 203.0.113.50' : ''}`;
    confs.set(h, writeTestConfig({ host: h, nats: nats.url, dir, bantime: '1h', extra: jails(cappedLog(h)), fleetExtra }));
  }
  for (const h of HOSTS) startAgent(h);
  await Promise.all(HOSTS.map((h) => agents.get(h)!.waitForMsg('agent ready')));

  const admin = (...args: string[]) => runFleetban([...args, '-c', ctlConf], { netns: ns('ctl') });
  const status = async () => JSON.parse((await admin('status', '--json')).stdout) as Status;
  // JSON lines: one ban per line
  const banned = async () => (await admin('banned', '--json')).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { ip: string; scope: string[] });
  await waitUntil(async () => (await status()).hosts.length === 2, 'both hosts in the controller');
  await controller.waitFor((e) => e.msg === 'fleet host recorded' && e.host === 'web2' && Array.isArray(e.addresses) && e.addresses.includes('203.0.113.50'), 15_000, "web2's record");

  await t.test('manual bans that would lock the fleet out are refused, each with its reason', async (t) => {
    const refused = async (args: string[], reason: RegExp, what: string) => {
      const r = await admin('ban', ...args);
      t.equal(r.code, 1, `${what}: refused`);
      t.match(r.stderr, reason, `${what}: ${r.stderr.trim()}`);
    };
    await refused(['0.0.0.0/0'], /0\.0\.0\.0\/0 covers .* special address space/, 'the whole IPv4 internet');
    await refused(['::/0'], /::\/0 covers .* special address space/, 'the whole IPv6 internet');
    await refused(['192.0.2.0/24'], /covers 192\.0\.2\.[23], a fleet host's address/, 'a CIDR covering fleet hosts');
    await refused(['203.0.113.50'], /a fleet host's address/, "a fleet host's declared NAT address");
    await refused([ip('ctl')], /is a NATS server's address/, 'the NATS server');
    await refused(['198.51.100.7'], /in the controller's ignoreip/, 'an allowlisted address');
    await refused(['198.51.100.0/25'], /covers 198\.51\.100\.0\/24, in the controller's ignoreip/, 'a CIDR inside the allowlist');
    await refused(['203.0.113.200', '--jail', 'sshd'], /in jail sshd's ignoreip/, "the jail's own ignoreip");
    await refused(['127.0.0.1'], /loopback/, 'loopback');
    await refused(['203.0.113.9', '--bantime', '99999999d'], /longer than max_bantime/, 'an absurd bantime');
    await refused(['100.64.0.0/12'], /wider than \/16: not banned without --force/, 'a /12 without --force');
    await refused(['192.0.0.0/8', '--force'], /a fleet host's address/, 'force never covers a fleet host');
    const forced = await admin('ban', '100.64.0.0/12', '--force');
    t.equal(forced.code, 0, `a /12 with --force is accepted: ${forced.stdout.trim()}${forced.stderr.trim()}`);
    t.same((await banned()).map((b) => b.ip), ['100.64.0.0/12'], 'and it is the only ban');
    await agents.get('web1')!.waitFor((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes('100.64.0.0/12'));
    t.equal((await admin('unban', '100.64.0.0/12')).code, 0);
    const s = await status();
    t.ok((s.counters['admin.refused.special-address'] ?? 0) >= 3, 'refusals are counted by kind');
  });

  await t.test("forged failures against a fleet host's or an allowlisted address ban nothing, also across a controller SIGKILL before any heartbeat", async (t) => {
    const forge = (h: string, target: string, n: number) => appendFileSync(log(h), lines(target, n));
    const seen = (h: string, target: string, n: number) =>
      waitUntil(async () => agents.get(h)!.entries.filter((e) => e.msg === 'failure' && e.ip === target).length >= n, `${h} reading ${n} failures of ${target}`);
    forge('web1', ip('web2'), 3);
    forge('web1', '198.51.100.7', 3);
    forge('web2', ip('web2'), 3); // its own address
    await seen('web1', ip('web2'), 3);
    await seen('web1', '198.51.100.7', 3);
    await waitUntil(async () => ((await status()).counters['events.refused.fleet-host'] ?? 0) >= 6, 'the refusals counted');
    t.equal((await status()).counters['events.refused.ignoreip'], 3, 'the allowlisted address: refused 3 times');

    await controller.stop('SIGKILL');
    // the link is down for the agents now: they decide locally, and must refuse the fleet's hosts too
    await agents.get('web1')!.waitForMsg('fleet unreachable: deciding locally with the jail thresholds', 15_000, { why: 'no controller liveness' });
    forge('web1', ip('web2'), 3);
    forge('web1', '203.0.113.50', 3);
    forge('web1', '198.51.100.8', 3);
    await seen('web1', '203.0.113.50', 3);
    await seen('web1', '198.51.100.8', 3);
    await seen('web1', ip('web2'), 6);
    const local = agents.get('web1')!.entries.filter((e) => e.msg === 'local ban').map((e) => e.ip);
    t.same(local, ['198.51.100.8'], "web1 placed no local ban on a fleet host (the controller's ignoreip is not in web1's file: that one it bans)");
    // no heartbeat may reach the restarted controller before it has decided on those events
    await Promise.all(HOSTS.map((h) => agents.get(h)!.stop('SIGTERM')));
    controller = startController();
    await controller.waitForMsg('controller ready');
    const loaded = await controller.waitForMsg('fleet addresses loaded: never banned');
    t.equal(loaded.hosts, 2, 'the fleet hosts come from the hosts bucket');
    await waitUntil(async () => ((await status()).counters['events.refused.fleet-host'] ?? 0) >= 6, 'the forged events decided by the new controller');
    t.equal((await status()).hosts.length, 2, 'no heartbeat yet: both hosts known from the bucket');
    const bans = await banned();
    t.same(bans.map((b) => b.ip), [], 'nothing banned: not the fleet hosts, not the allowlisted address');
    t.notOk(controller.entries.some((e) => e.msg === 'ban'), 'the new controller made no ban');
    for (const h of HOSTS) startAgent(h);
    await Promise.all(HOSTS.map((h) => agents.get(h)!.waitForMsg('agent ready')));
  });

  await t.test('hostile messages on a host\'s own subjects, with its own credentials, change nothing and are counted', async (t) => {
    const publish = (subject: string, bytes: Uint8Array) =>
      execFileSync('ip', ['netns', 'exec', ns('web1'), process.execPath, PUBLISH, nats.url, subject, Buffer.from(bytes).toString('hex'), seedFile(ctlState, 'web1')]);
    const before = await status();
    const beat: Heartbeat = {
      host: 'web1', timeMs: Date.now(), addresses: ['0.0.0.0/0'], jails: ['sshd'], backend: 'x', firewall: 'x', banned: 0, version: 'x', lines: 0, failures: 0, buffered: 0,
      skipped: 0, undecodable: 0, matched: 0, bytesBehind: 0, spoolBytes: 0, drift: 0, enforceFailed: 0, fallback: false, localBans: 0, refused: 0,
    };
    publish('fleetban.heartbeat.web1', encodeHeartbeat(beat));
    publish('fleetban.heartbeat.web1', encodeHeartbeat({ ...beat, addresses: ['garbage', '192.0.2.9'] }));
    publish('fleetban.heartbeat.web1', encodeHeartbeat({ ...beat, addresses: Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`) }));
    publish('fleetban.heartbeat.web1', new Uint8Array([0xff, 0x00, 0x13]));
    await waitUntil(async () => (await status()).counters['heartbeats.malformed'] === (before.counters['heartbeats.malformed'] ?? 0) + 4, 'four malformed heartbeats counted');
    const after = await status();
    t.same(after.hosts.find((h) => h.host === 'web1')?.addresses, [ip('web1'), lan.hosts.web1!.ipv6].sort(), "web1's addresses are still its own");
    const future = { id: 'web1:sshd:forged-future', host: 'web1', jail: 'sshd', ip: '203.0.113.66', timeMs: Date.now() + 3_600_000, user: 'root', line: 'forged' };
    publish('fleetban.events.web1.sshd', encodeFailure(future));
    await waitUntil(async () => ((await status()).counters['events.rejected.future'] ?? 0) === 1, 'the future-dated event rejected');
    t.pass('a failure dated an hour ahead is rejected and counted');
    const fresh = await admin('ban', '203.0.113.61');
    t.equal(fresh.code, 0, 'the fleet still bans: a hostile heartbeat did not make the world a fleet host', { stdout: fresh.stdout, stderr: fresh.stderr });
  });

  await t.test("a ban covering an agent's NATS server, written into the list with the admin's credentials past the controller, is refused by every agent, which stays linked", async (t) => {
    const refusals = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg?.startsWith('ban refused by this host') === true && e.ip === ip('ctl'), 15_000, `${h} refusing`));
    execFileSync('ip', ['netns', 'exec', ns('ctl'), process.execPath, KV_PUT_BAN, nats.url, seedFile(ctlState, 'admin'), ip('ctl')]);
    for (const r of await Promise.all(refusals)) t.match(r, { why: 'nats-server' }, 'refused as covering its NATS server');
    for (const h of HOSTS) t.notOk((await nftElements(ns(h))).includes(ip('ctl')), `${h}: not in the kernel`);
    await waitUntil(async () => (await status()).hosts.every((h) => h.refused >= 1), 'the refusals in the status');
    const overview = (await admin('status')).stdout;
    t.match(overview, /1 bans refused by its guard/, '`fleetban status` shows them');
    const next = agents.get('web1')!.waitForNext((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes('203.0.113.62'));
    t.equal((await admin('ban', '203.0.113.62')).code, 0);
    await next;
    t.pass('web1 still follows the list');
  });

  await t.test('min_hosts = 2: failures on one host ban there only; one more failure on a second host makes it fleet-wide', async (t) => {
    const target = '203.0.113.80';
    const onWeb1 = agents.get('web1')!.waitForNext((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes(target));
    const notOnWeb2 = agents.get('web2')!.waitForNext((e) => e.msg === 'ban not for this host (scoped to others)' && e.ip === target);
    appendFileSync(log('web1'), lines(target, 3));
    const ban = await controller.waitFor((e) => e.msg === 'ban' && e.ip === target);
    t.same(ban.scope, ['web1'], 'scoped to web1');
    await onWeb1;
    await notOnWeb2;
    t.ok((await nftElements(ns('web1'))).includes(target), 'in web1\'s kernel set');
    t.notOk((await nftElements(ns('web2'))).includes(target), 'not in web2\'s');
    const onWeb2 = agents.get('web2')!.waitForNext((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes(target));
    appendFileSync(log('web2'), failed(target, 7));
    const wide = await controller.waitFor((e) => e.msg === 'ban widened' && e.ip === target);
    t.same(wide.scope, [], 'every host');
    await onWeb2;
    t.ok((await nftElements(ns('web2'))).includes(target), 'now in web2\'s kernel set too');
  });

  await t.test('maxretry_per_host = 1: 100 forged failures on one host never ban fleet-wide', async (t) => {
    const target = '203.0.113.90';
    appendFileSync(cappedLog('web1'), lines(target, 100));
    await waitUntil(async () => agents.get('web1')!.entries.filter((e) => e.msg === 'failure' && e.ip === target).length === 100, 'web1 reading the 100 lines');
    await waitUntil(async () => {
      const s = (JSON.parse((await admin('status', 'sshd-capped', '--json')).stdout) as { jails: { totalFailed: number }[] }).jails[0];
      return s?.totalFailed === 100;
    }, 'the controller counting the 100 failures');
    const bans = (await banned()).filter((b) => b.ip === target);
    t.same(bans.map((b) => b.scope), [['web1']], 'one ban, on web1 only (it saw maxretry failures itself)');
    t.notOk(controller.entries.some((e) => e.msg === 'ban widened' && e.ip === target), 'never widened');
    t.notOk((await nftElements(ns('web2'))).includes(target), 'not in web2\'s kernel set');
  });

  for (const h of HOSTS) await agents.get(h)!.stop('SIGTERM');
  await controller.stop('SIGTERM');
});
