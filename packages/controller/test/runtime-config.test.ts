/**
 * What changes while the controller runs, without NATS: `set` and reload retune the trackers
 * keeping their windows (a removed jail's dropped), the guard reads the allowlists anew at every
 * decision, and no ignore entry, however wide, makes a ban.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { type BanDecision, type FailureEvent, type FleetbanConfig, type JailConfig, parseConfig, silentLogger } from '@fleetban/shared';
import { JailTrackers } from '../src/aggregate/jail-tracker.js';
import { ConfigService } from '../src/admin/config-service.js';
import { BanDecider } from '../src/decide/ban-decider.js';
import { Allowlists, fleetGuard } from '../src/decide/fleet-guard.js';
import { HostRegistry } from '../src/fleet/host-registry.js';
import { OffenceBook } from '../src/store/offence-book.js';

const NOW = 1_700_000_000_000;
const LIMITS = { minPrefixV4: 16, minPrefixV6: 32, maxBantimeMs: 0 };
let seq = 0;
const failure = (ip: string, timeMs = NOW, jail = 'sshd'): FailureEvent => ({ id: `e${++seq}`, host: 'web-1', jail, ip, timeMs, user: '', line: `fail ${ip}` });

const CONF = `[fleetban]\nhost = ctl\n\n[DEFAULT]\nmaxretry = 3\nfindtime = 10m\nbantime = 1h\n\n[sshd]\nenabled = true\n`;

function world(text = CONF) {
  let config = parseConfig(text, '/etc/fleetban/fleetban.conf');
  const trackers = new JailTrackers(config.jails, (name): JailConfig => ({ ...config.jailDefaults, name }), 1000);
  const allowlists = new Allowlists(config.controller.ignoreip);
  const guard = fleetGuard({ hosts: new HostRegistry(), natsServers: [], controller: [], allowlists, limits: LIMITS });
  const decider = new BanDecider({ trackers, bans: new Map<string, BanDecision>(), offences: new OffenceBook(), guard });
  const files: { next: string | Error } = { next: text };
  const load = (): FleetbanConfig => {
    if (files.next instanceof Error) throw files.next;
    return parseConfig(files.next, '/etc/fleetban/fleetban.conf');
  };
  const settings = new ConfigService({ config, trackers, allowlists, logger: silentLogger(), load });
  const decide = (e: FailureEvent, nowMs = NOW) => {
    const v = decider.decide(e, nowMs);
    if (v.kind === 'ban') decider.commit(v);
    return v;
  };
  const reloadWith = (next: string) => {
    files.next = next;
    config = parseConfig(next, '/etc/fleetban/fleetban.conf');
    return settings.reload('test');
  };
  return { trackers, allowlists, guard, settings, decide, reloadWith, files };
}

t.test('set: a threshold applies at the next failure, the window kept', async (t) => {
  const w = world();
  t.match(w.decide(failure('203.0.113.1')), { kind: 'counted', failures: 1 });
  const change = w.settings.set('sshd', 'maxretry', '2', 'root@ctl');
  t.same(change, { what: 'sshd.maxretry', from: '3', to: '2', note: '' });
  t.match(w.decide(failure('203.0.113.1', NOW + 1)), { kind: 'ban', decision: { failures: 2 } }, 'the first failure still counts');
  t.same(w.settings.get('sshd', 'maxretry'), [{ jail: 'sshd', name: 'maxretry', value: '2' }]);
  t.throws(() => w.settings.set('sshd', 'maxretry', '0', 'x'), { code: 'CONFIG_INVALID', message: /sshd maxretry: expected a positive whole number, got "0"/ });
  t.throws(() => w.settings.set('sshd', 'logpath', '/x', 'x'), { message: /an option set may change/ });
  t.throws(() => w.settings.set('nosuch', 'maxretry', '2', 'x'), { code: 'NO_SUCH_JAIL' });
  w.settings.set('sshd', 'findtime', '1m', 'x');
  t.match(w.decide(failure('203.0.113.2', NOW)), { kind: 'counted' });
  t.match(w.decide(failure('203.0.113.2', NOW + 2 * 60_000), NOW + 2 * 60_000), { kind: 'counted', failures: 1 }, 'a shorter findtime lets older failures go');
  w.settings.set('sshd', 'bantime', '-1', 'x');
  t.match(w.decide(failure('203.0.113.3', NOW + 3 * 60_000), NOW + 3 * 60_000), { kind: 'counted' });
  t.match(w.decide(failure('203.0.113.3', NOW + 3 * 60_000 + 1), NOW + 3 * 60_000 + 1), { kind: 'ban', decision: { expiresMs: 0 } }, 'bantime -1: permanent');
});

t.test('reload: kept jails keep their windows, new jails come, removed ones go with their windows', async (t) => {
  const w = world();
  w.decide(failure('203.0.113.9'));
  w.decide(failure('203.0.113.9', NOW + 1));
  t.equal(w.trackers.existing('sshd')?.window.size, 1);
  const changes = w.reloadWith(CONF.replace('findtime = 10m', 'findtime = 20m') + '\n[web]\nmaxretry = 7\n');
  t.match(changes, [{ what: 'DEFAULT.findtime', from: '10m', to: '20m' }, { what: 'sshd.findtime', from: '10m', to: '20m' }, { what: 'web', to: 'added' }]);
  t.equal(w.trackers.existing('web')?.jail.maxretry, 7);
  t.match(w.decide(failure('203.0.113.9', NOW + 2)), { kind: 'ban', decision: { failures: 3 } }, 'the failures before the reload count');
  w.decide(failure('203.0.113.10', NOW, 'web'));
  t.match(w.reloadWith(CONF), [{ what: 'DEFAULT.findtime' }, { what: 'sshd.findtime' }, { what: 'web', to: '', note: /windows dropped/ }]);
  t.equal(w.trackers.existing('web'), undefined, 'the removed jail is gone');
  t.match(w.decide(failure('203.0.113.10', NOW + 1, 'web')), { kind: 'counted', failures: 1 }, 'its window was dropped: it starts over (as an unconfigured jail)');
  t.same(w.reloadWith(CONF.replace('[DEFAULT]', '[controller]\nmetrics = 127.0.0.1:9999\n\n[DEFAULT]')), [
    { what: 'controller.metrics', from: 'null', to: '{"host":"127.0.0.1","port":9999}', note: 'applies after a restart' },
  ], 'controller keys other than ignoreip: after a restart');
});

t.test('reload: an unconfigured jail heard of keeps its window when it gets a section', async (t) => {
  const w = world();
  w.decide(failure('203.0.113.20', NOW, 'nginx'));
  w.decide(failure('203.0.113.20', NOW + 1, 'nginx'));
  t.match(w.reloadWith(`${CONF}\n[nginx]\nmaxretry = 3\n`), [{ what: 'nginx', from: 'no section', to: 'added' }]);
  t.match(w.decide(failure('203.0.113.20', NOW + 2, 'nginx')), { kind: 'ban', decision: { failures: 3 } });
});

t.test('reload: a changed action is reported as applying after a restart, its options never shown', async (t) => {
  const w = world();
  const changes = w.reloadWith(CONF.replace('enabled = true', 'enabled = true\naction = telegram[token=123:secret, chat_id=42]'));
  t.same(changes, [{ what: 'sshd.action', from: '', to: 'telegram', note: 'applies after a restart' }]);
  t.notMatch(JSON.stringify(changes), /secret/);
});

t.test('reload: a changed web token is reported hidden', async (t) => {
  const w = world();
  const changes = w.reloadWith(CONF.replace('[DEFAULT]', '[controller]\nweb_token = abcdefghijklmnop-secret\n\n[DEFAULT]'));
  t.match(changes, [{ what: 'controller.webToken', from: '', to: '(hidden)' }]);
  t.notMatch(JSON.stringify(changes), /secret/);
});

t.test('reload: a file that does not load changes nothing', async (t) => {
  const w = world();
  w.settings.set('sshd', 'maxretry', '5', 'x');
  w.files.next = 'not a config';
  t.throws(() => w.settings.reload('test'), { code: 'CONFIG_INVALID' });
  t.equal(w.trackers.existing('sshd')?.jail.maxretry, 5, 'the running value stays');
});

t.test('reload: ignoreip of the controller and of jails apply at once; file: lists are read again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-ignore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const list = join(dir, 'ignore.list');
  writeFileSync(list, '192.0.2.0/24\n');
  const w = world();
  t.match(w.decide(failure('192.0.2.5')), { kind: 'counted' });
  const withFile = CONF.replace('[DEFAULT]', `[controller]\nignoreip = file:${list}\n\n[DEFAULT]`);
  w.reloadWith(withFile);
  t.match(w.decide(failure('192.0.2.5', NOW + 1)), { kind: 'refused', refusal: { code: 'ignoreip' } }, 'the controller\'s ignoreip, from its file');
  writeFileSync(list, '# emptied\n');
  w.reloadWith(withFile);
  t.match(w.decide(failure('192.0.2.5', NOW + 2)), { kind: 'counted' }, 'the file read again on reload');
  w.reloadWith(`${CONF}ignoreip = 198.51.100.0/24\n`);
  t.match(w.decide(failure('198.51.100.1')), { kind: 'refused', refusal: { code: 'jail-ignoreip' } }, 'a jail\'s new ignoreip');
});

t.test('the fleet ignore list: read at every decision; no entry, however wide, makes a ban', async (t) => {
  const w = world();
  w.settings.set('sshd', 'maxretry', '1', 'x');
  w.allowlists.putIgnored({ network: '0.0.0.0/0', by: 'root@ctl', atMs: NOW });
  w.allowlists.putIgnored({ network: '::/0', by: 'root@ctl', atMs: NOW });
  for (const ip of ['203.0.113.1', '198.51.100.1', '2001:db8::1']) t.match(w.decide(failure(ip)), { kind: 'refused', refusal: { code: 'ignoreip' } }, `${ip}: refused`);
  for (const target of ['203.0.113.0/24', '2001:db8::/48', '8.8.8.8']) t.match(w.guard.check(target, { force: true }), { code: 'ignoreip' }, `a ban of ${target} refused, even with force`);
  t.equal(w.allowlists.deleteIgnored('0.0.0.0/0'), true);
  t.match(w.decide(failure('203.0.113.1', NOW + 1)), { kind: 'ban' }, 'removed: IPv4 bans again');
  t.match(w.decide(failure('2001:db8::1', NOW + 1)), { kind: 'refused' }, '::/0 still holds IPv6');
  t.equal(w.allowlists.deleteIgnored('0.0.0.0/0'), false, 'deleting twice says it was not there');
  t.same(w.allowlists.ignored().map((e) => e.network), ['::/0']);
});
