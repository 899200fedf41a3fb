// NATS permissions confine each host: with the per-host nkey members whose permissions
// hostPermissions() describes, a real agent reports its failures and follows the ban list, while a
// compromised host holding those same credentials cannot ban, unban, speak for another host, touch
// the streams, or read other clients' replies and deliveries.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { connect, nkeyAuthenticator } from '@nats-io/transport-node';
import {
  adminRequest,
  adminSubject,
  authorizationFile,
  BanList,
  connectFleet,
  decodeAdminReply,
  encodeAdminRequest,
  encodeFailure,
  type FleetConfig,
  jetstream,
  Membership,
  natsPidFile,
  parseConfig,
  publishFailure,
  readSeedFile,
  renderAuthorization,
  seedFile,
  silentLogger,
} from '@fleetban/shared';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { startNatsServer } from './fixtures/nats-server.js';

/** Enrolls the controller, the admin and `hosts` in `<dir>/members`; returns that state directory. */
function enrollFleet(dir: string, hosts: string[]): string {
  const state = join(dir, 'members');
  const m = Membership.open(state);
  m.enroll('controller', 'controller');
  m.enroll('admin', 'admin');
  for (const h of hosts) m.enroll(h, 'host');
  return state;
}

/** A host's (or the controller's) configuration: its own state dir, its seed named by nats_nkey. */
function writeConf(dir: string, url: string, host: string, seed: string): string {
  const file = join(dir, `${host}.conf`);
  writeFileSync(
    file,
    `[fleetban]\nhost = ${host}\nnats = ${url}\nnats_nkey = ${seed}\nstate_dir = ${join(dir, host)}\n\n` +
      `[agent]\nenforcer = dry-run\nheartbeat = 1s\npoll = 20ms\n\n[DEFAULT]\nmaxretry = 2\nbantime = 1h\n\n` +
      `[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n`,
  );
  return file;
}

/** The `[fleetban]` section of a client holding `seed`. */
function fleetWith(url: string, host: string, seed: string, stateDir: string): FleetConfig {
  return parseConfig(`[fleetban]\nhost = ${host}\nnats = ${url}\nnats_nkey = ${seed}\nstate_dir = ${stateDir}\n`, '').fleet;
}

t.test('per-host NATS permissions: enough to work, not enough to harm', async (t) => {
  const dir = testDir(t, { 'auth.log': '' });
  const state = enrollFleet(dir, ['web-1', 'web-2']);
  const nats = await startNatsServer(t, { config: renderAuthorization(Membership.open(state).members) });
  const conf = (host: string, member = host) => writeConf(dir, nats.url, host, seedFile(state, member));
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf('ctl', 'controller')]);
  await controller.waitForMsg('controller ready');
  const agent = FleetbanProcess.start(t, 'web-1', ['agent', '-c', conf('web-1')]);
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
    const fleet = fleetWith(nats.url, 'web-1', seedFile(state, 'web-1'), dir);
    const nc = await connectFleet(fleet, { name: 'compromised', role: 'agent', logger: silentLogger(), waitOnFirstConnect: false });
    t.teardown(() => nc.close());
    const list = await BanList.open(nc, false);
    t.same((await list.all()).map((b) => b.ip), ['203.0.113.77'], 'it can read the ban list');
    const bogus = { ip: '0.0.0.0/0', jail: 'sshd', atMs: Date.now(), expiresMs: 0, reason: 'manual' as const, banCount: 1, hosts: [], matches: [], failures: 0, scope: [] };
    await t.rejects(list.put(bogus), 'cannot write a ban');
    await t.rejects(list.remove('203.0.113.77'), 'cannot delete a ban');
    await t.rejects(adminRequest(nc, { verb: 'unban', jail: '', ip: '203.0.113.77', bantimeMs: 0 }, 1000), 'cannot ask the controller to unban');
    await t.rejects(adminRequest(nc, { verb: 'ban', jail: '', ip: '192.0.2.1', bantimeMs: 0 }, 1000), 'cannot ask the controller to ban');
    await t.rejects(adminRequest(nc, { verb: 'unban', jail: '', ip: '', bantimeMs: 0, all: true }, 1000), 'cannot ask the controller to lift every ban');
    const cli = await runFleetban(['unban', '--all', '-c', join(dir, 'web-1.conf')]);
    t.equal(cli.code, 1, 'fleetban unban --all with the host\'s credentials fails');
    t.match(cli.stderr, /these credentials may not ask 'unban' \(NATS permissions/, 'and says why: its key may not');
    const all = await nc.request(adminSubject('status'), encodeAdminRequest({ verb: 'unban', jail: '', ip: '', bantimeMs: 0, all: true }), { timeout: 1000 });
    t.match(decodeAdminReply(all.data), { ok: false }, 'an unban of every ban sent on the status subject is refused');
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
    const hosts = await runFleetban(['hosts', '--json', '-c', join(dir, 'web-1.conf')]);
    t.equal(hosts.code, 0, 'fleetban hosts runs with the host\'s credentials');
    t.ok((JSON.parse(hosts.stdout) as { hosts: { host: string }[] }).hosts.some((h) => h.host === 'web-1'), 'and lists the fleet');
    await t.rejects(nc.request('$JS.API.STREAM.DELETE.KV_fleetban_bans', new Uint8Array(), { timeout: 1000 }), 'cannot delete the ban list');
    await t.rejects(nc.request('$JS.API.STREAM.PURGE.FLEETBAN_EVENTS', new Uint8Array(), { timeout: 1000 }), 'cannot purge the events');
    // the controller's snapshots hold every host's windows (their log lines): not a host's to read or forge
    await t.rejects(nc.request('$JS.API.STREAM.MSG.GET.FLEETBAN_SNAPSHOTS', new TextEncoder().encode('{"last_by_subj":"fleetban.snapshot.head"}'), { timeout: 1000 }), 'cannot read the snapshot');
    await t.rejects(jetstream(nc).publish('fleetban.snapshot.head', new TextEncoder().encode('{}'), { timeout: 1000 }), 'cannot write a snapshot head');
    const adminFleet = fleetWith(nats.url, 'ctl', seedFile(state, 'admin'), dir);
    const admin = await connectFleet(adminFleet, { name: 'admin', role: 'admin', logger: silentLogger(), waitOnFirstConnect: false });
    t.teardown(() => admin.close());
    const still = await adminRequest(admin, { verb: 'banned', jail: '', ip: '', bantimeMs: 0 });
    t.same(still.bans.map((b) => b.ip), ['203.0.113.77'], 'the ban list is as the controller left it');
  });

  await t.test('a host cannot read the controller\'s or another host\'s inbox', async (t) => {
    const nc = await connect({ servers: nats.url, name: 'snooper', authenticator: nkeyAuthenticator(readSeedFile(seedFile(state, 'web-1'))) });
    t.teardown(() => nc.close());
    for (const subject of ['_INBOX.>', '_INBOX_web-2.>', '_INBOX_web-10.>', '>']) {
      const closed = await nc.subscribe(subject).closed;
      t.match(closed, { name: 'PermissionViolationError', operation: 'subscription', subject }, `subscribing to ${subject} is a permission violation`);
    }
    const own = nc.subscribe('_INBOX_web-1.probe');
    await nc.flush();
    t.notOk(own.isClosed(), 'its own inbox it may subscribe to');
    t.notOk(agent.output.some((l) => /Permissions Violation/.test(l)), 'the agent, on _INBOX_web-1, never hit a permission it lacks');
    t.notOk(agent.entries.some((e) => e.msg === 'nats error'), 'and had no NATS error');
  });

  await agent.stop('SIGTERM');
  await controller.stop('SIGTERM');
});

