// `fleetban up` as the quick start runs it, inside a namespace of its own: a local nats-server with
// JetStream, the controller and an sshd agent; the admin verbs answer; Ctrl-C stops everything and
// leaves no process and no fleetban table behind.
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { createNetns } from './fixtures/netns.js';

t.test('fleetban up: nats-server, controller and agent, stopped by Ctrl-C', async (t) => {
  const dir = testDir(t, { 'auth.log': '' });
  const ns = await createNetns(t, 'up');
  const conf = join(dir, 'fleetban.conf');
  writeFileSync(
    conf,
    `[fleetban]\nhost = solo\nnats = nats://127.0.0.1:4222\nstate_dir = ${join(dir, 'state')}\n\n` +
      `[agent]\nheartbeat = 1s\npoll = 20ms\n\n[DEFAULT]\nmaxretry = 2\nbantime = 1h\n\n` +
      `[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n`,
  );
  const up = FleetbanProcess.start(t, 'up', ['up', '-c', conf], { netns: ns.name });
  await up.waitForMsg('agent ready', 30_000);
  await up.waitForMsg('controller ready', 30_000);

  const status = async () => runFleetban(['status', 'sshd', '-c', conf], { netns: ns.name });
  let s = await status();
  for (let i = 0; i < 50 && !/solo\tlast heartbeat/.test(s.stdout); i++) {
    await new Promise((r) => setTimeout(r, 200));
    s = await status();
  }
  t.equal(s.code, 0, s.stderr);
  t.match(s.stdout, /Status for the jail: sshd/);
  t.match(s.stdout, /solo\tlast heartbeat/);
  t.match(s.stdout, /backend nftables/);

  const banned = up.waitForNext((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes('203.0.113.5'));
  // two sshd failures in the log the agent reads: the threshold (maxretry 2) bans the address
  writeFileSync(
    join(dir, 'auth.log'),
    'Nov 21 12:00:00 solo sshd[10]: Failed password for root from 203.0.113.5 port 40000 ssh2\n' +
      'Nov 21 12:00:01 solo sshd[10]: Failed password for invalid user admin from 203.0.113.5 port 40002 ssh2\n',
    { flag: 'a' },
  );
  await banned;
  const table = ns.exec('nft', ['list', 'set', 'inet', 'fleetban', 'ban4']);
  t.match(await table, /203\.0\.113\.5/);

  // authentication is on by itself: the controller, agent and admin verbs above used the seeds up
  // created; a client without credentials is refused
  for (const name of ['controller', 'admin', 'solo']) {
    t.equal(statSync(join(dir, 'state', 'credentials', `${name}.nk`)).mode & 0o777, 0o600, `${name}'s seed, mode 0600`);
  }
  t.ok(up.entries.some((e) => e.msg === 'credentials created' && e.member === 'solo'), 'up created this host\'s member');
  const anonymous = join(dir, 'anonymous.conf');
  writeFileSync(anonymous, `[fleetban]\nhost = solo\nnats = nats://127.0.0.1:4222\nstate_dir = ${join(dir, 'elsewhere')}\n`);
  const refused = await runFleetban(['status', '-c', anonymous], { netns: ns.name });
  t.equal(refused.code, 1, 'fleetban status without credentials fails');
  t.match(refused.stderr, /Authorization Violation/i, `the server refused it: ${refused.stderr.trim()}`);

  const stoppedAll = up.waitForMsg('stopped', 30_000);
  t.equal(await up.stop('SIGINT'), 0, 'up exits 0 after Ctrl-C');
  await stoppedAll;
  t.same(execFileSync('ip', ['netns', 'pids', ns.name]).toString().trim(), '', 'no process left in the namespace');
  t.equal(await ns.exec('nft', ['list', 'tables']), '', 'no nft table left (on_stop = flush)');
});
