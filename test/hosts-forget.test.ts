// A host that has left the fleet is forgotten: `fleetban hosts --forget NAME` (admin credentials
// only) makes the controller delete its record, so it leaves `fleetban hosts` and its address can
// be banned again, by the controller and by the agents that follow the hosts bucket. A real
// nats-server with one nkey per member, a real controller and two real agents (dry-run enforcers:
// no firewall is touched); the forgotten host declares a documentation address as its own.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Membership, renderAuthorization, seedFile } from '@fleetban/shared';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { testDir } from './fixtures/test-dir.js';
import { waitUntil } from './fixtures/wait-until.js';

/** The address web-1 declares (`[fleetban] addresses`): protected while web-1 is a fleet host. */
const WEB1_ADDRESS = '198.51.100.77';

interface HostsJson {
  hosts: { host: string }[];
}

t.test('fleetban hosts --forget: a removed host leaves the list and its address may be banned', async (t) => {
  const dir = testDir(t, { 'web-1': { 'sshd.log': '' }, 'web-2': { 'sshd.log': '' } });
  const state = join(dir, 'ctl');
  const members = Membership.open(state);
  for (const [name, role] of [['controller', 'controller'], ['admin', 'admin'], ['web-1', 'host'], ['web-2', 'host']] as const) members.enroll(name, role);
  const nats = await startNatsServer(t, { config: renderAuthorization(Membership.open(state).members) });

  // the controller host's file: the controller's seed, and the admin's for the command line
  const ctlConf = writeTestConfig({ host: 'ctl', nats: nats.url, dir, fleetExtra: `nats_nkey = ${seedFile(state, 'controller')}\nadmin_nkey = ${seedFile(state, 'admin')}` });
  const hostConf = (h: string, extra = '') =>
    writeTestConfig({ host: h, nats: nats.url, dir, enforcer: 'dry-run', bantime: '1h', fleetExtra: `nats_nkey = ${seedFile(state, h)}\n${extra}` });
  const web1Conf = hostConf('web-1', `addresses = ${WEB1_ADDRESS}`);
  const web2Conf = hostConf('web-2');

  const startController = () => FleetbanProcess.start(t, 'controller', ['controller', '-c', ctlConf]);
  let controller = startController();
  await controller.waitForMsg('controller ready');
  const web1 = FleetbanProcess.start(t, 'web-1', ['agent', '-c', web1Conf]);
  const web2 = FleetbanProcess.start(t, 'web-2', ['agent', '-c', web2Conf]);
  await Promise.all([web1.waitForMsg('agent ready'), web2.waitForMsg('agent ready')]);
  await controller.waitFor((e) => e.msg === 'fleet host recorded' && e.host === 'web-1' && Array.isArray(e.addresses) && e.addresses.includes(WEB1_ADDRESS), 15_000, "web-1's record");

  const admin = (...args: string[]) => runFleetban([...args, '-c', ctlConf]);
  const listed = async () => ((JSON.parse((await admin('hosts', '--json')).stdout) as HostsJson).hosts.map((h) => h.host));
  // what web-2 keeps of the fleet's addresses (followed from the hosts bucket, saved in its state_dir)
  const web2Knows = (): Record<string, string[]> => {
    const file = join(dir, 'web-2', 'fleet-addresses.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string[]>) : {};
  };

  await t.test('a fleet host is listed and protected', async (t) => {
    await waitUntil(async () => (await listed()).includes('web-2'), 'web-2 in fleetban hosts');
    t.same(await listed(), ['web-1', 'web-2'], 'fleetban hosts lists both');
    const ban = await admin('ban', WEB1_ADDRESS);
    t.equal(ban.code, 1, "a ban of web-1's address is refused");
    t.match(ban.stderr, /a fleet host's address/, ban.stderr.trim());
    await waitUntil(async () => (web2Knows()['web-1'] ?? []).includes(WEB1_ADDRESS), "web-2 following web-1's addresses");
    t.pass("web-2 never bans web-1's address either");
  });

  await t.test("a host's credentials may not forget a host", async (t) => {
    const r = await runFleetban(['hosts', '--forget', 'web-2', '-c', web1Conf]);
    t.equal(r.code, 1, 'refused');
    t.match(r.stderr, /these credentials may not ask 'forget' \(NATS permissions/, r.stderr.trim());
    t.same(await listed(), ['web-1', 'web-2'], 'nothing was forgotten');
  });

  await t.test('a host heard from recently is forgotten only with --force', async (t) => {
    t.equal(await web1.stop('SIGTERM'), 0, "web-1's agent stopped");
    const r = await admin('hosts', '--forget', 'web-1');
    t.equal(r.code, 1, 'refused without --force');
    t.match(r.stderr, /web-1 sent a heartbeat \d+s ago and may still be running: .*fleetban enroll --remove web-1.*60s old, or now with --force/, r.stderr.trim());
    t.same(await listed(), ['web-1', 'web-2'], 'web-1 is still listed');

    const forced = await admin('hosts', '--forget', 'web-1', '--force');
    t.equal(forced.code, 0, forced.stderr);
    t.match(forced.stdout, new RegExp(`^forgot web-1 \\(last heartbeat \\d+s ago\\); its addresses are no longer protected from bans: .*${WEB1_ADDRESS.replaceAll('.', '\\.')}`), forced.stdout.trim());
    await controller.waitForMsg('fleet host forgotten by admin', 5_000, { host: 'web-1' });
    t.same(await listed(), ['web-2'], 'web-1 is gone from fleetban hosts');
  });

  await t.test("its address may now be banned, and every agent enforces the ban", async (t) => {
    await web2.waitForMsg('fleet host forgotten: its addresses are no longer protected', 15_000, { host: 'web-1' });
    t.notOk('web-1' in web2Knows(), "web-2's saved fleet addresses no longer hold web-1");
    const ban = await admin('ban', WEB1_ADDRESS);
    t.equal(ban.code, 0, `accepted: ${ban.stdout.trim()}${ban.stderr.trim()}`);
    await web2.waitFor((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes(WEB1_ADDRESS), 15_000, 'web-2 enforcing the ban');
    t.notOk(web2.entries.some((e) => e.ip === WEB1_ADDRESS && String(e.msg).startsWith('ban refused by this host')), "web-2's guard did not refuse it");
  });

  await t.test('an unknown host is an error; a restarted controller does not bring web-1 back', async (t) => {
    for (const name of ['web-1', 'no-such-host']) {
      const r = await admin('hosts', '--forget', name, '--force');
      t.equal(r.code, 1, `forget ${name}: exit code 1`);
      t.match(r.stderr, new RegExp(`no fleet host named ${name} \\(fleetban hosts lists them\\)`), r.stderr.trim());
    }
    t.equal((await admin('hosts', '--forget')).code, 2, 'no name: a usage error');
    t.equal((await admin('hosts', 'web-2')).code, 2, 'a name without --forget: a usage error');

    await controller.stop('SIGTERM');
    controller = startController();
    const loaded = await controller.waitForMsg('fleet addresses loaded: never banned');
    t.equal(loaded.hosts, 1, 'only web-2 is read back from the hosts bucket');
    await controller.waitForMsg('controller ready');
    t.same(await listed(), ['web-2']);
  });

  await web2.stop('SIGTERM');
  await controller.stop('SIGTERM');
});
