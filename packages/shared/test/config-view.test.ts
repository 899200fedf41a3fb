// configView: every key's effective value and origin (what `fleetban config show` prints), and
// settingDefaults (the commented defaults `fleetban import-fail2ban` writes).
import { join } from 'node:path';
import t from 'tap';
import { configView, settingDefaults } from '../src/config/config-view.js';
import { loadConfig } from '../src/config/load.js';

t.test('values and origins: written, inherited from [DEFAULT], or default', async (t) => {
  const dir = t.testdir({
    'fleetban.conf': `[fleetban]
host = web-1
nats_password = s3cret

[agent]
heartbeat = 2s

[DEFAULT]
bantime = 1h

[sshd]
enabled = true
maxretry = 3
port = ssh
backend = systemd[journalpath=/var/log/journal]
`,
    'fleetban.local': `[sshd]
findtime = 30m
`,
  });
  const file = join(dir, 'fleetban.conf');
  const local = join(dir, 'fleetban.local');
  const view = configView(loadConfig(file));
  t.same(view.map((s) => s.section), ['fleetban', 'agent', 'controller', 'DEFAULT', 'sshd']);
  const get = (section: string, key: string) => view.find((s) => s.section === section)?.values.find((v) => v.key === key);
  t.same(get('fleetban', 'host'), { key: 'host', value: 'web-1', origin: `${file}:2` });
  t.same(get('fleetban', 'nats_password'), { key: 'nats_password', value: '********', origin: `${file}:3` }, 'a password is masked');
  t.same(get('fleetban', 'nats'), { key: 'nats', value: 'nats://127.0.0.1:4222', origin: 'default' });
  t.same(get('agent', 'heartbeat'), { key: 'heartbeat', value: '2s', origin: `${file}:6` });
  t.same(get('controller', 'max_bantime'), { key: 'max_bantime', value: '365d', origin: 'default' });
  t.same(get('DEFAULT', 'bantime'), { key: 'bantime', value: '1h', origin: `${file}:9` });
  t.same(get('sshd', 'bantime'), { key: 'bantime', value: '1h', origin: `${file}:9` }, 'inherited: where [DEFAULT] wrote it');
  t.same(get('sshd', 'findtime'), { key: 'findtime', value: '30m', origin: `${local}:2` }, 'from the .local');
  t.same(get('sshd', 'maxmatches'), { key: 'maxmatches', value: '3', origin: 'default' }, 'maxmatches defaults to maxretry');
  t.same(get('sshd', 'backend'), { key: 'backend', value: 'systemd[journalpath=/var/log/journal]', origin: `${file}:15` });
  t.same(get('sshd', 'port'), { key: 'port', value: 'ssh', origin: `${file}:14` }, 'fail2ban keys fleetban passes on are listed too');
});

t.test('settingDefaults: every key of [fleetban], [agent], [controller] with its default', async (t) => {
  const [fleetban, agent, controller] = settingDefaults('web-1');
  t.same(fleetban?.values.find((v) => v.key === 'host'), { key: 'host', value: 'web-1', origin: 'default' });
  t.same(agent?.values.map((v) => `${v.key} = ${v.value}`).slice(0, 3), ['enforcer = auto', 'on_stop = flush', 'heartbeat = 5s']);
  t.same(controller?.values.find((v) => v.key === 'dbpurgeage')?.value, '1d');
  t.ok([fleetban, agent, controller].every((s) => s?.values.every((v) => v.origin === 'default')));
});
