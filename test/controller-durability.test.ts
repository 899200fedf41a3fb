// What a failure caused is durable before the failure is acknowledged: a controller whose ban
// cannot be written keeps the event unacknowledged, does not hold the ban, retries, and makes the
// ban once the list can be written again. Real nats-server and controller process.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { adminRequest, BANS_BUCKET, CONTROLLER_DURABLE, encodeFailure, EVENTS_STREAM, jetstream } from '@fleetban/shared';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';

t.test('a ban that cannot be written is not believed, its event not acknowledged; it is made once the list is back', async (t) => {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const conf = join(dir, 'ctl.conf');
  writeFileSync(conf, `[fleetban]\nhost = ctl\nnats = ${nats.url}\nstate_dir = ${join(dir, 'ctl')}\n\n[DEFAULT]\nmaxretry = 3\nbantime = 1h\n\n[sshd]\nenabled = true\n`);
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf]);
  await controller.waitForMsg('controller ready');
  const nc = await controllerClient(t, nats.url, 'test', dir);
  const jsm = await jetstreamManager(nc);
  const stream = `KV_${BANS_BUCKET}`;
  const banned = async () => (await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0 })).bans.map((b) => b.ip);
  const ackPending = async () => (await jsm.consumers.info(EVENTS_STREAM, CONTROLLER_DURABLE)).num_ack_pending;

  // the list refuses every write: a sealed stream takes no message
  const cfg = (await jsm.streams.info(stream)).config;
  await jsm.streams.update(stream, { ...cfg, sealed: true } as typeof cfg); // sealed: known to the server, not to the client's types
  const failed = controller.waitForNext((e) => e.msg === 'ban not stored: retrying (its event stays unacknowledged)' && e.ip === '203.0.113.5');
  const js = jetstream(nc);
  for (let i = 0; i < 3; i++) {
    await js.publish('fleetban.events.web1.sshd', encodeFailure({ id: `web1:sshd:d${i}`, host: 'web1', jail: 'sshd', ip: '203.0.113.5', timeMs: Date.now(), user: 'root', line: `line ${i}` }));
  }
  await failed;
  t.same(await banned(), [], 'the controller does not believe the ban exists');
  t.ok((await ackPending()) >= 1, 'the event that would cause it is not acknowledged');
  await controller.waitForNext((e) => e.msg === 'ban not stored: retrying (its event stays unacknowledged)' && e.attempt === 2);
  t.pass('the write is retried');

  // the list is back (deleted: the controller creates it again on its next try)
  const made = controller.waitForNext((e) => e.msg === 'ban' && e.ip === '203.0.113.5', 30_000, 'the ban');
  await jsm.streams.delete(stream);
  t.match(await made, { failures: 3 }, 'the ban is made from the same three failures');
  t.same(await banned(), ['203.0.113.5'], 'and the controller holds it');
  await waitUntil(async () => (await ackPending()) === 0, 'every event acknowledged');
  t.ok((await jsm.streams.info(stream)).state.messages >= 1, 'the list holds it');
  t.equal(controller.proc.exitCode, null, 'the controller stayed up');
  await controller.stop('SIGTERM');
});
