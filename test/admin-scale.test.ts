// The admin verbs with a big ban list: `fleetban banned` reads 20,000 bans straight from the KV
// bucket (streamed, expired and malformed entries left out), `status` answers with counts and a
// bounded list, the controller's `banned` verb answers in pages, and a reply larger than the
// server's max_payload becomes an error reply: no request stops the controller.
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { Kvm } from '@nats-io/kv';
import {
  ADMIN_LIMITS,
  adminRequest,
  type AdminReply,
  adminSubject,
  BANS_BUCKET,
  banKey,
  BanList,
  connectFleet,
  decodeAdminReply,
  encodeAdminRequest,
  encodeHeartbeat,
  heartbeatSubject,
  type NatsConnection,
  parseConfig,
  silentLogger,
} from '@fleetban/shared';
import { benchmarkBans, putBans } from './fixtures/ban-fill.js';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { startNatsServer } from './fixtures/nats-server.js';

const BANS = 20_000;
const ONE = '203.0.113.9';

/** Connects the test to `url` as the controller would (anonymous server). */
async function connectTo(url: string, dir: string): Promise<NatsConnection> {
  const fleet = parseConfig(`[fleetban]\nhost = filler\nnats = ${url}\nstate_dir = ${dir}\n`, '').fleet;
  return connectFleet(fleet, { name: 'admin-scale-test', role: 'controller', logger: silentLogger(), waitOnFirstConnect: false });
}

/** Every `banned` page of the controller, from offset 0 on, asking `limit` at a time. */
async function allPages(nc: NatsConnection, limit: number): Promise<{ ips: string[]; pages: number; total: number }> {
  const ips: string[] = [];
  let pages = 0;
  let total = 0;
  do {
    const r = await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0, offset: ips.length, limit });
    total = r.total ?? 0;
    if (r.bans.length === 0) break;
    ips.push(...r.bans.map((b) => b.ip));
    pages++;
  } while (ips.length < total);
  return { ips, pages, total };
}

