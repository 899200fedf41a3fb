/**
 * `fleetban config check` and `fleetban config show` (the built CLI, spawned) on real files:
 * a good configuration, a bad value, a filter that does not exist and one whose regex cannot be
 * compiled; the effective value and origin of keys. Needs `npm run build` first; no NATS.
 */

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FLEETBAN_MAIN } from '../../../test/fixtures/fleetban-process.js';

const CLI = FLEETBAN_MAIN;

function fleetban(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const GOOD = `[fleetban]
host = web-1
nats = nats://192.0.2.1:4222

[DEFAULT]
bantime = 1h

[sshd]
enabled = true
filter = sshd[mode=aggressive]
logpath = /var/log/auth.log
maxretry = 3

[nginx-http-auth]
enabled = false
`;

t.test('config check: a good file exits 0', async (t) => {
  const dir = t.testdir({ 'fleetban.conf': GOOD });
  const file = join(dir, 'fleetban.conf');
  const r = fleetban(['config', 'check', file]);
  t.equal(r.code, 0);
  t.match(r.out, /OK: 2 jail\(s\), 1 enabled \(sshd\)/);
  const j = fleetban(['config', 'check', file, '--json']);
  t.equal(j.code, 0);
  t.match(JSON.parse(j.out), { file, ok: true, jails: 2, enabled: ['sshd'], problems: [] });
  t.equal(fleetban(['config', 'check'], { FLEETBAN_CONFIG: file }).code, 0, 'FILE defaults to $FLEETBAN_CONFIG');
  t.equal(fleetban(['config', 'check', '-c', file]).code, 0, 'and to -c FILE');
});

t.test('config check: a bad value exits 1 naming the file, the key and what was expected', async (t) => {
  const dir = t.testdir({ 'fleetban.conf': GOOD.replace('maxretry = 3', 'maxretry = three') });
  const file = join(dir, 'fleetban.conf');
  const r = fleetban(['config', 'check', file]);
  t.equal(r.code, 1);
  t.equal(r.err, `${file}: sshd.maxretry (line 12): expected a positive whole number, got "three"\n`);
  const j = fleetban(['config', 'check', file, '--json']);
  t.equal(j.code, 1);
  t.match(JSON.parse(j.out), { ok: false, problems: [{ file, key: 'sshd.maxretry (line 12)', expected: 'a positive whole number' }] });
  const missing = fleetban(['config', 'check', join(dir, 'nope.conf')]);
  t.equal(missing.code, 1, 'a missing file is an error too');
  t.match(missing.err, /nope\.conf: file: expected a readable file, got "ENOENT"/);
});

t.test('config check: every enabled jail whose filter cannot be built, at its filter key', async (t) => {
  const dir = t.testdir({
    'fleetban.conf': `${GOOD}
[web]
enabled = true
filter = no-such-filter
logpath = /var/log/web.log

[app]
enabled = true
filter =
failregex = ^login failed from <HOST> (?P<oops
logpath = /var/log/app.log

[off]
enabled = false
filter = no-such-filter-either
`,
  });
  const file = join(dir, 'fleetban.conf');
  const r = fleetban(['config', 'check', file]);
  t.equal(r.code, 1);
  const lines = r.err.trim().split('\n');
  t.equal(lines.length, 2, 'two problems, one line each; the disabled jail is not checked');
  t.match(lines[0], `${file}: web.filter (line 19): expected a filter that loads and compiles (no filter named 'no-such-filter'`);
  t.match(lines[1], `${file}: app.filter (line 24): expected a filter that loads and compiles (filter jail app: failregex[0]`);
});

t.test('config show: every key with its effective value and origin', async (t) => {
  const dir = t.testdir({ 'fleetban.conf': GOOD });
  const file = join(dir, 'fleetban.conf');
  const r = fleetban(['config', 'show', file]);
  t.equal(r.code, 0);
  t.match(r.out, new RegExp(`^host = web-1 +; ${file}:2$`, 'm'), '[fleetban] host from the file');
  t.match(r.out, /^enforcer = auto +; default$/m, '[agent] enforcer by default');
  t.match(r.out, new RegExp(`^\\[sshd\\]\\n(?:.*\\n)*?maxretry = 3 +; ${file}:12$`, 'm'), 'sshd maxretry from its line');
  t.match(r.out, new RegExp(`^\\[sshd\\]\\n(?:.*\\n)*?bantime = 1h +; ${file}:6$`, 'm'), 'sshd bantime from [DEFAULT]');
  t.match(r.out, /^\[sshd\]\n(?:.*\n)*?findtime = 10m +; default$/m, 'findtime by default');
  const j = JSON.parse(fleetban(['config', 'show', file, '--json']).out) as { sections: { section: string; values: { key: string; value: string; origin: string }[] }[] };
  const sshd = j.sections.find((s) => s.section === 'sshd');
  t.same(sshd?.values.find((v) => v.key === 'maxretry'), { key: 'maxretry', value: '3', origin: `${file}:12` });
  t.same(sshd?.values.find((v) => v.key === 'filter'), { key: 'filter', value: 'sshd[mode=aggressive]', origin: `${file}:10` });
  t.same(j.sections.map((s) => s.section), ['fleetban', 'agent', 'controller', 'DEFAULT', 'sshd', 'nginx-http-auth']);
});

t.test('config without a subcommand is a usage error', async (t) => {
  t.equal(fleetban(['config']).code, 2);
  t.equal(fleetban(['config', 'frob']).code, 2);
});

t.test('--help of config and import-fail2ban prints their usage, with no configuration read', async (t) => {
  for (const cmd of ['config', 'import-fail2ban']) {
    const r = fleetban([cmd, '--help', '-c', '/nonexistent/fleetban.conf']);
    t.equal(r.code, 0, `${cmd} --help exits 0`);
    t.match(r.out, new RegExp(`^usage: fleetban ${cmd}\\b`), `${cmd} --help prints its usage`);
    t.match(fleetban(['--help']).out, new RegExp(`^  ${cmd}\\b`, 'm'), `fleetban --help lists ${cmd}`);
  }
});

t.test('config check: every bad value in one run, each with its file, key and expected value', async (t) => {
  const dir = t.testdir({
    'fleetban.conf': `[agent]
enforcer = nft

[DEFAULT]
bantime = forever

[sshd]
enabled = true
maxretry = three
frobnicate = 1

[bad.name]
enabled = true
`,
  });
  const file = join(dir, 'fleetban.conf');
  const r = fleetban(['config', 'check', file, '--json']);
  t.equal(r.code, 1);
  const j = JSON.parse(r.out) as { problems: { file: string; key: string; expected: string }[] };
  t.same(
    j.problems.map((p) => [p.file, p.key]),
    [
      [file, 'agent.enforcer (line 2)'],
      [file, 'DEFAULT.bantime (line 5)'],
      [file, 'sshd.frobnicate (line 10)'],
      [file, 'sshd.maxretry (line 9)'],
      [file, '[bad.name] (line 12)'],
    ],
    'five problems, in the order the loader meets them',
  );
  t.match(j.problems[1], { expected: /^a positive duration/ });
});
