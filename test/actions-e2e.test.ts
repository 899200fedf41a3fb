// Actions end to end, from a log line to the edge: an agent reads sshd failure lines whose user
// name is `$(touch FILE)`, the controller bans the address and runs the jail's actions, as a
// fail2ban user writes them, from the config file: a user's own Cloudflare action (curl + jq
// through a shell, its _cf_url overridden in the jail), Debian's own cloudflare.conf, and a
// command action made here that echoes <F-USER> and <matches>. A local HTTP server checks each
// request on ban and on unban; FILE is never created.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { fail2banPackage } from './fixtures/fail2ban-package.js';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';
import { recordingServer } from '../packages/shared/test/fixtures/recording-server.js';

const USER_ACTION = new URL('../packages/shared/test/fixtures/action.d/cloudflare-firewall.conf', import.meta.url);

t.test('a failure line with a hostile user name: banned, every action runs with it escaped, nothing runs from it', async (t) => {
  const dir = testDir(t, {});
  const planted = join(dir, 'planted');
  const out = join(dir, 'noted.txt');
  const actionDir = join(dir, 'action.d');
  mkdirSync(actionDir);
  copyFileSync(USER_ACTION, join(actionDir, 'cloudflare-firewall.conf'));
  writeFileSync(join(actionDir, 'note-user.conf'), `[Definition]\nactionban = echo ban <F-USER> >> <out>; echo <matches> >> <out>\nactionunban = echo unban <ip> >> <out>\n[Init]\nout = ${out}\n`);

  // a Cloudflare stand-in: records every request; the rule id it returns is what unban deletes
  const cf = await recordingServer((r) => (r.method === 'GET' ? { status: 200, body: JSON.stringify({ success: true, result: [{ id: 'rule-7' }] }) } : { status: 200, body: '{"success":true}' }));
  t.teardown(() => cf.close());
  const debianActions = join(fail2banPackage().etc, 'action.d');
  const nats = await startNatsServer(t);
  const common = { nats: nats.url, dir, maxretry: 2, bantime: '1h' };
  const actions =
    `action = cloudflare-firewall[_cf_url="${cf.url}/rules"]\n` +
    `         cloudflare[cfuser="ops@example.com", cftoken="cf-key", _cf_api_url="${cf.url}/client/v4/user/firewall/access_rules/rules"]\n` +
    '         note-user\n';
  const ctlConf = writeTestConfig({ ...common, host: 'ctl', fleetExtra: `action_path = ${actionDir} ${debianActions}`, extra: actions });
  const agentConf = writeTestConfig({ ...common, host: 'web-1', enforcer: 'dry-run' });
  const log = join(dir, 'web-1', 'sshd.log');
  writeFileSync(log, '');
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', ctlConf]);
  await controller.waitForMsg('controller ready', 30_000);
  const agent = FleetbanProcess.start(t, 'web-1', ['agent', '-c', agentConf]);
  await agent.waitForMsg('agent ready', 30_000);

  const ip = '203.0.113.61';
  const hostile = `$(touch ${planted})`;
  appendFileSync(
    log,
    `Nov 21 12:00:00 web-1 sshd[10]: Invalid user ${hostile} from ${ip} port 40000\n` +
      `Nov 21 12:00:01 web-1 sshd[11]: Invalid user ${hostile} from ${ip} port 40002\n`,
  );
  const ban = await controller.waitFor((e) => e.msg === 'ban' && e.ip === ip, 30_000, `the ban of ${ip}`);
  t.match(ban, { jail: 'sshd', failures: 2, hosts: ['web-1'] }, 'two failures on web-1: banned');

  await waitUntil(async () => cf.requests.filter((r) => r.method === 'POST').length === 2 && existsSync(out) && readFileSync(out, 'utf8').includes('Invalid user'), 'the three actions on ban').catch((err: unknown) => {
    t.comment(JSON.stringify(cf.requests.map((r) => [r.method, r.url])), existsSync(out) ? readFileSync(out, 'utf8') : 'no out', controller.entries.filter((e) => (e.level ?? 0) >= 40 || String(e.stage) === 'actions').map((e) => JSON.stringify(e)).join('\n'));
    throw err;
  });
  const posts = cf.requests.filter((r) => r.method === 'POST');
  const user = posts.find((r) => r.url === '/rules');
  t.equal(user?.headers.authorization, 'Bearer TOKEN', "the user's action: its headers");
  t.same(JSON.parse(user?.body ?? '{}'), { mode: 'block', configuration: { target: 'ip', value: ip }, notes: 'jail sshd' }, "the user's action: its body");
  const debian = posts.find((r) => r.url === '/client/v4/user/firewall/access_rules/rules');
  t.match(debian?.headers, { 'x-auth-email': 'ops@example.com', 'x-auth-key': 'cf-key' }, "Debian's cloudflare.conf: its headers");
  t.same(JSON.parse(debian?.body ?? '{}'), { mode: 'block', configuration: { target: 'ip', value: ip }, notes: 'Fail2Ban sshd' }, "Debian's cloudflare.conf: its body");
  const noted = readFileSync(out, 'utf8');
  t.match(noted, `ban ${hostile}`, 'the command action echoed the user name as text');
  t.match(noted, `Invalid user ${hostile} from ${ip}`, 'and the matched lines');
  t.notOk(existsSync(planted), 'the $(touch ...) in the log line never ran');

  const unbanned = await runFleetban(['unban', ip, '-c', ctlConf]);
  t.equal(unbanned.code, 0, unbanned.stderr);
  await waitUntil(async () => cf.requests.filter((r) => r.method === 'DELETE').length === 2 && readFileSync(out, 'utf8').includes(`unban ${ip}`), 'the three actions on unban');
  const gets = cf.requests.filter((r) => r.method === 'GET').map((r) => r.url);
  t.ok(gets.some((u) => u === `/rules?mode=block&configuration_target=ip&configuration_value=${ip}`), "the user's unban looked the rule up");
  t.same(cf.requests.filter((r) => r.method === 'DELETE').map((r) => r.url).sort(), ['/client/v4/user/firewall/access_rules/rules/rule-7', '/rules/rule-7'], 'and both Cloudflare actions deleted the rule found');
  t.notOk(existsSync(planted), 'still nothing ran from the log line');
  await agent.stop('SIGTERM');
  await controller.stop('SIGTERM');
});
