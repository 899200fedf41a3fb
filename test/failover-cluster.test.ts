// Failover on a 3-node NATS cluster with R3 streams and buckets: two controllers share a lease;
// in the middle of an attack the active one is SIGKILLed together with the NATS node it is
// connected to. The standby takes over on the two nodes left: no failure is lost, no ban is
// issued twice. Real nats-server and controller processes; the takeover time is printed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { adminRequest, BANS_BUCKET, encodeFailure, jetstream } from '@fleetban/shared';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { nodeOf, startNatsCluster } from './fixtures/nats-cluster.js';
import { waitUntil } from './fixtures/wait-until.js';

// R3 streams, leader elections and two controllers on a loaded 2-core machine (bounded waits)
t.setTimeout(300_000);

const ADDRESSES = 150;
const HOSTS = ['web1', 'web2', 'web3'];

t.test('R3 cluster: the active controller and its NATS node SIGKILLed mid-attack; the standby takes over, nothing lost, nothing twice', async (t) => {
  const dir = testDir(t, {});
  const cluster = await startNatsCluster(t, 3);
  const conf = (name: string) => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(
      file,
      `[fleetban]\nhost = ${name}\nnats = ${cluster.urls.join(' ')}\nstate_dir = ${join(dir, name)}\n\n[controller]\nreplicas = 3\nsnapshot_interval = 1s\n\n` +
        `[DEFAULT]\nmaxretry = 3\nbantime = 1h\n\n[sshd]\nenabled = true\n`,
    );
    return file;
  };
  const nc = await connect({ servers: [...cluster.urls], name: 'failover-test' });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  // a cluster just formed may not place an R3 stream at once (a controller's first start that
  // cannot create its buckets fails loudly): wait until it does (bounded)
  await waitUntil(async () => jsm.streams.add({ name: 'PROBE', subjects: ['probe.>'], num_replicas: 3 }).then(() => true, () => false), 'an R3 stream placed', 60_000);
  await jsm.streams.delete('PROBE');
  const a = FleetbanProcess.start(t, 'ctl-a', ['controller', '-c', conf('ctl-a')]);
  await a.waitForMsg('controller ready', 90_000);
  const b = FleetbanProcess.start(t, 'ctl-b', ['controller', '-c', conf('ctl-b')]);
  await b.waitForMsg('standby: another controller is active', 90_000);
  t.notOk(b.entries.some((e) => e.msg === 'controller ready'), 'the second controller waits');

  const js = jetstream(nc);
  let n = 0;
  /** Publishes one failure, again while the cluster elects new leaders (bounded; a copy stored twice is one event: same id). */
  const publish = async (host: string, ip: string) => {
    const id = `${host}:sshd:f${++n}`;
    const data = encodeFailure({ id, host, jail: 'sshd', ip, timeMs: Date.now(), user: 'root', line: `from ${ip}` });
    for (let attempt = 1; ; attempt++) {
      try {
        return await js.publish(`fleetban.events.${host}.sshd`, data, { msgID: id, timeout: 2_000 });
      } catch (err) {
        if (attempt === 40) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };
  const attack = async (from: number, to: number) => {
    for (let i = from; i < to; i++) for (const host of HOSTS) await publish(host, `198.51.${100 + (i >> 8)}.${i & 255}`);
  };
  await attack(0, ADDRESSES / 2);
  await waitUntil(async () => a.entries.filter((e) => e.msg === 'ban').length >= ADDRESSES / 4, 'the first controller banning', 60_000);
  await a.waitForMsg('snapshot saved', 30_000);
  const victim = await nodeOf(cluster, 'fleetban-controller-ctl-a');
  if (!victim) throw new Error('the active controller is on no node');
  t.comment(`killing ctl-a and ${victim.name}, the node it is connected to${victim === (await nodeOf(cluster, 'fleetban-controller-ctl-b')) ? ' (ctl-b\'s too)' : ''}`);
  const killedAt = Date.now();
  await Promise.all([a.stop('SIGKILL'), victim.kill()]);
  const attacking = attack(ADDRESSES / 2, ADDRESSES);
  const took = await b.waitForMsg('controller ready', 90_000).catch((err: unknown) => {
    for (const e of b.entries.filter((e) => (e.time as number) >= killedAt)) t.comment(`ctl-b +${(e.time as number) - killedAt} ms: ${JSON.stringify(e).slice(0, 400)}`);
    if (b.proc.exitCode !== null) t.comment(`ctl-b exited (${b.proc.exitCode}): ${b.output.filter((l) => !l.startsWith('{')).join(' ').slice(0, 2000)}`);
    throw err;
  });
  const takeoverMs = (took.time as number) - killedAt;
  const tookLease = b.entries.find((e) => e.msg === 'controller lease held: this controller is active');
  t.comment(`takeover: ${takeoverMs} ms from SIGKILL to the standby's "controller ready" (lease held after ${(tookLease?.time as number) - killedAt} ms; lease_ttl 1s; a node lost as well)`);
  t.ok(b.entries.some((e) => e.msg === 'taking over: the active controller stopped renewing its lease'), 'the standby took the lease over');
  await attacking;

  const banned = async () => (await adminRequest(nc, { verb: 'banned', jail: '', ip: '', bantimeMs: 0 }, 10_000)).bans;
  await waitUntil(async () => (await banned().catch(() => [])).length === ADDRESSES, `all ${ADDRESSES} addresses banned`, 60_000);
  const bans = await banned();
  t.equal(bans.length, ADDRESSES, 'every attacking address is banned: no failure was lost');
  t.ok(bans.every((x) => x.banCount === 1 && x.failures === 3), 'each once, from its three failures');
  const info = await jsm.streams.info(`KV_${BANS_BUCKET}`);
  t.equal(info.config.num_replicas, 3, 'the ban list is R3');
  t.equal(info.state.last_seq, ADDRESSES, 'the ban list was written once per address: no ban issued twice');
  t.ok(b.entries.some((e) => e.msg === 'ban'), 'the new active controller made bans of the second half');
  const survivor = await nodeOf(cluster, 'fleetban-controller-ctl-b');
  t.ok(survivor && survivor !== victim, `the standby is on ${survivor?.name}, a node left`);
  await b.stop('SIGTERM');
});
