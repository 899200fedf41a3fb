// NATS permissions of the admin verbs added with get, set, reload, ignore and forget (`hosts
// --forget`): their subjects are granted to the admin identity only. A host's credentials (hostPermissions) cannot ask them, nor
// read or write the fleet's ignore list bucket; the admin's can, through the command line.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import {
  adminRequest,
  type AdminRequest,
  adminSubject,
  connectFleet,
  decodeAdminReply,
  encodeAdminRequest,
  hostPermissions,
  IGNORE_BUCKET,
  IgnoreList,
  Membership,
  parseConfig,
  renderAuthorization,
  seedFile,
  silentLogger,
} from '@fleetban/shared';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { startNatsServer } from './fixtures/nats-server.js';

const NEW_VERBS: readonly AdminRequest[] = [
  { verb: 'get', jail: 'sshd', ip: '', bantimeMs: 0, option: 'maxretry' },
  { verb: 'set', jail: 'sshd', ip: '', bantimeMs: 0, option: 'maxretry', value: '1' },
  { verb: 'reload', jail: '', ip: '', bantimeMs: 0 },
  { verb: 'ignore', jail: '', ip: '', bantimeMs: 0, op: 'add', networks: ['0.0.0.0/0'] },
  { verb: 'ignore', jail: '', ip: '', bantimeMs: 0, op: 'list' },
  { verb: 'forget', jail: '', ip: '', bantimeMs: 0, host: 'web-1', force: true },
];

t.test('hostPermissions grants none of the new admin subjects', async (t) => {
  const p = hostPermissions('web-1');
  for (const verb of ['get', 'set', 'reload', 'ignore', 'forget']) t.notOk(p.publish.includes(adminSubject(verb)), `a host may not publish on ${adminSubject(verb)}`);
  t.notOk(p.publish.some((s) => s.includes(IGNORE_BUCKET)), 'nor touch the ignore list bucket');
});

t.test('get, set, reload, ignore and forget: the admin may, a host may not', async (t) => {
  const dir = testDir(t, { 'auth.log': '' });
  const state = join(dir, 'members');
  const m = Membership.open(state);
  m.enroll('controller', 'controller');
  m.enroll('admin', 'admin');
  m.enroll('web-1', 'host');
  const nats = await startNatsServer(t, { config: renderAuthorization(Membership.open(state).members) });
  const conf = (host: string, member: string) => {
    const file = join(dir, `${host}.conf`);
    writeFileSync(
      file,
      `[fleetban]\nhost = ${host}\nnats = ${nats.url}\nnats_nkey = ${seedFile(state, member)}\nstate_dir = ${join(dir, host)}\n\n` +
        `[DEFAULT]\nmaxretry = 2\nbantime = 1h\n\n[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n`,
    );
    return file;
  };
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf('ctl', 'controller')]);
  await controller.waitForMsg('controller ready');
  const hostConf = conf('web-1', 'web-1');
  const adminConf = conf('admin', 'admin');
  const connect = async (host: string, member: string) => {
    const fleet = parseConfig(`[fleetban]\nhost = ${host}\nnats = ${nats.url}\nnats_nkey = ${seedFile(state, member)}\nstate_dir = ${dir}\n`, '').fleet;
    const nc = await connectFleet(fleet, { name: member, role: 'admin', logger: silentLogger(), waitOnFirstConnect: false });
    t.teardown(() => nc.close());
    return nc;
  };

  await t.test('a host\'s credentials', async (t) => {
    const nc = await connect('web-1', 'web-1');
    for (const req of NEW_VERBS) {
      await t.rejects(adminRequest(nc, req, 1000), { code: 'NATS_FAILED', message: new RegExp(`may not ask '${req.verb}'`) }, `cannot ask ${req.verb}${req.op ? ` ${req.op}` : ''}`);
    }
    // the read-only subjects it may use carry a verb in their body: a new verb there is not obeyed
    for (const req of NEW_VERBS) {
      const r = decodeAdminReply((await nc.request(adminSubject('status'), encodeAdminRequest(req), { timeout: 1000 })).data);
      t.match(r, { ok: false }, `${req.verb} sent on the status subject is refused`);
    }
    await t.rejects(IgnoreList.open(nc, false), 'cannot open the ignore list bucket');
    for (const argv of [['get', 'sshd', 'maxretry'], ['set', 'sshd', 'maxretry', '1'], ['reload'], ['ignore', 'list'], ['ignore', 'add', '0.0.0.0/0'], ['hosts', '--forget', 'web-1', '--force']]) {
      const r = await runFleetban([...argv, '-c', hostConf]);
      t.equal(r.code, 1, `fleetban ${argv.join(' ')} with the host's credentials fails`);
      const verb = argv[0] === 'hosts' ? 'forget' : argv[0];
      t.match(r.stderr, new RegExp(`these credentials may not ask '${verb}' \\(NATS permissions`), 'and says why');
    }
    const admin = await connect('admin', 'admin');
    t.match(await adminRequest(admin, NEW_VERBS[0]!), { options: [{ value: '2' }] }, 'nothing was changed by the refused requests');
    t.notOk((await adminRequest(admin, NEW_VERBS[4]!)).ignored?.length, 'the ignore list is still empty');
  });

  await t.test('the admin\'s credentials, through the command line', async (t) => {
    const set = await runFleetban(['set', 'sshd', 'maxretry', '3', '-c', adminConf]);
    t.equal(set.code, 0, 'set');
    t.equal(set.stdout, 'sshd.maxretry: 2 → 3\n');
    t.equal((await runFleetban(['get', 'sshd', 'maxretry', '-c', adminConf])).stdout, '3\n', 'get');
    t.equal((await runFleetban(['ignore', 'add', '192.0.2.0/24', '-c', adminConf])).code, 0, 'ignore add');
    t.match((await runFleetban(['ignore', 'list', '-c', adminConf])).stdout, /^192\.0\.2\.0\/24\s/m, 'ignore list');
    t.equal((await runFleetban(['ignore', 'del', '192.0.2.0/24', '-c', adminConf])).code, 0, 'ignore del');
    t.match((await runFleetban(['reload', '-c', adminConf])).stdout, /sshd\.maxretry: 3 → 2/, 'reload (the controller reads its own file)');
    const forget = await runFleetban(['hosts', '--forget', 'web-9', '-c', adminConf]);
    t.equal(forget.code, 1, 'hosts --forget of a host the controller does not know: exit code 1');
    t.match(forget.stderr, /no fleet host named web-9/, 'the controller answered the admin, and said why');
    t.notOk(controller.output.some((l) => /Permissions Violation/.test(l)), 'the controller never hit a permission it lacks (its ignore list bucket included)');
  });

  await controller.stop('SIGTERM');
});
