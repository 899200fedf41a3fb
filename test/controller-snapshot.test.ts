// A restarted controller starts from the snapshot its predecessor saved, and replays only the
// events after it: windows, bans and history are as they were, and no failure counts twice. Real
// nats-server and controller processes; failures are published as agents do. Addresses are
// documentation ranges.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { jetstreamManager } from '@nats-io/jetstream';
import { adminRequest, BANS_BUCKET, CONTROLLER_DURABLE, encodeFailure, EVENTS_STREAM, jetstream, SNAPSHOT_STREAM } from '@fleetban/shared';
import { testDir } from './fixtures/test-dir.js';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';

t.test('a restart starts from the snapshot and replays only what came after it', async (t) => {
  const { nc, jsm, fail, start } = await snapshotFleet(t);
  const banned = async () => new Set((await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0 })).bans.map((b) => b.ip));
  const acknowledged = async () => {
    const last = (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
    await waitUntil(async () => (await jsm.consumers.info(EVENTS_STREAM, CONTROLLER_DURABLE)).ack_floor.stream_seq >= last, 'every event acknowledged');
  };
  // first run: A twice, D once, B three times (banned)
  const first = await start('ctl-1');
  for (const ip of ['198.51.100.1', '198.51.100.1', '198.51.100.4', '198.51.100.2', '198.51.100.2']) await fail(ip);
  await fail('198.51.100.2', 'web2');
  await waitUntil(async () => (await banned()).has('198.51.100.2'), '198.51.100.2 banned');
  await acknowledged();
  await first.stop('SIGTERM');
  const saved = first.entries.find((e) => e.msg === 'snapshot saved');
  t.ok(saved, 'the controller saved a snapshot as it stopped');
  t.equal(saved?.seq, 6, 'covering the six events');

  // second run: starts from it; then D again and E twice; SIGKILLed (no snapshot of these)
  const second = await start('ctl-2');
  const loaded = second.entries.find((e) => e.msg === 'ban list loaded');
  t.equal(loaded?.from, 'snapshot', 'the list and the history come from the snapshot');
  t.equal(loaded?.bans, 1, 'with the ban');
  t.equal(second.entries.find((e) => e.msg === 'event windows rebuilt from the stream')?.replayed, 0, 'nothing to replay after a clean stop');
  t.ok((await banned()).has('198.51.100.2'), 'the ban is still listed');
  for (const ip of ['198.51.100.4', '198.51.100.5', '198.51.100.5']) await fail(ip);
  await acknowledged();
  await second.stop('SIGKILL');

  // third run: the same snapshot, and the three events after it replayed
  const third = await start('ctl-3');
  t.equal(third.entries.find((e) => e.msg === 'event windows rebuilt from the stream')?.replayed, 3, 'only the events after the snapshot are replayed');
  t.notOk(third.entries.some((e) => e.msg === 'ban'), 'no failure counted twice: nothing banned by the replay');
  const listWrites = (await jsm.streams.info(`KV_${BANS_BUCKET}`)).state.last_seq;
  for (const ip of ['198.51.100.1', '198.51.100.4', '198.51.100.5']) await fail(ip, 'web3');
  await waitUntil(async () => {
    const now = await banned();
    return now.has('198.51.100.1') && now.has('198.51.100.4') && now.has('198.51.100.5');
  }, 'the third failure of each address bans it: two from the snapshot, or one from it and one replayed, or two replayed');
  t.equal((await jsm.streams.info(`KV_${BANS_BUCKET}`)).state.last_seq, listWrites + 3, 'three bans written, once each');
  const snapshots = (await jsm.streams.info(SNAPSHOT_STREAM, { subjects_filter: '>' })).state;
  t.equal(snapshots.subjects?.['fleetban.snapshot.head'], 1, 'the stream keeps the latest snapshot only');
  await third.stop('SIGTERM');
});

t.test('restarts with no event in between keep the windows and count nothing again', async (t) => {
  const { nc, jsm, fail, start } = await snapshotFleet(t);
  const status = async () => adminRequest(nc, { verb: 'status', jail: '', ip: '', bantimeMs: 0 });
  const first = await start('ctl-a');
  await fail('198.51.100.7');
  await fail('198.51.100.7');
  await waitUntil(async () => (await status()).counters['events.received'] === 2, 'both failures handled');
  await waitUntil(async () => (await jsm.consumers.info(EVENTS_STREAM, CONTROLLER_DURABLE)).ack_floor.stream_seq >= 2, 'both acknowledged');
  await first.stop('SIGTERM');
  // the second run consumes nothing: its consumer, made anew from the floor, acknowledges nothing
  const second = await start('ctl-b');
  await second.stop('SIGTERM');
  const third = await start('ctl-c');
  t.notOk(third.entries.some((e) => e.msg === 'snapshot counts events the stream does not hold as handled: windows rebuilt from the stream'), 'the snapshot is used: a consumer that acknowledged nothing yet still counts as having handled what came before its start');
  t.equal(third.entries.find((e) => e.msg === 'event windows rebuilt from the stream')?.replayed, 0, 'nothing replayed');
  t.equal((await status()).counters['events.received'] ?? 0, 0, 'no event of the stream consumed again');
  t.equal((await status()).jails.find((j) => j.name === 'sshd')?.currentlyFailed, 1, 'the window still holds the address');
  await fail('198.51.100.7', 'web2');
  await waitUntil(async () => (await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0 })).bans.some((b) => b.ip === '198.51.100.7'), 'its third failure bans it');
  await third.stop('SIGTERM');
});

/**
 * A nats-server, a controller configuration (maxretry 3, findtime and bantime 1h, snapshots only
 * at a clean stop: the interval is long), the admin's client, `fail` publishing one sshd failure
 * and `start` starting a controller and waiting until it is ready.
 */
async function snapshotFleet(t: Test) {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const conf = join(dir, 'controller.conf');
  writeFileSync(conf, `[fleetban]\nhost = ctl\nnats = ${nats.url}\nstate_dir = ${join(dir, 'ctl')}\n\n[controller]\nsnapshot_interval = 1h\n\n[DEFAULT]\nmaxretry = 3\nfindtime = 1h\nbantime = 1h\n\n[sshd]\nenabled = true\n`);
  const nc = await controllerClient(t, nats.url, 'test', dir);
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  let n = 0;
  const fail = async (ip: string, host = 'web1') => {
    await js.publish(`fleetban.events.${host}.sshd`, encodeFailure({ id: `${host}:sshd:s${++n}`, host, jail: 'sshd', ip, timeMs: Date.now(), user: 'root', line: `Failed password for root from ${ip}` }));
  };
  const start = async (name: string) => {
    const c = FleetbanProcess.start(t, name, ['controller', '-c', conf]);
    await c.waitForMsg('controller ready');
    return c;
  };
  return { nc, jsm, fail, start };
}