t.test('20,000 bans: banned from the KV bucket, bounded status, paged banned verb', async (t) => {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const conf = writeTestConfig({ host: 'ctl', nats: nats.url, dir });
  const nc = await connectTo(nats.url, dir);
  t.teardown(() => nc.close());

  // written before the controller starts, so that it loads them
  const now = Date.now();
  const list = await BanList.open(nc);
  const bans = [...benchmarkBans(BANS - 1, 'sshd', now), { ...benchmarkBans(1, 'sshd', now)[0]!, ip: ONE, hosts: ['web-2'], banCount: 3 }];
  const t0 = performance.now();
  await putBans(list, bans);
  const expired = { ...bans[0]!, ip: '198.19.255.1', atMs: now - 7_200_000, expiresMs: now - 3_600_000 };
  await list.put(expired);
  const kv = await new Kvm(nc).open(BANS_BUCKET);
  await kv.put(banKey('198.19.255.2'), new Uint8Array([0xff, 0xff, 0xff, 0x01]));
  t.comment(`${BANS} bans written in ${Math.round(performance.now() - t0)} ms`);

  const t1 = performance.now();
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf]);
  const loaded = await controller.waitForMsg('ban list loaded', 30_000);
  await controller.waitForMsg('controller ready', 30_000);
  t.equal(loaded.bans, BANS + 1, 'the controller loaded every ban that decodes (the expired one too, until its expiry)');
  t.ok(controller.entries.some((e) => e.msg === 'ban list entry does not decode: skipped' && e.key === banKey('198.19.255.2')), 'and skipped the malformed entry, saying so');
  t.comment(`controller ready with ${BANS} bans in ${Math.round(performance.now() - t1)} ms`);

  await t.test('fleetban banned prints every active ban, streamed from the bucket', async (t) => {
    const t2 = performance.now();
    const r = await runFleetban(['banned', '-c', conf]);
    t.comment(`fleetban banned: ${Math.round(performance.now() - t2)} ms`);
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    t.equal(lines.length, BANS, `${BANS} lines`);
    t.equal(new Set(lines.map((l) => l.split('\t')[0])).size, BANS, 'each target once');
    t.notOk(lines.some((l) => l.startsWith('198.19.255.1\t')), 'the expired ban is left out');
    t.match(r.stderr, /1 ban list entry does not decode: skipped \(v4\.198\.19\.255\.2: /, 'the malformed entry is skipped and reported');
    t.match(lines.find((l) => l.startsWith(`${ONE}\t`)), new RegExp(`^${ONE.replaceAll('.', '\\.')}\\tsshd\\tthreshold from web-2\\t(59m\\d*s|1h) left\\t\\(ban #3\\)`), 'a ban line');
  });

  await t.test('fleetban banned --json prints JSON lines', async (t) => {
    const r = await runFleetban(['banned', '--json', '-c', conf]);
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    t.equal(lines.length, BANS, `${BANS} lines`);
    const one = lines.map((l) => JSON.parse(l) as { ip: string; jail: string; banCount: number }).find((b) => b.ip === ONE);
    t.match(one, { ip: ONE, jail: 'sshd', banCount: 3, hosts: ['web-2'] }, 'each line one ban object');
  });

  await t.test('fleetban banned TARGET shows that target only', async (t) => {
    const r = await runFleetban(['banned', ONE, '-c', conf]);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout.trimEnd().split('\n').length, 1, 'one line');
    t.match(r.stdout, new RegExp(`^${ONE.replaceAll('.', '\\.')}\\tsshd\\tthreshold from web-2`));
    const json = await runFleetban(['banned', ONE, '--json', '-c', conf]);
    t.match(JSON.parse(json.stdout), { ip: ONE, banCount: 3 }, '--json: the ban object');
    const none = await runFleetban(['banned', '203.0.113.10', '-c', conf]);
    t.equal(none.code, 1, 'not banned: exit code 1');
    t.equal(none.stdout, '203.0.113.10 is not banned.\n');
    const gone = await runFleetban(['banned', '198.19.255.1', '-c', conf]);
    t.equal(gone.code, 1, 'an expired ban still in the list is not banned');
  });

  await t.test('status carries counts and a bounded list', async (t) => {
    const overview = await runFleetban(['status', '-c', conf]);
    t.equal(overview.code, 0, overview.stderr);
    t.match(overview.stdout, /Jail list:\t.*sshd/);
    const o = JSON.parse((await runFleetban(['status', '--json', '-c', conf])).stdout) as AdminReply;
    const sshd = o.jails.find((j) => j.name === 'sshd');
    t.match(sshd, { currentlyBanned: BANS, banned: [] }, 'the overview: counts, no addresses');
    const jail = await runFleetban(['status', 'sshd', '-c', conf]);
    t.equal(jail.code, 0, jail.stderr);
    t.match(jail.stdout, new RegExp(`Currently banned:\\t${BANS}\\n`));
    t.match(jail.stdout, new RegExp(`Banned IP list:\\t198\\.18\\.0\\.0 .* \\(${BANS - ADMIN_LIMITS.statusBanned} more: fleetban banned\\)`));
    const j = (JSON.parse((await runFleetban(['status', 'sshd', '--json', '-c', conf])).stdout) as AdminReply).jails[0]!;
    t.equal(j.currentlyBanned, BANS, 'status sshd --json: currentlyBanned counts them all');
    t.equal(j.banned.length, ADMIN_LIMITS.statusBanned, `and lists ${ADMIN_LIMITS.statusBanned}`);
  });

  await t.test("the controller's banned verb answers in pages", async (t) => {
    const first = await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0 });
    t.equal(first.total, BANS, 'total: every active ban');
    t.equal(first.bans.length, ADMIN_LIMITS.bannedPage, 'a default page');
    const paged = await allPages(nc, ADMIN_LIMITS.bannedPageMax);
    t.equal(paged.pages, 2, `${BANS} bans in two pages of at most ${ADMIN_LIMITS.bannedPageMax}`);
    t.equal(new Set(paged.ips).size, BANS, 'every ban once');
    const past = await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0, offset: BANS + 5 });
    t.match(past, { total: BANS, bans: [] }, 'an offset past the end: an empty page');
  });

  const alive = await adminRequest(nc, { verb: 'status', jail: 'sshd', ip: '', bantimeMs: 0 });
  t.equal(alive.jails[0]?.currentlyBanned, BANS, 'the controller still answers');
  t.equal(controller.proc.exitCode, null, 'and still runs');
  t.equal(await controller.stop('SIGTERM'), 0, 'it stops cleanly');
});

