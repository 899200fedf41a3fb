// fail2ban-client's habits, fleet-wide: `fleetban version`, `fleetban hosts`, `fleetban unban
// --all [--jail J]`, `--help` on every command and `--json` on every command that prints data,
// run as the real command line against a real nats-server and controller.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { AGENT_VERSION } from '@fleetban/agent';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';

// many processes and CLI runs: minutes on a loaded 2-core machine (the suite's default is 180 s)
t.setTimeout(420_000);

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')) as { version: string }).version;

t.test('fleetban version and --version print the package version; --json an object', async (t) => {
  for (const argv of [['version'], ['--version']]) {
    const r = await runFleetban(argv);
    t.equal(r.code, 0, `${argv[0]} exits 0`);
    t.equal(r.stdout, `fleetban ${PACKAGE_VERSION}\n`, `${argv[0]} prints the version`);
  }
  const r = await runFleetban(['version', '--json']);
  t.equal(r.code, 0);
  t.same(JSON.parse(r.stdout), { version: PACKAGE_VERSION }, '--json: {"version": ...}');
  t.equal(PACKAGE_VERSION, AGENT_VERSION, 'the same version the agent sends in its heartbeats');
});

t.test('--help and -h on every command print its usage and exit 0, with no configuration read', async (t) => {
  const commands = ['up', 'agent', 'controller', 'status', 'hosts', 'ban', 'unban', 'banned', 'get', 'set', 'reload', 'ignore', 'enroll', 'regex', 'version', 'help'];
  const runs = await Promise.all(commands.flatMap((c) => [[c, '--help'], [c, '-h']].map(async (argv) => ({ argv, r: await runFleetban([...argv, '-c', '/nonexistent/fleetban.conf']) }))));
  for (const { argv, r } of runs) {
    t.equal(r.code, 0, `${argv.join(' ')} exits 0`);
    t.equal(r.stderr, '', `${argv.join(' ')} writes nothing to stderr`);
    t.match(r.stdout, new RegExp(`^usage: fleetban ${argv[0]}\\b`), `${argv.join(' ')} prints its own usage`);
  }
  const hostsHelp = runs.find((x) => x.argv[0] === 'hosts')!.r.stdout;
  t.equal((await runFleetban(['help', 'hosts'])).stdout, hostsHelp, 'fleetban help hosts prints the same');
  t.match((await runFleetban(['help', 'regex'])).stdout, /^usage: fleetban regex/, 'and help regex, regex\'s');
  const unknown = await runFleetban(['help', 'nope']);
  t.equal(unknown.code, 2, 'help of an unknown command is a usage error');
  const all = await runFleetban(['--help']);
  t.equal(all.code, 0);
  for (const c of commands) t.match(all.stdout, new RegExp(`^  ${c}\\b`, 'm'), `fleetban --help lists ${c}`);
});

/** What `fleetban hosts --json` prints. */
interface HostsJson {
  nowMs: number;
  hosts: { host: string; heartbeatAgeMs: number; version: string; backend: string; enforced: number; activeBans: number; drift: number; fallback: boolean; localBans: number }[];
}

