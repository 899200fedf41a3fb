// fail2ban's ban policies with a real controller process and nats-server: the same address banned
// again gets longer bans (bantime.increment), also across a controller restart (SIGTERM, start);
// its history is purged dbpurgeage after its last ban ended; an address banned in several jails is
// escalated by the recidive policy. Failures are published as agents do, on
// fleetban.events.<host>.<jail>; no agent runs. Addresses are documentation ranges.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { Kvm } from '@nats-io/kv';
import {
  adminRequest,
  banKey,
  BANS_BUCKET,
  type BanDecision,
  decodeBan,
  decodeOffence,
  encodeFailure,
  eventSubject,
  HISTORY_BUCKET,
  historyKey,
  jetstream,
  type Offence,
} from '@fleetban/shared';
import { FleetbanProcess, type LogEntry } from './fixtures/fleetban-process.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';

const PURGE_AGE = '4s';

t.test('ban policies across the fleet: increment, restart, purge, recidive', async (t) => {
  const top = t; // processes started in subtests live until the end of the whole test
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const conf = join(dir, 'controller.conf');
  const config = (recidive: boolean) =>
    `[fleetban]
host = ctl
nats = ${nats.url}
state_dir = ${join(dir, 'ctl')}

[controller]
expire_interval = 200ms
dbpurgeage = ${recidive ? '10s' : PURGE_AGE}

[DEFAULT]
maxretry = 2
findtime = 2s
bantime = 1s
bantime.increment = true

[sshd]
enabled = true

[nginx]
enabled = true

[postfix]
enabled = true

[recidive]
policy = recidive
enabled = ${recidive}
maxretry = 3
findtime = 10s
bantime = 1h
bantime.increment = false
`;
  writeFileSync(conf, config(false));
  let controller: FleetbanProcess = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf]);
  await controller.waitForMsg('controller ready');

  const nc = await controllerClient(t, nats.url, 'tester', dir);
  const js = jetstream(nc);
  // single-key reads (direct gets): what the controller wrote, without listing the buckets
  const kvm = new Kvm(nc);
  const bansKv = await kvm.open(BANS_BUCKET);
  const historyKv = await kvm.open(HISTORY_BUCKET);
  const banOf = async (ip: string): Promise<BanDecision | undefined> => {
    const e = await bansKv.get(banKey(ip));
    return e && e.operation === 'PUT' ? decodeBan(e.value) : undefined;
  };
  const offenceOf = async (jail: string, ip: string): Promise<Offence | undefined> => {
    const e = await historyKv.get(historyKey(jail, ip));
    return e && e.operation === 'PUT' ? (decodeOffence(e.string()) ?? undefined) : undefined;
  };
  let seq = 0;
  /** `n` failures of `ip` in `jail`, as web-1's agent reports them. */
  const fail = async (jail: string, ip: string, n = 2) => {
    for (let i = 0; i < n; i++) {
      seq++;
      const e = { id: `web-1:${jail}:${seq}`, host: 'web-1', jail, ip, timeMs: Date.now(), user: 'root', line: `sshd[${seq}]: Failed password for root from ${ip} port 22 ssh2` };
      await js.publish(eventSubject('web-1', jail), encodeFailure(e), { msgID: e.id });
    }
  };
  const banLogged = (ip: string, jail: string, banCount: number) => (e: LogEntry) => e.msg === 'ban' && e.ip === ip && e.jail === jail && e.banCount === banCount;
  /** The ban of `ip` in the list, once it is there with `banCount`. */
  const listed = async (ip: string, banCount: number): Promise<BanDecision> => {
    let found: BanDecision | undefined;
    await waitUntil(async () => {
      found = await banOf(ip);
      return found?.banCount === banCount && found.reason === 'threshold';
    }, `${ip} banned a ${banCount}. time`);
    return found as BanDecision;
  };
  const expired = (ip: string) => controller.waitForNext((e) => e.msg === 'ban expired' && e.ip === ip, 15_000, `${ip}'s ban expiring`);

  await t.test('the same address banned again gets 1s, 2s, 4s (bantime.increment), also after a controller restart', async (t) => {
    const ip = '203.0.113.7';
    let gone = expired(ip);
    await fail('sshd', ip);
    await controller.waitFor(banLogged(ip, 'sshd', 1), 15_000, 'first ban');
    const b1 = await listed(ip, 1);
    t.equal(b1.expiresMs - b1.atMs, 1000, 'first ban: bantime 1s');
    await gone;
    await fail('sshd', ip);
    const b2 = await listed(ip, 2);
    t.equal(b2.expiresMs - b2.atMs, 2000, 'second ban: 1s × 2^1');
    await waitUntil(async () => (await offenceOf('sshd', ip))?.count === 2, 'the history bucket holding the count');

    t.equal(await controller.stop('SIGTERM'), 0, 'the controller stops on SIGTERM');
    controller = FleetbanProcess.start(top, 'controller-2', ['controller', '-c', conf]);
    await controller.waitForMsg('controller ready');
    const loaded = await controller.waitForMsg('ban list loaded');
    t.ok((loaded.offences as number) >= 1, 'the restarted controller loads the history');
    // the replay of the last findtime must not ban again on the failures the second ban dealt with
    await waitUntil(async () => (await banOf(ip)) === undefined, 'the second ban over');
    await fail('sshd', ip);
    const b3 = await listed(ip, 3);
    t.equal(b3.expiresMs - b3.atMs, 4000, 'third ban, after the restart: 1s × 2^2');
    t.notOk(controller.entries.some(banLogged(ip, 'sshd', 2)), 'the replayed failures did not ban twice');
  });

  await t.test(`history older than dbpurgeage (${PURGE_AGE}) after the last ban ended is gone; the next ban starts over`, async (t) => {
    const ip = '203.0.113.8';
    const gone = expired(ip);
    await fail('nginx', ip);
    await listed(ip, 1);
    await gone;
    const endedAt = Date.now();
    await waitUntil(async () => (await offenceOf('nginx', ip)) !== undefined, 'the offence recorded');
    await controller.waitForNext((e) => e.msg === 'ban history purged', 20_000, 'a purge');
    await waitUntil(async () => (await offenceOf('nginx', ip)) === undefined, 'the offence purged from the bucket');
    t.ok(Date.now() - endedAt >= 4000 - 250, `not before dbpurgeage (${Date.now() - endedAt} ms after the ban ended)`);
    await fail('nginx', ip);
    const again = await listed(ip, 1);
    t.equal(again.expiresMs - again.atMs, 1000, 'a first ban again: bantime 1s');
  });

  await t.test('an address banned in three jails within the recidive findtime is banned for recidive\'s bantime', async (t) => {
    // the same controller with its recidive jail enabled (off above, so the repeated bans there stay plain)
    t.equal(await controller.stop('SIGTERM'), 0);
    writeFileSync(conf, config(true));
    controller = FleetbanProcess.start(top, 'controller-3', ['controller', '-c', conf]);
    await controller.waitForMsg('controller ready');
    const ip = '198.51.100.66';
    // one address holds one ban in the list: its bans in other jails come one after the other
    for (const [n, jail] of ['sshd', 'nginx'].entries()) {
      const gone = expired(ip);
      await fail(jail, ip);
      await controller.waitFor(banLogged(ip, jail, 1), 15_000, `ban ${n + 1} in ${jail}`);
      await gone;
    }
    t.notOk(controller.entries.some((e) => e.msg === 'recidive ban'), 'two bans: no recidive yet');
    await fail('postfix', ip);
    const r = await controller.waitFor((e) => e.msg === 'recidive ban' && e.ip === ip, 15_000, 'the recidive ban');
    t.equal(r.jail, 'recidive');
    t.equal(r.bans, 3, 'three bans counted, in three jails');
    let b: BanDecision | undefined;
    await waitUntil(async () => (b = await banOf(ip))?.reason === 'recidive', 'the recidive ban in the list');
    t.equal(b?.jail, 'recidive');
    t.equal((b?.expiresMs ?? 0) - (b?.atMs ?? 0), 3_600_000, "recidive's bantime: 1h");
    t.same(b?.scope, [], 'on every host');
    await waitUntil(async () => (await offenceOf('recidive', ip))?.count === 1, 'the recidive offence in the history');
    const status = await adminRequest(nc, { verb: 'status', jail: '', ip: '', bantimeMs: 0 });
    t.match(status.jails.find((j) => j.name === 'recidive'), { totalBanned: 1 }, "the recidive ban counts in its jail's total (fleetban status)");
  });

  t.equal(await controller.stop('SIGTERM'), 0);
});