t.test('a reply larger than max_payload becomes an error reply; the controller keeps answering', async (t) => {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t, { config: 'max_payload: 65536\n' });
  const conf = writeTestConfig({ host: 'ctl', nats: nats.url, dir });
  const nc = await connectTo(nats.url, dir);
  t.teardown(() => nc.close());
  t.equal(nc.info?.max_payload, 65536, 'the server takes 64 KiB messages');
  await putBans(await BanList.open(nc), benchmarkBans(3000, 'sshd', Date.now()));
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf]);
  await controller.waitForMsg('controller ready', 30_000);

  const paged = await allPages(nc, ADMIN_LIMITS.bannedPageMax);
  t.equal(paged.total, 3000);
  t.equal(new Set(paged.ips).size, 3000, 'every ban once, paging on');
  t.ok(paged.pages > 1, `pages cut to max_payload (${paged.pages} pages of at most ${ADMIN_LIMITS.bannedPageMax} asked)`);

  // hosts whose heartbeats name 256 jails of 64 characters: the status overview outgrows 64 KiB
  const jails = Array.from({ length: 256 }, (_, i) => `j${String(i).padStart(3, '0')}`.padEnd(64, 'x'));
  const recorded = Array.from({ length: 5 }, (_, i) => controller.waitForNext((e) => e.msg === 'fleet host recorded' && e.host === `big-${i}`, 15_000, `big-${i} recorded`));
  for (let i = 0; i < 5; i++) {
    const beat = { host: `big-${i}`, timeMs: Date.now(), addresses: [`192.0.2.${i + 1}`], jails, backend: 'dry-run', firewall: 'test', banned: 0, version: '0.0.0', lines: 0, failures: 0, buffered: 0, skipped: 0, undecodable: 0, matched: 0, bytesBehind: 0, spoolBytes: 0, drift: 0, enforceFailed: 0, fallback: false, localBans: 0, refused: 0 };
    nc.publish(heartbeatSubject(`big-${i}`), encodeHeartbeat(beat));
  }
  await Promise.all(recorded);
  const raw = decodeAdminReply((await nc.request(adminSubject('status'), encodeAdminRequest({ verb: 'status', jail: '', ip: '', bantimeMs: 0 }), { timeout: 5000 })).data);
  t.match(raw, { ok: false, error: /the reply \(\d+ bytes\) exceeds the NATS server's max_payload \(65536 bytes\)/ }, 'the oversize status becomes an error reply');
  const cli = await runFleetban(['status', '-c', conf]);
  t.equal(cli.code, 1, 'fleetban status fails');
  t.match(cli.stderr, /exceeds the NATS server's max_payload/, 'saying why');
  await controller.waitFor((e) => e.msg === 'admin reply larger than max_payload: an error reply sent instead', 5000);

  const after = await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0, limit: 10 });
  t.match(after, { ok: true, total: 3000 }, 'the controller still answers');
  t.equal(after.bans.length, 10, 'a page of the limit asked');
  t.equal(after.counters['admin.oversize'], 2, 'oversize replies counted');
  t.equal(controller.proc.exitCode, null, 'and still runs');
  t.equal(await controller.stop('SIGTERM'), 0, 'it stops cleanly');
});
