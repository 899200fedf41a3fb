/**
 * `fleetban import-fail2ban` (the built CLI, spawned) on Debian's own fail2ban configuration
 * (jail.conf, paths-debian.conf, jail.d/defaults-debian.conf, fail2ban.conf from the package)
 * with an operator's jail.local and a jail.d/*.local override: the written file loads with
 * fleetban's loader, with fail2ban's layering, and the report says what was not carried.
 * Needs `npm run build` first; no NATS.
 */

import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { type JailConfig, loadConfig } from '@fleetban/shared';
import { fail2banPackage } from '../../../test/fixtures/fail2ban-package.js';
import { FLEETBAN_MAIN } from '../../../test/fixtures/fleetban-process.js';

const CLI = FLEETBAN_MAIN;

function fleetban(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const JAIL_LOCAL = `[DEFAULT]
bantime  = 1h
ignoreip = 127.0.0.1/8 ::1 192.0.2.0/24 gw.example.org
destemail = ops@example.org
action = %(action_mw)s
dbfile = /var/lib/fail2ban/other.sqlite3

[sshd]
enabled = true
mode = aggressive
maxretry = 3
findtime = 30m
bantime.increment = true
bantime.maxtime = 1w
bantime.multipliers = 1 2 4 8
ignoreip = 198.51.100.7

[nginx-http-auth]
enabled = true
findtime = 20m

[recidive]
enabled = true
`;

const OVERRIDE_LOCAL = `# jail.d/*.local is read last: it wins over jail.local
[sshd]
maxretry = 4
port = 2222
backend = pyinotify
`;

/** A copy of Debian's /etc/fail2ban with the operator's files added. */
function fail2banDir(t: Test): string {
  const pkg = fail2banPackage();
  const root = t.testdir({});
  const dir = join(root, 'etc', 'fail2ban');
  cpSync(pkg.etc, dir, { recursive: true });
  writeFileSync(join(dir, 'jail.local'), JAIL_LOCAL);
  writeFileSync(join(dir, 'jail.d', 'zz-fleet.local'), OVERRIDE_LOCAL);
  writeFileSync(join(dir, 'filter.d', 'nginx-http-auth.local'), '[Definition]\nignoreregex = user "monitor" was not found\n');
  return dir;
}

function jail(jails: readonly JailConfig[], name: string): JailConfig {
  const j = jails.find((x) => x.name === name);
  if (!j) throw new Error(`no jail ${name}`);
  return j;
}

t.test('Debian\'s fail2ban configuration with a jail.local and a jail.d override', async (t) => {
  const dir = fail2banDir(t);
  const out = join(dir, '..', '..', 'fleetban.conf');
  const r = fleetban('import-fail2ban', dir, '--output', out);
  t.equal(r.code, 0, 'exit 0');
  if (r.code !== 0) t.comment(r.err);
  t.equal(r.out, '', 'nothing on stdout when --output is given');

  const config = loadConfig(out, { hostname: 'web-1' });
  t.same(config.jails.map((j) => j.name), ['sshd', 'nginx-http-auth', 'recidive'], 'the enabled jails only, in fail2ban\'s order');
  t.ok(config.jails.every((j) => j.enabled), 'all enabled');

  const sshd = jail(config.jails, 'sshd');
  t.equal(sshd.filter, 'sshd[mode=aggressive]', 'filter with its mode (jail.local mode through jail.conf\'s filter = %(__name__)s[mode=%(mode)s])');
  t.equal(sshd.maxretry, 4, 'maxretry: jail.d/*.local wins over jail.local (3) and jail.conf (5)');
  t.equal(sshd.maxmatches, 4, 'maxmatches: jail.conf\'s %(maxretry)s, resolved in the jail');
  t.equal(sshd.findtimeMs, 30 * 60_000, 'findtime: jail.local over jail.conf');
  t.equal(sshd.bantimeMs, 3_600_000, 'bantime: jail.local\'s [DEFAULT] over jail.conf\'s');
  t.same(sshd.logpath, ['/var/log/auth.log'], 'logpath: %(sshd_log)s from paths-common.conf through paths-debian.conf');
  t.same(sshd.backend, { kind: 'pyinotify' }, 'backend pyinotify carried (jail.d override)');
  t.match(sshd.increment, { enabled: true, maxtimeMs: 7 * 86_400_000, multipliers: [1, 2, 4, 8] }, 'bantime.increment family');
  t.same(sshd.ignoreip, ['198.51.100.7'], 'the jail\'s own ignoreip');
  t.equal(sshd.options.port?.value, '2222', 'port from the override');
  t.equal(sshd.options.protocol?.value, 'tcp', 'protocol from jail.conf');
  t.match(sshd.options.action?.value, /^sendmail-whois\[sender="root@<fq-hostname>", dest="ops@example\.org"/, 'the mail action carried, resolved (destemail from jail.local)');
  t.notMatch(sshd.options.action?.value ?? '', /iptables/, 'the firewall action is not carried');

  const nginx = jail(config.jails, 'nginx-http-auth');
  t.equal(nginx.filter, `${join(dir, 'filter.d', 'nginx-http-auth.conf')}[mode=normal]`, 'a filter customised with filter.d/*.local is named by path, so the .local is read');
  t.equal(nginx.findtimeMs, 20 * 60_000);
  t.equal(nginx.maxretry, 5, 'jail.conf\'s [DEFAULT] maxretry');
  t.same(nginx.logpath, ['/var/log/nginx/*error.log'], 'logpath from paths-common.conf');
  t.equal(nginx.options.port?.value, 'http,https');
  t.same(nginx.ignoreip, ['127.0.0.0/8', '::1', '192.0.2.0/24'], '[DEFAULT] ignoreip without the DNS name');

  const recidive = jail(config.jails, 'recidive');
  t.equal(recidive.policy, 'recidive', 'the recidive jail becomes fleetban\'s recidive policy');
  t.equal(recidive.bantimeMs, 7 * 86_400_000, 'bantime 1w from jail.conf');
  t.equal(recidive.findtimeMs, 86_400_000, 'findtime 1d from jail.conf');
  t.same(recidive.logpath, [], 'no fail2ban.log to read');
  t.equal(config.controller.dbPurgeAgeMs, 86_400_000, 'fail2ban.conf dbpurgeage carried to [controller]');

  const text = readFileSync(out, 'utf8');
  t.match(text, /^\[fleetban\]\n# host = /m, '[fleetban] with commented defaults');
  t.match(text, /^\[agent\]\n# enforcer = auto$/m, '[agent] with commented defaults');
  t.match(text, /^# replicas = 1$/m, '[controller] with commented defaults');

  const report = r.err.split('\n');
  const line = (re: RegExp, what: string) => t.ok(report.some((l) => re.test(l)), `reported: ${what}`);
  // fail2ban 1.0.2's Debian package keeps jail.conf's iptables-multiport; 1.1.0's sets nftables in jail.d/defaults-debian.conf
  line(/^not carried: \[DEFAULT\] banaction = (iptables-multiport|nftables) \(.*(jail\.conf|defaults-debian\.conf):\d+\): the agent enforces bans itself/, 'banaction');
  line(/^not carried: \[sshd\] action = (iptables-multiport|nftables)\[port="2222"/, 'the firewall action line of sshd');
  line(/^carried: \[sshd\] action = sendmail-whois\[.*runs on the fleetban controller/, 'the mail action runs on the controller');
  line(/^not carried: \[DEFAULT\] ignoreip = gw\.example\.org .*no DNS names/, 'a DNS name in ignoreip');
  line(/^not carried: \[DEFAULT\] dbfile = \/var\/lib\/fail2ban\/other\.sqlite3 .*JetStream/, 'dbfile in jail.local');
  line(/^not carried: \[fail2ban\.conf DEFAULT\] dbfile = .*not applicable/, 'fail2ban.conf dbfile');
  line(/^not carried: \[fail2ban\.conf DEFAULT\] loglevel = INFO/, 'fail2ban.conf loglevel');
  line(/^not carried: \[recidive\] logpath = \/var\/log\/fail2ban\.log .*recidive/, 'recidive\'s fail2ban.log');
  t.notOk(report.some((l) => /logencoding/.test(l) && /not carried/.test(l)), 'logencoding is carried (the agent reads it)');
  line(/^carried: \[nginx-http-auth\] filter = \/.*: named by path so that your filter\.d\/nginx-http-auth\.local is read/, 'the filter named by path');
  line(/^imported 3 enabled jail\(s\) \(sshd, nginx-http-auth, recidive\)/, 'a summary');
  t.notOk(report.some((l) => /sshd_log|syslog_authpriv/.test(l)), 'paths-*.conf helper keys are not reported');

  const check = fleetban('config', 'check', out);
  t.equal(check.code, 0, `config check accepts it: ${check.out}${check.err}`);

  const again = fleetban('import-fail2ban', dir, '--output', out);
  t.equal(again.code, 2, 'an existing output file is not replaced without --force');
  t.equal(fleetban('import-fail2ban', dir, '-o', out, '--force').code, 0, '--force replaces it');
});

t.test('--json without --output: the report and the configuration as one object', async (t) => {
  const dir = fail2banDir(t);
  const r = fleetban('import-fail2ban', dir, '--json');
  t.equal(r.code, 0, 'exit 0');
  const j = JSON.parse(r.out) as { jails: string[]; disabled: string[]; notCarried: { jail: string; key: string; reason: string }[]; carried: { jail: string; key: string }[]; config: string };
  t.same(j.jails, ['sshd', 'nginx-http-auth', 'recidive']);
  t.ok(j.disabled.includes('apache-auth'), 'disabled jails listed');
  t.ok(j.notCarried.some((n) => n.jail === 'DEFAULT' && n.key === 'banaction'), 'banaction in notCarried');
  t.ok(j.carried.some((n) => n.jail === 'sshd' && n.key === 'action'), 'the mail action in carried');
  t.match(j.config, /^\[sshd\]$/m, 'the configuration text');
});

t.test('a directory without jail.conf is an error naming it', async (t) => {
  const dir = t.testdir({});
  const r = fleetban('import-fail2ban', dir);
  t.equal(r.code, 1);
  t.match(r.err, /jail\.conf: file: expected a fail2ban configuration directory with jail\.conf or jail\.local/);
});
