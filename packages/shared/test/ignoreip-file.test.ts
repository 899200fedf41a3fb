/**
 * `ignoreip = file:/path` (fail2ban 1.1): one or more addresses or CIDR ranges a line, `#`
 * comments; in `[controller]` and in jails, mixed with plain entries; errors name the list file
 * and line (and the key that named it). And the jail options `fleetban get` / `set` read and write.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, isJailSetting, jailSetting, JAIL_SETTING_NAMES, parseConfig, SETTABLE_JAIL_OPTIONS, withJailSetting } from '../src/index.js';

t.test('ignoreip = file:/path', async (t) => {
  const dir = t.testdir({
    'office.list': '# the office\n192.0.2.0/24\n\n2001:DB8::1   # a laptop\n198.51.100.7 198.51.100.8\n',
    'bad.list': '192.0.2.0/24\n# fine\nnot-an-address\n',
  });
  const conf = (controller: string, jail = '') => parseConfig(`[controller]\nignoreip = ${controller}\n\n[sshd]\n${jail}`, join(dir, 'fleetban.conf'));
  const c = conf(`203.0.113.1 file:${join(dir, 'office.list')}`, `ignoreip = 127.0.0.1/8 file:${join(dir, 'office.list')}\n`);
  t.same(c.controller.ignoreip, ['203.0.113.1', '192.0.2.0/24', '2001:db8::1', '198.51.100.7', '198.51.100.8'], '[controller]: plain entries and the file\'s, canonical');
  t.same(c.jails[0]?.ignoreip, ['127.0.0.0/8', '192.0.2.0/24', '2001:db8::1', '198.51.100.7', '198.51.100.8'], 'a jail\'s too');
  t.throws(() => conf(`file:${join(dir, 'bad.list')}`), { code: 'CONFIG_INVALID', file: join(dir, 'bad.list'), key: /^line 3 \(named by controller\.ignoreip \(line 2\)/, message: /bad\.list: line 3 .*expected an IP address or CIDR range.*got "not-an-address"/ }, 'a bad line: the list file and its line');
  t.throws(() => conf(`file:${join(dir, 'missing.list')}`), { file: join(dir, 'missing.list'), message: /missing\.list: file \(named by controller\.ignoreip.*got "ENOENT"/ }, 'a missing file named');
  t.throws(() => conf('file:relative.list'), { file: join(dir, 'fleetban.conf'), message: /controller\.ignoreip \(line 2\): expected file: followed by an absolute path/ }, 'a relative path: the key named');
  writeFileSync(join(dir, 'office.list'), '203.0.113.0/24\n');
  t.same(conf(`file:${join(dir, 'office.list')}`).controller.ignoreip, ['203.0.113.0/24'], 'read anew at each load (reload)');
});

t.test('jail settings: get prints what set reads back', async (t) => {
  const j = parseConfig('[DEFAULT]\nbantime = -1\n\n[sshd]\nmaxretry = 4\nbantime.multipliers = 1 2 4\n', '').jails[0]!;
  t.equal(jailSetting(j, 'maxretry'), '4');
  t.equal(jailSetting(j, 'bantime'), '-1', 'permanent as -1');
  t.equal(jailSetting(j, 'findtime'), '10m');
  t.equal(jailSetting(j, 'bantime.multipliers'), '1 2 4');
  for (const name of SETTABLE_JAIL_OPTIONS) t.same(withJailSetting(j, name, jailSetting(j, name)), j, `${name}: its printed value reads back to the same jail`);
  t.ok(JAIL_SETTING_NAMES.includes('ignoreip') && !SETTABLE_JAIL_OPTIONS.includes('ignoreip'), 'ignoreip is read-only here (fleetban ignore, or the file and reload)');
  t.notOk(isJailSetting('logpath'));
  t.equal(withJailSetting(j, 'bantime.increment', 'yes').increment.enabled, true);
  t.equal(withJailSetting(j, 'findtime', '1d12h').findtimeMs, 36 * 3_600_000);
  t.throws(() => withJailSetting(j, 'findtime', '-1'), ConfigError, 'findtime may not be permanent');
  t.throws(() => withJailSetting(j, 'min_hosts', '0'), { message: /sshd min_hosts: expected a positive whole number, got "0"/ });
  t.throws(() => jailSetting(j, 'colour'), { message: /expected one of: maxretry/ });
});