t.test('under host permissions, an agent started before the controller protects locally, then follows the ban list', async (t) => {
  const dir = testDir(t, { 'auth.log': '' });
  const state = enrollFleet(dir, ['web-2']);
  const nats = await startNatsServer(t, { config: renderAuthorization(Membership.open(state).members) });
  const conf = (host: string, member = host) => writeConf(dir, nats.url, host, seedFile(state, member));
  const agent = FleetbanProcess.start(t, 'web-2', ['agent', '-c', conf('web-2')]);
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
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf('ctl', 'controller')]);
  const reconciled = await following;
  t.equal(reconciled.localBans, 1, 'the first reconcile keeps the local ban');
  await agent.waitForMsg('ban list found: following it');
  await heard;
  const ban = await controller.waitFor((e) => e.msg === 'ban' && e.ip === '203.0.113.88', 30_000, 'the controller banning');
  t.same(ban.hosts, ['web-2'], 'the spooled failures reached the controller');
  const fleet = fleetWith(nats.url, 'web-2', seedFile(state, 'web-2'), dir);
  const nc = await connectFleet(fleet, { name: 'status', role: 'admin', logger: silentLogger(), waitOnFirstConnect: false });
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

t.test('the sample nats-server.conf in deploy/ is valid, includes the rendered members and writes the pid file enroll signals', async (t) => {
  const sample = new URL('../deploy/nats-server.conf', import.meta.url).pathname;
  const text = readFileSync(sample, 'utf8');
  const stateDir = '/var/lib/fleetban';
  t.ok(text.includes(`include "../..${authorizationFile(stateDir)}"`), 'it includes the authorization file fleetban enroll renders (relative to /etc/fleetban)');
  t.ok(text.includes(`pid_file: "${natsPidFile(stateDir)}"`), 'its pid file is where fleetban enroll looks for the server');
  t.match(text, /^# tls \{/m, 'it shows the server TLS block (commented)');
  // the same file installed under a test root: <root>/etc/fleetban/nats-server.conf, the fleet's
  // state in <root>/var/lib/fleetban with a rendered authorization file
  const root = testDir(t);
  const state = join(root, 'var/lib/fleetban');
  const m = Membership.open(state);
  m.enroll('controller', 'controller');
  m.enroll('web-1', 'host');
  mkdirSync(join(root, 'etc/fleetban'), { recursive: true });
  const installed = text.replaceAll(`"${stateDir}`, `"${state}`);
  const copy = join(root, 'etc/fleetban/nats-server.conf');
  writeFileSync(copy, installed);
  execFileSync('nats-server', ['-t', '-c', copy], { stdio: 'ignore' });
  t.pass('nats-server -t accepts it, with the include');
  const tlsOn = join(root, 'etc/fleetban/nats-server-tls.conf');
  writeFileSync(tlsOn, installed.replace(/^# (tls \{|  [a-z_]+: |\})/gm, '$1'));
  t.match(readFileSync(tlsOn, 'utf8'), /^tls \{/m);
  const tlsCheck = (() => {
    try {
      execFileSync('nats-server', ['-t', '-c', tlsOn], { stdio: 'pipe' });
      return '';
    } catch (err) {
      return String((err as { stderr?: Buffer }).stderr ?? err);
    }
  })();
  t.match(tlsCheck, /\/etc\/fleetban\/tls/, 'uncommented, the TLS block parses and names the certificate files it would load');
});
