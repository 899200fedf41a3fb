// A distributed slow attack, against a real nats-server and a real controller: an address fails
// twice on each of three hosts. maxretry 5: no host sees enough to ban on its own, the fleet does,
// and bans it on every host. The same six failures spread over more than findtime do not ban.
// The failures are published as the hosts' agents publish them (the events stream's subjects).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { adminRequest, BanList, encodeFailure, jetstream } from '@fleetban/shared';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';

const HOSTS = ['web1', 'web2', 'web3'];
/** findtime of the test's jail, in seconds. */
const FINDTIME_S = 5;

t.test('a slow attack spread over three hosts is banned fleet-wide; spread beyond findtime it is not', async (t) => {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const conf = join(dir, 'ctl.conf');
  writeFileSync(conf, `[fleetban]\nhost = ctl\nnats = ${nats.url}\nstate_dir = ${join(dir, 'ctl')}\n\n[DEFAULT]\nmaxretry = 5\nfindtime = ${FINDTIME_S}s\nbantime = 1h\n\n[sshd]\nenabled = true\n`);
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf]);
  await controller.waitForMsg('controller ready');
  const nc = await controllerClient(t, nats.url, 'test', dir);
  const js = jetstream(nc);
  let n = 0;
  const fail = (host: string, ip: string) =>
    js.publish(`fleetban.events.${host}.sshd`, encodeFailure({ id: `${host}:sshd:${++n}`, host, jail: 'sshd', ip, timeMs: Date.now(), user: 'root', line: `Failed password for root from ${ip} port 22 ssh2` }));
  const counters = async () => (await adminRequest(nc, { verb: 'status', jail: '', ip: '', bantimeMs: 0 })).counters;
  const list = await BanList.open(nc, false);

  // two failures on each host, all within findtime: six failures, the fifth bans
  const fast = '203.0.113.50';
  for (const host of HOSTS) for (let k = 0; k < 2; k++) await fail(host, fast);
  const ban = await controller.waitFor((e) => e.msg === 'ban' && e.ip === fast, 30_000, `ban of ${fast}`);
  t.same(ban.hosts, HOSTS, 'the ban names the three hosts that saw the failures');
  t.equal(ban.failures, 5, 'decided at the fifth failure (maxretry 5): no host had more than two');
  t.equal((await list.get(fast))?.ip, fast, 'the ban is in the fleet\'s list, which every agent enforces');

  // the same six failures, one every 1.5 s in turn on the three hosts: 7.5 s from the first to
  // the last, at most four within any 5 s (findtime)
  const slow = '203.0.113.51';
  const countedBefore = (await counters())['events.counted'] ?? 0;
  for (let k = 0; k < 6; k++) {
    if (k > 0) await new Promise((r) => setTimeout(r, 1500));
    await fail(HOSTS[k % 3] as string, slow);
  }
  // every one of them counted (none rejected as stale), and none banned
  await waitUntil(async () => ((await counters())['events.counted'] ?? 0) >= countedBefore + 6, 'the six spread failures counted', 30_000);
  const c = await counters();
  t.equal(c['events.rejected.stale'] ?? 0, 0, 'none rejected as older than findtime');
  t.equal(await list.get(slow), null, 'the failures spread beyond findtime banned nothing');
  t.notOk(controller.entries.some((e) => e.msg === 'ban' && e.ip === slow), 'and the controller decided no ban');
  const bans = (await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0 })).bans;
  t.same(bans.map((b) => b.ip), [fast], '`banned` lists the one address');
  await controller.stop('SIGTERM');
});
