// NATS permissions confine each host: with the per-host users that hostPermissions() describes,
// a real agent reports its failures and follows the ban list, while a compromised host holding
// those same credentials cannot ban, unban, speak for another host or touch the streams.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import t from 'tap';
import {
  adminRequest,
  adminSubject,
  BanList,
  connectFleet,
  decodeAdminReply,
  encodeAdminRequest,
  encodeFailure,
  type FleetConfig,
  jetstream,
  natsAuthorization,
  publishFailure,
  silentLogger,
} from '@fleetban/shared';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { startNatsServer } from './fixtures/nats-server.js';

t.test('per-host NATS permissions: enough to work, not enough to harm', async (t) => {
  const dir = t.testdir({ 'auth.log': '' });
  const users = [
    { user: 'controller', password: 'ctl-secret' },
    { user: 'web-1', password: 'web-1-secret', host: 'web-1' },
    { user: 'web-2', password: 'web-2-secret', host: 'web-2' },
  ];
  const nats = await startNatsServer(t, { config: natsAuthorization(users) });
  const conf = (host: string, user: string, password: string, extra = '') => {
    const file = join(dir, `${host}.conf`);
    writeFileSync(
      file,
      `[fleetban]\nhost = ${host}\nnats = ${nats.url}\nnats_user = ${user}\nnats_password = ${password}\nstate_dir = ${join(dir, host)}\n\n` +
        `[agent]\nenforcer = dry-run\nheartbeat = 1s\npoll = 20ms\n\n[DEFAULT]\nmaxretry = 2\nbantime = 1h\n\n` +
        `[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n${extra}`,
    );
    return file;
  };
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf('ctl', 'controller', 'ctl-secret')]);
  await controller.waitForMsg('controller ready');
  const agent = FleetbanProcess.start(t, 'web-1', ['agent', '-c', conf('web-1', 'web-1', 'web-1-secret')]);
  await agent.waitForMsg('agent ready');

  await t.test('the agent reports, heartbeats and enforces with its own permissions', async (t) => {
    const enforced = agent.waitForNext((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes('203.0.113.77'));
    appendFileSync(
      join(dir, 'auth.log'),
      'Nov 21 12:00:00 web-1 sshd[10]: Failed password for root from 203.0.113.77 port 40000 ssh2\n' +
        'Nov 21 12:00:01 web-1 sshd[10]: Failed password for root from 203.0.113.77 port 40002 ssh2\n',
    );
    await enforced;
    const ban = await controller.waitForMsg('ban');
    t.same(ban.hosts, ['web-1'], 'the controller banned on web-1\'s report');
    await controller.waitFor((e) => e.msg === 'ban' && e.ip === '203.0.113.77');
    t.notOk(agent.output.some((l) => /Permissions Violation/.test(l)), 'the agent never hit a permission it lacks');
    t.notOk(agent.entries.some((e) => e.msg === 'nats error'), 'no NATS error at all (opening the ban list, hearing the controller liveness)');
  });

  await t.test('a compromised host cannot ban, unban, impersonate or destroy', async (t) => {
    const fleet: FleetConfig = { host: 'web-1', servers: [nats.url], user: 'web-1', password: 'web-1-secret', token: '', creds: '', stateDir: dir };
    const nc = await connectFleet(fleet, { name: 'compromised', logger: silentLogger(), waitOnFirstConnect: false });
    t.teardown(() => nc.close());
    const list = await BanList.open(nc, false);
    t.same((await list.all()).map((b) => b.ip), ['203.0.113.77'], 'it can read the ban list');
    const bogus = { ip: '0.0.0.0/0', jail: 'sshd', atMs: Date.now(), expiresMs: 0, reason: 'manual' as const, banCount: 1, hosts: [], matches: [], failures: 0 };
    await t.rejects(list.put(bogus), 'cannot write a ban');
    await t.rejects(list.remove('203.0.113.77'), 'cannot delete a ban');
    await t.rejects(adminRequest(nc, { verb: 'unban', jail: '', ip: '203.0.113.77', bantimeMs: 0 }, 1000), 'cannot ask the controller to unban');
    await t.rejects(adminRequest(nc, { verb: 'ban', jail: '', ip: '192.0.2.1', bantimeMs: 0 }, 1000), 'cannot ask the controller to ban');
    // the read-only subjects it may use carry a verb in their body too: that verb must not be obeyed
    const smuggled = async (subject: string, verb: 'ban' | 'unban', ip: string) => decodeAdminReply((await nc.request(subject, encodeAdminRequest({ verb, jail: '', ip, bantimeMs: 0 }), { timeout: 1000 })).data);
    t.match(await smuggled(adminSubject('status'), 'unban', '203.0.113.77'), { ok: false }, 'an unban sent on the status subject is refused');
    t.match(await smuggled(adminSubject('banned'), 'ban', '192.0.2.1'), { ok: false }, 'a ban sent on the banned subject is refused');
    const forged = { id: 'forged-1', host: 'web-2', jail: 'sshd', ip: '198.51.100.9', timeMs: Date.now(), user: 'root', line: 'forged' };
    await t.rejects(publishFailure(jetstream(nc), forged), 'cannot report failures as web-2');
    const dropped = controller.waitForNext((e) => e.msg === 'event host does not match its subject: dropped');
    await jetstream(nc).publish('fleetban.events.web-1.sshd', encodeFailure({ ...forged, id: 'forged-2' }));
    await dropped;
    t.pass('a failure naming web-2 sent on web-1\'s own subject is dropped by the controller');
    const status = await adminRequest(nc, { verb: 'status', jail: '', ip: '', bantimeMs: 0 });
    t.ok(status.hosts.some((h) => h.host === 'web-1'), 'it may read the status (read-only verbs)');
    await t.rejects(nc.request('$JS.API.STREAM.DELETE.KV_fleetban_bans', new Uint8Array(), { timeout: 1000 }), 'cannot delete the ban list');
    await t.rejects(nc.request('$JS.API.STREAM.PURGE.FLEETBAN_EVENTS', new Uint8Array(), { timeout: 1000 }), 'cannot purge the events');
    const ctlFleet = { ...fleet, user: 'controller', password: 'ctl-secret' };
    const admin = await connectFleet(ctlFleet, { name: 'admin', logger: silentLogger(), waitOnFirstConnect: false });
    t.teardown(() => admin.close());
    const still = await adminRequest(admin, { verb: 'banned', jail: '', ip: '', bantimeMs: 0 });
    t.same(still.bans.map((b) => b.ip), ['203.0.113.77'], 'the ban list is as the controller left it');
  });

  await agent.stop('SIGTERM');
  await controller.stop('SIGTERM');
});

