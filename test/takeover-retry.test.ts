// A standby that took the lease over and cannot start keeps trying until it can, and never exits:
// its failed start releases the lease, so the next try takes a free lease without a takeover, and
// that try failing too must not be taken for a first start (which fails loudly). Before, it was:
// on a 3-node cluster that lost a node, the standby exited and the fleet had no controller.
// Here the start fails for good until the test mends it: the ignore list's stream is replaced by
// one that does not hold the bucket's subjects, so its watch cannot be made. Real nats-server and
// controller processes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { IGNORE_BUCKET } from '@fleetban/shared';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';

const RETRYING = 'cannot start as the active controller: standing by, trying again in 1 s';

t.test('a standby whose start fails after the takeover keeps trying, the lease free or not, and becomes ready once NATS is mended', async (t) => {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const conf = (name: string) => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(file, `[fleetban]\nhost = ${name}\nnats = ${nats.url}\nstate_dir = ${join(dir, name)}\n\n[sshd]\nenabled = true\n`);
    return file;
  };
  const a = FleetbanProcess.start(t, 'ctl-a', ['controller', '-c', conf('ctl-a')]);
  await a.waitForMsg('controller ready');
  const b = FleetbanProcess.start(t, 'ctl-b', ['controller', '-c', conf('ctl-b')]);
  await b.waitForMsg('standby: another controller is active');

  const nc = await controllerClient(t, nats.url, 'test', dir);
  const jsm = await jetstreamManager(nc);
  const stream = `KV_${IGNORE_BUCKET}`;
  await jsm.streams.delete(stream);
  await jsm.streams.add({ name: stream, subjects: ['broken.ignore.>'] });
  await a.stop('SIGKILL');

  await b.waitForMsg('taking over: the active controller stopped renewing its lease');
  // the try after the takeover, then at least one that took the lease its failed try released
  await waitUntil(async () => b.proc.exitCode !== null || b.entries.filter((e) => e.msg === RETRYING).length >= 3, 'three failed starts', 90_000);
  const tries = b.entries.filter((e) => e.msg === 'controller lease held: this controller is active');
  t.ok(tries.length >= 3, `the lease was taken ${tries.length} times`);
  t.equal(b.entries.filter((e) => e.msg === 'taking over: the active controller stopped renewing its lease').length, 1, 'once by a takeover, then free');
  t.equal(b.proc.exitCode, null, `the standby did not exit${b.proc.exitCode === null ? '' : `: ${b.output.filter((l) => !l.startsWith('{')).join(' ')}`}`);
  t.notOk(b.entries.some((e) => e.msg === 'controller ready'), 'nor claimed to be ready');

  await jsm.streams.delete(stream);
  await b.waitForMsg('controller ready', 60_000);
  const info = await jsm.streams.info(stream);
  t.same(info.config.subjects, [`$KV.${IGNORE_BUCKET}.>`], 'the ignore list was made again by the controller');
  await b.stop('SIGTERM');
});
