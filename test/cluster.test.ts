// A fleet on a 3-node NATS cluster with [controller] replicas = 3: the events stream and the
// buckets are kept on all three nodes, and when the node that serves the controller and leads the
// bans bucket is SIGKILLed, a new failure is still banned and enforced (the agent's watch of the
// list comes back) and `fleetban status` still answers.
// Also checks deploy/nats-cluster/'s server configs with nats-server -t.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { BANS_BUCKET, EVENTS_STREAM, HISTORY_BUCKET, HOSTS_BUCKET, LEASE_BUCKET, parseConfig } from '@fleetban/shared';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { nodeOf, startNatsCluster } from './fixtures/nats-cluster.js';
import { waitUntil } from './fixtures/wait-until.js';

/** Two sshd failures from `ip`, as web-1's auth.log has them. */
function failures(ip: string, port: number): string {
  return (
    `Nov 21 12:00:00 web-1 sshd[10]: Failed password for root from ${ip} port ${port} ssh2\n` +
    `Nov 21 12:00:01 web-1 sshd[10]: Failed password for root from ${ip} port ${port + 2} ssh2\n`
  );
}

t.test('R3 on a 3-node cluster: the fleet rides through the loss of the controller\'s node', async (t) => {
  const dir = testDir(t, { 'auth.log': '' });
  const cluster = await startNatsCluster(t, 3);
  const nats = cluster.urls.join(' ');
  const conf = (host: string, extra: string) => {
    const file = join(dir, `${host}.conf`);
    writeFileSync(
      file,
      `[fleetban]\nhost = ${host}\nnats = ${nats}\nstate_dir = ${join(dir, host)}\n\n${extra}` +
        `[DEFAULT]\nmaxretry = 2\nbantime = 1h\n\n[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n`,
    );
    return file;
  };
  // the default lease_ttl (1 s), shorter than a JetStream leader election: the controller is
  // suspended while the lease bucket has no leader and goes on once it has one (docs/cluster.md)
  const ctlConf = conf('ctl', '[controller]\nreplicas = 3\n\n');
  t.equal(parseConfig(readFileSync(ctlConf, 'utf8'), ctlConf).fleet.servers.length, 3, 'the configuration lists the three servers');
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', ctlConf]);
  // R3 streams created by a 3-node cluster: slow on a loaded machine (bounded)
  await controller.waitForMsg('controller ready', 90_000);
  const agent = FleetbanProcess.start(t, 'web-1', ['agent', '-c', conf('web-1', '[agent]\nenforcer = dry-run\nheartbeat = 1s\npoll = 20ms\n\n')]);
  await agent.waitForMsg('agent ready', 90_000);

  const nc = await connect({ servers: [...cluster.urls], name: 'cluster-test' });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  for (const stream of [EVENTS_STREAM, ...[BANS_BUCKET, HISTORY_BUCKET, HOSTS_BUCKET, LEASE_BUCKET].map((b) => `KV_${b}`)]) {
    const info = await jsm.streams.info(stream);
    t.equal(info.config.num_replicas, 3, `${stream} is R3`);
  }
  t.notOk(controller.entries.some((e) => typeof e.msg === 'string' && e.msg.includes('replica')), 'no replica warning');

  /** Appends two failures from `ip`; resolves with the controller's ban and the agent's enforcement (or null after `timeoutMs`). */
  const banned = async (ip: string, port: number, timeoutMs: number) => {
    const enforced = agent.waitForNext((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes(ip), timeoutMs, `enforced ${ip}`).catch(() => null);
    const ban = controller.waitFor((e) => e.msg === 'ban' && e.ip === ip, timeoutMs, `ban ${ip}`);
    appendFileSync(join(dir, 'auth.log'), failures(ip, port));
    return { ban: await ban, enforced: await enforced };
  };
  // The hardest node to lose is the one that leads the bans bucket (the agent's watch of the list
  // is a consumer there) and the lease bucket (the controller cannot renew its lease until the
  // others elect a new leader) and serves the controller: move both buckets' leadership onto the
  // controller's node (each step-down elects one of the other two; bounded).
  const bansStream = `KV_${BANS_BUCKET}`;
  const leaseStream = `KV_${LEASE_BUCKET}`;
  const leaderOf = async (stream = bansStream) => {
    try {
      return (await jsm.streams.info(stream)).cluster?.leader;
    } catch {
      return undefined;
    }
  };
  const ctlNode = await nodeOf(cluster, 'fleetban-controller-ctl');
  for (const stream of [bansStream, leaseStream]) {
    for (let i = 0; i < 12 && ctlNode !== undefined && (await leaderOf(stream)) !== ctlNode.name; i++) {
      await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`).catch(() => undefined);
      await waitUntil(async () => (await leaderOf(stream)) !== undefined, `a leader of ${stream}`, 15_000);
    }
  }
  t.comment(`the lease bucket is led by ${(await leaderOf(leaseStream)) ?? 'nobody'}`);
  const bansLeader = await leaderOf();
  const before = await banned('203.0.113.10', 40000, 15_000);
  t.ok(before.enforced, 'before: a failure is banned and enforced');

  const victim = cluster.nodes.find((n) => n.name === bansLeader) ?? ctlNode ?? cluster.nodes[0];
  if (!victim) throw new Error('no node');
  t.comment(`killing ${victim.name}: it leads the bans bucket${victim.name === (await leaderOf(leaseStream)) ? ' and the lease bucket' : ''}${victim === ctlNode ? ' and serves the controller' : ` (the controller is on ${ctlNode?.name})`}`);
  const killedAt = Date.now();
  await victim.kill();
  // a failure read while the agent is cut off is banned locally (fallback), not by the fleet:
  // the new failure comes once both clients are back on one of the two nodes left
  const onSurvivor = async (client: string) => {
    const n = await nodeOf(cluster, client);
    return n !== undefined && n !== victim;
  };
  await waitUntil(async () => (await onSurvivor('fleetban-controller-ctl')) && (await onSurvivor('fleetban-agent-web-1')), 'the controller and the agent reconnected', 15_000);

  const after = await banned('203.0.113.20', 41000, 60_000).catch(() => null);
  const since = (msg: string) => controller.entries.some((e) => (e.time as number) >= killedAt && e.msg === msg);
  const suspended = since('controller lease not renewed in time: deciding nothing until it is renewed, or stepping down if another controller holds it');
  if (!after) {
    for (const e of controller.entries.filter((e) => (e.time as number) >= killedAt)) t.comment(`controller +${(e.time as number) - killedAt} ms: ${JSON.stringify(e).slice(0, 300)}`);
    t.fail('after SIGKILL of one node: the controller bans a new failure within 60 s');
    await agent.stop('SIGTERM');
    await controller.stop('SIGTERM');
    return;
  }
  t.comment(`banned ${after.ban.time as number - killedAt} ms after the node was killed${suspended ? ' (the controller was suspended while the lease bucket had no leader, then went on)' : ''}`);
  t.notOk(since('controller lease lost: stepping down'), 'the controller did not step down (nobody else held the lease)');
  t.pass('after SIGKILL of one node: the controller bans a new failure');
  // the agent's watch of the list was a consumer on the lost leader: the client recreates it, or
  // the agent's own check resumes it (packages/shared/src/nats/resuming-watch.ts)
  t.ok(after.enforced, `the agent enforces it${after.enforced ? ` (${after.enforced.time as number - killedAt} ms after the kill)` : ''}`);
  const resumed = agent.entries.filter((e) => e.msg === 'ban list watch stalled: resumed at the next revision');
  t.comment(`the agent resumed its watch itself ${resumed.length} time(s)`);
  const status = await runFleetban(['status', '-c', ctlConf]);
  t.equal(status.code, 0, `fleetban status answers (${status.stderr.trim()})`);
  t.match(status.stdout, /sshd/, 'status lists the jail');
  const moved = await nodeOf(cluster, 'fleetban-controller-ctl');
  t.ok(moved && moved !== victim, `the controller reconnected to ${moved?.name}`);
  await agent.stop('SIGTERM');
  await controller.stop('SIGTERM');
});

t.test('deploy/nats-cluster/ configs are valid for nats-server', async (t) => {
  const root = testDir(t);
  const state = join(root, 'var/lib/fleetban');
  mkdirSync(join(state, 'nats'), { recursive: true });
  writeFileSync(join(state, 'nats/authorization.conf'), '');
  mkdirSync(join(root, 'etc/fleetban'), { recursive: true });
  for (const i of [1, 2, 3]) {
    const text = readFileSync(new URL(`../deploy/nats-cluster/nats-${i}.conf`, import.meta.url), 'utf8');
    t.match(text, new RegExp(`^server_name: nats-${i}$`, 'm'), `nats-${i}.conf names its server`);
    t.match(text, /nats-route:\/\/10\.0\.0\.1:6222[\s\S]*10\.0\.0\.2:6222[\s\S]*10\.0\.0\.3:6222/, 'it routes to the three nodes');
    // installed under a test root, as /etc/fleetban/nats-server.conf with its state under /var/lib/fleetban
    const copy = join(root, 'etc/fleetban/nats-server.conf');
    writeFileSync(copy, text.replaceAll('"/var/lib/fleetban', `"${state}`));
    execFileSync('nats-server', ['-t', '-c', copy], { stdio: 'pipe' });
    t.pass(`nats-server -t accepts nats-${i}.conf`);
  }
  const fleet = parseConfig(readFileSync(new URL('../deploy/nats-cluster/fleetban.conf', import.meta.url), 'utf8'), 'fleetban.conf');
  t.same(fleet.fleet.servers, ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222', 'nats://10.0.0.3:4222'], 'fleetban.conf lists the three servers');
  t.equal(fleet.controller.replicas, 3, 'and replicas = 3');
});

t.test('an existing R1 events stream is moved to R3; an existing R1 bucket is kept with a warning naming it', async (t) => {
  const dir = testDir(t, {});
  const cluster = await startNatsCluster(t, 3);
  const nc = await connect({ servers: [...cluster.urls], name: 'cluster-test' });
  t.teardown(() => nc.close());
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: EVENTS_STREAM, subjects: ['fleetban.events.>'], num_replicas: 1 });
  const { Kvm } = await import('@nats-io/kv');
  await new Kvm(nc).create(HOSTS_BUCKET, { history: 1, replicas: 1 });
  const file = join(dir, 'ctl.conf');
  writeFileSync(file, `[fleetban]\nhost = ctl\nnats = ${cluster.urls.join(' ')}\nstate_dir = ${join(dir, 'ctl')}\n\n[controller]\nreplicas = 3\n\n[sshd]\nenabled = true\n`);
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', file]);
  // R3 streams created by a 3-node cluster: slow on a loaded machine (bounded)
  await controller.waitForMsg('controller ready', 90_000);
  t.equal((await jsm.streams.info(EVENTS_STREAM)).config.num_replicas, 3, 'the events stream was updated to R3');
  t.equal((await jsm.streams.info(`KV_${HOSTS_BUCKET}`)).config.num_replicas, 1, 'the hosts bucket keeps R1');
  const warning = await controller.waitFor((e) => e.bucket === HOSTS_BUCKET, 5_000, 'replica warning');
  t.same([warning.level, warning.replicas, warning.wanted], [40, 1, 3], 'warned: bucket, its replicas and the wanted count');
  t.notOk(controller.entries.some((e) => e.stream === EVENTS_STREAM && e.level === 40), 'no warning about the events stream');
  await controller.stop('SIGTERM');
});