t.test('under host permissions, an agent started before the controller protects locally, then follows the ban list', async (t) => {
  const dir = t.testdir({ 'auth.log': '' });
  const users = [
    { user: 'controller', password: 'ctl-secret' },
    { user: 'web-2', password: 'web-2-secret', host: 'web-2' },
  ];
  const nats = await startNatsServer(t, { config: natsAuthorization(users) });
  const conf = (host: string, user: string, password: string) => {
    const file = join(dir, `${host}.conf`);
    writeFileSync(
      file,
      `[fleetban]\nhost = ${host}\nnats = ${nats.url}\nnats_user = ${user}\nnats_password = ${password}\nstate_dir = ${join(dir, host)}\n\n` +
        `[agent]\nenforcer = dry-run\nheartbeat = 1s\npoll = 20ms\n\n[DEFAULT]\nmaxretry = 2\nbantime = 1h\n\n` +
        `[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n`,
    );
    return file;
  };
  const agent = FleetbanProcess.start(t, 'web-2', ['agent', '-c', conf('web-2', 'web-2', 'web-2-secret')]);
  await agent.waitForMsg('ban list not there yet: waiting for the controller to create it (protecting locally meanwhile)');
  await agent.waitForMsg('agent ready');
  await agent.waitForMsg('fleet unreachable: deciding locally with the jail thresholds', 15_000, { why: 'no controller liveness' });
  const local = agent.waitForNext((e) => e.msg === 'local ban' && e.ip === '203.0.113.88');
  appendFileSync(
    join(dir, 'auth.log'),
    'Nov 21 12:00:00 web-2 sshd[10]: Failed password for root from 203.0.113.88 port 40000 ssh2\n' +
      'Nov 21 12:00:01 web-2 sshd[10]: Failed password for root from 203.0.113.88 port 40002 ssh2\n',
  );
  t.match(await local, { jail: 'sshd', failures: 2 }, 'maxretry reached with no controller: banned locally');
  const following = agent.waitForNext((e) => e.msg === 'firewall reconciled' && e.why === 'start', 30_000, 'the follower starting');
  const heard = agent.waitForNext((e) => e.msg === 'fleet reachable: the controller decides again', 30_000, 'the liveness heard');
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf('ctl', 'controller', 'ctl-secret')]);
  const reconciled = await following;
  t.equal(reconciled.localBans, 1, 'the first reconcile keeps the local ban');
  await agent.waitForMsg('ban list found: following it');
  await heard;
  const ban = await controller.waitFor((e) => e.msg === 'ban' && e.ip === '203.0.113.88', 30_000, 'the controller banning');
  t.same(ban.hosts, ['web-2'], 'the spooled failures reached the controller');
  const fleet: FleetConfig = { host: 'web-2', servers: [nats.url], user: 'web-2', password: 'web-2-secret', token: '', creds: '', stateDir: dir };
  const nc = await connectFleet(fleet, { name: 'status', logger: silentLogger(), waitOnFirstConnect: false });
  t.teardown(() => nc.close());
  let seen: Record<string, unknown> | undefined;
  for (let i = 0; i < 100; i++) {
    seen = (await adminRequest(nc, { verb: 'status', jail: '', ip: '', bantimeMs: 0 })).hosts.find((h) => h.host === 'web-2') as Record<string, unknown> | undefined;
    if (seen?.banned === 1 && seen.fallback === false) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  t.match(seen, { banned: 1, fallback: false, localBans: 1 }, 'its heartbeat: the fleet ban followed, no longer in fallback, the local ban still held');
  t.notOk(agent.output.some((l) => /Permissions Violation/.test(l)), 'no permission violation');
  t.notOk(agent.entries.some((e) => e.msg === 'nats error'), 'no NATS error while waiting for the ban list or hearing the liveness');
  await agent.stop('SIGTERM');
  await controller.stop('SIGTERM');
});

t.test('the sample nats-server.conf in deploy/ is valid and grants hosts exactly hostPermissions()', async (t) => {
  const sample = new URL('../deploy/nats-server.conf', import.meta.url).pathname;
  execFileSync('nats-server', ['-t', '-c', sample], { stdio: 'ignore' });
  t.pass('nats-server -t accepts it');
  const text = readFileSync(sample, 'utf8');
  t.ok(text.includes(natsAuthorization([{ user: 'web-1', password: 'change-me-web-1', host: 'web-1' }]).split('\n')[2]!.trim()), 'the web-1 user line is what natsAuthorization() writes');
});
