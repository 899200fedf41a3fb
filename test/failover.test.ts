// Two controllers share a lease: one is active, the other waits. The active one is SIGKILLed in
// the middle of an attack; the other takes over, no failure is lost and no ban is issued twice.
// Real nats-server and controller processes; the takeover time is printed. The active controller
// saves a snapshot every second, and the standby starts from the latest.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { adminRequest, BANS_BUCKET, encodeFailure, jetstream } from '@fleetban/shared';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';

const ADDRESSES = 200;
const HOSTS = ['web1', 'web2', 'web3'];

t.test('the active controller SIGKILLed mid-attack: the standby takes over, nothing lost, nothing twice', async (t) => {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const conf = (name: string) => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, `[fleetban]\nhost = ${name}\nnats = ${nats.url}\nstate_dir = ${join(dir, name)}\n\n[controller]\nsnapshot_interval = 1s\n\n[DEFAULT]\nmaxretry = 3\nbantime = 1h\n\n[sshd]\nenabled = true\n`);
    return file;
  };
  const a = FleetbanProcess.start(t, 'ctl-a', ['controller', '-c', conf('ctl-a')]);
  await a.waitForMsg('controller ready');
  const b = FleetbanProcess.start(t, 'ctl-b', ['controller', '-c', conf('ctl-b')]);
  await b.waitForMsg('standby: another controller is active');
  t.notOk(b.entries.some((e) => e.msg === 'controller ready'), 'the second controller waits');

  const nc = await controllerClient(t, nats.url, 'test', dir);
  const js = jetstream(nc);
  let n = 0;
  const attack = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const ip = `198.51.${100 + (i >> 8)}.${i & 255}`;
      for (const host of HOSTS) {
        await js.publish(`fleetban.events.${host}.sshd`, encodeFailure({ id: `${host}:sshd:f${++n}`, host, jail: 'sshd', ip, timeMs: Date.now(), user: 'root', line: `from ${ip}` }));
      }
    }
  };
  await attack(0, ADDRESSES / 2);
  await waitUntil(async () => a.entries.filter((e) => e.msg === 'ban').length >= ADDRESSES / 4, 'the first controller banning');
  // killed once it has saved a snapshot (every second here; on a busy machine the bans above can come first)
  await a.waitForMsg('snapshot saved', 20_000);
  const killedAt = Date.now();
  await a.stop('SIGKILL');
  const attacking = attack(ADDRESSES / 2, ADDRESSES);
  const took = await b.waitForMsg('controller ready', 20_000);
  const takeoverMs = (took.time as number) - killedAt;
  const tookLease = b.entries.find((e) => e.msg === 'controller lease held: this controller is active');
  t.comment(`takeover: ${takeoverMs} ms from SIGKILL to the standby's "controller ready" (lease held after ${(tookLease?.time as number) - killedAt} ms; lease_ttl 1s)`);
  t.ok(b.entries.some((e) => e.msg === 'taking over: the active controller stopped renewing its lease'), 'the standby took the lease over');
  // the active one saved a snapshot every second: the standby starts from the latest (read ahead
  // while it waited, or at the takeover) and replays the events after it
  const loaded = b.entries.find((e) => e.msg === 'ban list loaded' && (e.time as number) >= killedAt);
  t.equal(loaded?.from, 'snapshot', 'the standby started from the snapshot');
  const read = b.entries.filter((e) => e.msg === 'snapshot read').pop();
  t.comment(`snapshot read ${read?.ahead ? 'ahead, while standing by' : 'at the takeover'}; ${String(b.entries.find((e) => e.msg === 'event windows rebuilt from the stream')?.replayed)} events replayed after it`);
  await attacking;

  const jsm = await jetstreamManager(nc);
  const banned = async () => (await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0 })).bans;
  await waitUntil(async () => (await banned()).length === ADDRESSES, `all ${ADDRESSES} addresses banned`, 30_000);
  const bans = await banned();
  t.equal(bans.length, ADDRESSES, 'every attacking address is banned: no failure was lost');
  t.ok(bans.every((b) => b.banCount === 1 && b.failures === 3), 'each once, from its three failures');
  const puts = (await jsm.streams.info(`KV_${BANS_BUCKET}`)).state.last_seq;
  t.equal(puts, ADDRESSES, 'the ban list was written once per address: no ban issued twice');
  t.ok(b.entries.some((e) => e.msg === 'ban'), 'the new active controller made the bans of the second half');
  await b.stop('SIGTERM');
});