t.test('against a controller and two dry-run agents', async (t) => {
  const dir = testDir(t, { 'web-1.log': '', 'web-2.log': '' });
  const nats = await startNatsServer(t);
  const conf = writeTestConfig({ host: 'ctl', nats: nats.url, dir, enforcer: 'dry-run', bantime: '1h' });
  const agentConf = (host: string) => writeTestConfig({ host, nats: nats.url, dir, enforcer: 'dry-run', bantime: '1h', logpath: join(dir, `${host}.log`) });
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf]);
  await controller.waitForMsg('controller ready');
  const agents = ['web-1', 'web-2'].map((h) => FleetbanProcess.start(t, h, ['agent', '-c', agentConf(h)]));
  await Promise.all(agents.map((a) => a.waitForMsg('agent ready')));
  const cli = async (...argv: string[]) => {
    const r = await runFleetban([...argv, '-c', conf]);
    if (r.code !== 0) t.comment(`fleetban ${argv.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r;
  };
  const hosts = async () => JSON.parse((await cli('hosts', '--json')).stdout) as HostsJson;
  /** Waits until both hosts' heartbeats say they enforce `n` bans of `n` active. */
  const enforcedEverywhere = (n: number) =>
    waitUntil(async () => {
      const h = (await hosts()).hosts;
      return h.length === 2 && h.every((x) => x.enforced === n && x.activeBans === n);
    }, `both hosts enforcing ${n} bans`);

  await t.test('fleetban hosts: each member, its heartbeat and its bans against the fleet\'s', async (t) => {
    await waitUntil(async () => (await hosts()).hosts.length === 2, 'both heartbeats recorded');
    for (const ip of ['203.0.113.50', '203.0.113.51']) t.equal((await cli('ban', ip)).code, 0, `banned ${ip}`);
    await enforcedEverywhere(2);
    const j = await hosts();
    t.same(j.hosts.map((h) => h.host), ['web-1', 'web-2'], 'sorted by name');
    for (const h of j.hosts) {
      t.match(h, { version: AGENT_VERSION, backend: 'dry-run', enforced: 2, activeBans: 2, drift: 0, fallback: false, localBans: 0 }, `${h.host}: version, backend, 2 of 2 bans, no drift, following the controller`);
      t.ok(h.heartbeatAgeMs >= 0, `${h.host}: a heartbeat age`);
    }
    const text = await cli('hosts');
    t.equal(text.code, 0);
    const rows = text.stdout.trimEnd().split('\n');
    t.match(rows[0], /^HOST\s+HEARTBEAT\s+VERSION\s+BACKEND\s+ENFORCED\/ACTIVE\s+DRIFT\s+MODE\s+LOCAL BANS$/, 'a header');
    t.equal(rows.length, 3, 'one row per host');
    t.match(rows[1], new RegExp(`^web-1\\s+\\d+s ago\\s+${AGENT_VERSION.replaceAll('.', '\\.')}\\s+dry-run\\s+2/2\\s+0\\s+controller\\s+0$`), 'web-1\'s row');
  });

  await t.test('--json is accepted by every command that prints data, and prints JSON', async (t) => {
    const json = async (...argv: string[]) => {
      const r = await cli(...argv);
      t.equal(r.code, 0, `${argv.join(' ')} exits 0`);
      return r.stdout;
    };
    t.match(JSON.parse(await json('status', '--json')), { ok: true, jails: Array, hosts: Array }, 'status --json');
    t.match(JSON.parse(await json('status', 'sshd', '--json')), { ok: true, jails: [{ name: 'sshd' }] }, 'status JAIL --json');
    t.match(JSON.parse(await json('ban', '203.0.113.60', '--json')), { ok: true, bans: [{ ip: '203.0.113.60', jail: 'manual' }] }, 'ban --json');
    const line = JSON.parse(await json('banned', '203.0.113.60', '--json')) as { ip: string };
    t.equal(line.ip, '203.0.113.60', 'banned TARGET --json');
    const lines = (await json('banned', '--json')).trim().split('\n').map((l) => (JSON.parse(l) as { ip: string }).ip);
    t.same(lines.sort(), ['203.0.113.50', '203.0.113.51', '203.0.113.60'], 'banned --json: JSON lines');
    t.match(JSON.parse(await json('unban', '203.0.113.60', '--json')), { ok: true }, 'unban --json');
    t.match(JSON.parse(await json('hosts', '--json')), { nowMs: Number, hosts: Array }, 'hosts --json');
    t.match(JSON.parse(await json('version', '--json')), { version: String }, 'version --json');
    t.match(JSON.parse(await json('enroll', '--list', '--json')), { members: Array }, 'enroll --list --json');
    const regex = await runFleetban(['regex', '--json', 'Nov 21 12:00:00 web-1 sshd[10]: Failed password for root from 203.0.113.77 port 40000 ssh2', 'sshd']);
    t.equal(regex.code, 0, 'regex --json exits 0');
    t.match(JSON.parse(regex.stdout.trim()), { ip: '203.0.113.77' }, 'regex --json: one JSON object per failure');
  });

  await t.test('fleetban unban --all [--jail J]: every active ban (of a jail) lifted on every host, with an audit line', async (t) => {
    t.equal((await cli('ban', '203.0.113.52', '--jail', 'sshd')).code, 0, 'one more ban, in jail sshd');
    await enforcedEverywhere(3);
    const wrong = await cli('unban', '--all', '203.0.113.52');
    t.equal(wrong.code, 2, '--all with an address is a usage error');
    t.match(wrong.stderr, /unban --all \[--jail J\]/);

    const audit = controller.waitForNext((e) => e.msg === 'every ban lifted by admin', 15_000, 'audit line');
    const jail = await cli('unban', '--all', '--jail', 'manual');
    t.equal(jail.code, 0);
    t.equal(jail.stdout, 'unbanned 2 bans of jail manual on every host\n', 'says how many');
    t.match(await audit, { jail: 'manual', unbanned: 2, by: /^.+@ctl$/, atMs: Number, time: Number }, 'the controller logs who (user@host), what and when');
    await enforcedEverywhere(1);
    t.same((await cli('banned', '--json')).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { ip: string }).ip), ['203.0.113.52'], 'the other jail\'s ban stays');

    const every = await cli('unban', '--all', '--json');
    t.equal(every.code, 0);
    t.match(JSON.parse(every.stdout), { ok: true, total: 1 }, '--json: the reply, with how many were lifted');
    await enforcedEverywhere(0);
    const none = await cli('banned');
    t.equal(none.stdout, 'No address is banned.\n', 'no ban left');
    t.equal((await cli('unban', '--all')).stdout, 'unbanned 0 bans on every host\n', 'nothing to lift is not an error');
    const nosuch = await cli('unban', '--all', '--jail', 'nosuch');
    t.not(nosuch.code, 0, 'a jail that does not exist is an error');
    t.match(nosuch.stderr, /jail 'nosuch' does not exist/);
  });

  await t.test('ban and unban take several targets; status --all shows every jail', async (t) => {
    const several = await cli('ban', '203.0.113.53', '203.0.113.54', '--jail', 'sshd');
    t.equal(several.code, 0);
    t.equal(several.stdout.split('\n').filter((l) => l.startsWith('banned 203.0.113.5')).length, 2, 'one line per target');
    await enforcedEverywhere(2);
    const refused = await runFleetban(['ban', '203.0.113.55', '127.0.0.1', '-c', conf]);
    t.equal(refused.code, 1, 'one refused target: exit code 1');
    t.match(refused.stdout, /^banned 203\.0\.113\.55 on every host/, 'the others are banned');
    t.match(refused.stderr, /^fleetban: 127\.0\.0\.1: /m, 'the refused one is named with the reason');
    await enforcedEverywhere(3);
    const all = await cli('status', '--all');
    t.equal(all.code, 0);
    t.match(all.stdout, /Jail list:\tmanual, sshd|Jail list:\tsshd/, 'the overview first');
    t.match(all.stdout, /Status for the jail: sshd[\s\S]*Currently banned:\t2[\s\S]*Status for the jail: manual[\s\S]*Currently banned:\t1/, "then each jail's figures, in the overview's order");
    const allJson = JSON.parse((await cli('status', '--all', '--json')).stdout) as { jailStatus: { jails: { name: string }[] }[] };
    t.ok(allJson.jailStatus.some((r) => r.jails[0]?.name === 'sshd'), '--json: one reply per jail in jailStatus');
    t.equal((await cli('status', 'sshd', '--all')).code, 2, 'a jail and --all: usage error');
    const lifted = await cli('unban', '203.0.113.53', '203.0.113.54', '203.0.113.55');
    t.equal(lifted.stdout, 'unbanned 203.0.113.53 on every host\nunbanned 203.0.113.54 on every host\nunbanned 203.0.113.55 on every host\n');
    await enforcedEverywhere(0);
  });

  await Promise.all(agents.map((a) => a.stop('SIGTERM')));
  await controller.stop('SIGTERM');
});
