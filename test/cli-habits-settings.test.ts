// The rest of fail2ban-client's habits, fleet-wide: `fleetban get`, `set`, `reload` (and SIGHUP)
// and the fleet's ignore list (`fleetban ignore add|del|list`), run as the real command line
// against a real nats-server and controller, with failures published as an agent would.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { adminRequest, jetstream, publishFailure } from '@fleetban/shared';
import { controllerClient } from './fixtures/fleet-client.js';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { startNatsServer } from './fixtures/nats-server.js';

let seq = 0;

t.test('get, set, reload and ignore against a controller', async (t) => {
  const dir = t.testdir({ 'ignore.list': '# the office\n192.0.2.0/24\n\n2001:db8::1  # a laptop\n' });
  const nats = await startNatsServer(t);
  const opts = { host: 'ctl', nats: nats.url, dir, enforcer: 'dry-run' as const, bantime: '1h', maxretry: 3 };
  const conf = writeTestConfig(opts);
  const original = readFileSync(conf, 'utf8');
  let controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf]);
  await controller.waitForMsg('controller ready');
  const nc = await controllerClient(t, nats.url, 'web-1', dir);
  const js = jetstream(nc);
  /** Publishes one sshd failure of `ip` from web-1, now. */
  const fail = (ip: string) => publishFailure(js, { id: `web-1-${++seq}`, host: 'web-1', jail: 'sshd', ip, timeMs: Date.now(), user: 'root', line: `Failed password for root from ${ip}` });
  const counted = (ip: string, failures: number) => controller.waitForNext((e) => e.msg === 'failure counted' && e.ip === ip && e.failures === failures, 15_000, `${ip} counted (${failures})`);
  const banned = (ip: string) => controller.waitForNext((e) => e.msg === 'ban' && e.ip === ip, 15_000, `ban of ${ip}`);
  const refused = (ip: string) => controller.waitForNext((e) => typeof e.msg === 'string' && e.msg.startsWith('failure not counted') && e.ip === ip, 15_000, `${ip} refused`);
  const cli = async (...argv: string[]) => {
    const r = await runFleetban([...argv, '-c', conf]);
    if (r.code !== 0) t.comment(`fleetban ${argv.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r;
  };
  const bannedIps = async () => (await cli('banned', '--json')).stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { ip: string }).ip).sort();

  await t.test('fleetban get JAIL [OPTION]: what the controller holds', async (t) => {
    t.equal((await cli('get', 'sshd', 'maxretry')).stdout, '3\n', 'get sshd maxretry prints the value');
    t.equal((await cli('get', 'sshd', 'bantime')).stdout, '1h\n', 'durations as the file writes them');
    const all = await cli('get', 'sshd');
    t.match(all.stdout, /^maxretry\s+= 3$/m, 'every option without OPTION');
    t.match(all.stdout, /^findtime\s+= 10m$/m);
    t.match(all.stdout, /^bantime\.increment\s+= false$/m);
    const json = JSON.parse((await cli('get', 'sshd', 'findtime', '--json')).stdout) as { ok: boolean; options: unknown[] };
    t.match(json, { ok: true, options: [{ jail: 'sshd', name: 'findtime', value: '10m' }] }, '--json: the reply');
    const nosuch = await cli('get', 'nosuch', 'maxretry');
    t.equal(nosuch.code, 1, 'a jail the controller does not have is an error');
    t.match(nosuch.stderr, /jail 'nosuch' does not exist/);
    const bad = await cli('get', 'sshd', 'colour');
    t.equal(bad.code, 1, 'an unknown option is an error');
    t.match(bad.stderr, /expected one of: maxretry, findtime/);
    t.equal((await cli('get')).code, 2, 'no jail: a usage error');
  });

  await t.test('fleetban reload keeps windows and bans, applies thresholds, jails and ignoreip', async (t) => {
    t.equal((await cli('ban', '203.0.113.99')).code, 0, 'a ban made before the reload');
    let c = counted('203.0.113.20', 2);
    await fail('203.0.113.20');
    await fail('203.0.113.20');
    await c;
    writeFileSync(
      conf,
      original.replace('findtime = 10m', 'findtime = 20m').replace('[DEFAULT]', `[controller]\nignoreip = 198.51.100.1 file:${join(dir, 'ignore.list')}\n\n[DEFAULT]`) +
        '\n[web]\nenabled = true\nmaxretry = 7\nlogpath = /var/log/web.log\n',
    );
    const audit = controller.waitForNext((e) => e.msg === 'configuration reloaded', 15_000, 'reload line');
    const r = await cli('reload');
    t.equal(r.code, 0, 'reload exits 0');
    t.match(r.stdout, /^reloaded: \d+ changes$/m, 'says how many changes');
    t.match(r.stdout, /^  sshd\.findtime: 10m → 20m$/m, 'a kept jail\'s threshold');
    t.match(r.stdout, /^  web: added$/m, 'a new jail');
    t.match(r.stdout, /^  controller\.ignoreip: \(none\) → 198\.51\.100\.1 192\.0\.2\.0\/24 2001:db8::1$/m, '[controller] ignoreip, with the file: list read');
    t.match(await audit, { by: /^.+@ctl$/, changes: Number }, 'the controller logs who reloaded');
    t.equal((await cli('get', 'web', 'maxretry')).stdout, '7\n', 'the new jail is there');
    t.equal((await cli('get', 'sshd', 'findtime')).stdout, '20m\n');
    const ban = banned('203.0.113.20');
    await fail('203.0.113.20');
    t.match(await ban, { failures: 3 }, 'the third failure bans: the two counted before the reload were kept (maxretry 3)');
    t.same(await bannedIps(), ['203.0.113.20', '203.0.113.99'], 'the ban made before the reload is still listed');
    const office = refused('192.0.2.7');
    await fail('192.0.2.7');
    t.match(await office, { why: 'ignoreip' }, 'an address of the file: list is refused, not counted');

    // a broken file: the controller keeps its configuration and says why (the command line, reading
    // the same file for its own connection, would stop at the error first: ask over NATS instead)
    writeFileSync(conf, original.replace('maxretry = 3', 'maxretry = zero'));
    const failed = controller.waitForNext((e) => e.msg === 'reload failed: the running configuration is kept', 15_000, 'reload failure line');
    const reply = await adminRequest(nc, { verb: 'reload', jail: '', ip: '', bantimeMs: 0 }).then(() => null, (err: unknown) => err);
    t.match(reply, { code: 'ADMIN_REFUSED', message: /ctl\.conf: DEFAULT\.maxretry \(line \d+\): expected a positive whole number, got "zero"/ }, 'a file with an error: the reply names the file, the key and what was expected');
    t.match(await failed, { err: { message: /DEFAULT\.maxretry/ } }, 'and the controller logs it');
    const hupBad = controller.waitForNext((e) => e.msg === 'reload failed: the running configuration is kept', 15_000, 'SIGHUP reload failure');
    controller.proc.kill('SIGHUP');
    t.match(await hupBad, { by: 'SIGHUP' }, 'SIGHUP with a broken file: logged, nothing changed');
    t.equal((await cli('get', 'sshd', 'findtime')).code, 1, 'the command line itself refuses the broken file');
    writeFileSync(conf, original.replace('findtime = 10m', 'findtime = 20m'));
    t.equal((await cli('get', 'sshd', 'findtime')).stdout, '20m\n', 'the running configuration is untouched');
    t.equal((await cli('get', 'web', 'maxretry')).stdout, '7\n');

    writeFileSync(conf, original.replace('[DEFAULT]', `[controller]\nignoreip = file:${join(dir, 'missing.list')}\n\n[DEFAULT]`));
    const missing = await cli('reload');
    t.not(missing.code, 0, 'an ignoreip file: list that cannot be read fails the reload');
    // the command line reads the same file first: either names the missing list
    t.match(missing.stderr, /missing\.list/, 'the error names the list file');

    writeFileSync(conf, original.replace('maxretry = 3', 'maxretry = 2'));
    const hup = controller.waitForNext((e) => e.msg === 'configuration reloaded', 15_000, 'SIGHUP reload');
    controller.proc.kill('SIGHUP');
    t.match(await hup, { by: 'SIGHUP' }, 'SIGHUP reloads');
    t.equal((await cli('get', 'sshd', 'maxretry')).stdout, '2\n', 'the file\'s new maxretry applies');
    t.equal((await cli('get', 'sshd', 'findtime')).stdout, '10m\n');
    t.equal((await cli('get', 'web', 'maxretry')).code, 1, 'the removed jail is gone');
    t.match(controller.entries.filter((e) => e.msg === 'reload: changed' && e.what === 'web' && e.to === ''), [{ note: /windows dropped/ }], 'its removal logged');
    t.same(await bannedIps(), ['203.0.113.20', '203.0.113.99'], 'bans stay');
    writeFileSync(conf, original);
    t.equal((await cli('reload')).code, 0, 'back to the original file');
  });

  await t.test('fleetban set JAIL OPTION VALUE: applied at once, windows kept, with an audit line', async (t) => {
    const c = counted('203.0.113.30', 1);
    await fail('203.0.113.30');
    await c;
    const audit = controller.waitForNext((e) => e.msg === 'jail option set by admin', 15_000, 'set audit line');
    const r = await cli('set', 'sshd', 'maxretry', '2');
    t.equal(r.code, 0);
    t.equal(r.stdout, 'sshd.maxretry: 3 → 2\n', 'prints old → new');
    t.match(await audit, { by: /^.+@ctl$/, jail: 'sshd', option: 'maxretry', from: '3', to: '2' }, 'who, what, old → new');
    const ban = banned('203.0.113.30');
    await fail('203.0.113.30');
    t.match(await ban, { failures: 2 }, 'the second failure bans, without a restart (the first was kept)');
    const fresh = banned('203.0.113.31');
    await fail('203.0.113.31');
    await fail('203.0.113.31');
    await fresh;
    t.pass('2 failures then ban');
    t.equal((await cli('get', 'sshd', 'maxretry')).stdout, '2\n');
    t.match(JSON.parse((await cli('set', 'sshd', 'bantime', '-1', '--json')).stdout), { ok: true, changes: [{ what: 'sshd.bantime', from: '1h', to: '-1' }] }, 'bantime -1 = permanent; --json');
    t.equal((await cli('set', 'sshd', 'bantime', '2h')).stdout, 'sshd.bantime: -1 → 2h\n');
    const bad = await cli('set', 'sshd', 'maxretry', 'zero');
    t.equal(bad.code, 1, 'a bad value is refused');
    t.match(bad.stderr, /sshd maxretry: expected a positive whole number, got "zero"/, 'as the file\'s reader says');
    const formula = await cli('set', 'sshd', 'bantime.formula', '__import__("os")');
    t.equal(formula.code, 1, 'a formula outside the safe subset is refused');
    const ro = await cli('set', 'sshd', 'ignoreip', '192.0.2.1');
    t.equal(ro.code, 1, 'options set may not change are refused');
    t.match(ro.stderr, /an option set may change/);
    t.equal((await cli('get', 'sshd', 'maxretry')).stdout, '2\n', 'refusals changed nothing');
    t.equal((await cli('set', 'sshd', 'maxretry')).code, 2, 'no value: a usage error');
    t.equal((await cli('reload')).stdout.includes('sshd.maxretry: 2 → 3'), true, 'a reload takes the file\'s value again');
  });

  await t.test('fleetban ignore add|del|list: the fleet ignore list', async (t) => {
    t.equal((await cli('ban', '198.51.100.7')).code, 0, 'a ban inside the network, before');
    t.equal((await cli('ban', '198.51.0.0/16')).code, 0, 'a wider ban overlapping it, before');
    const audit = controller.waitForNext((e) => e.msg === 'ignore list: added by admin', 15_000, 'ignore audit line');
    const add = await cli('ignore', 'add', '198.51.100.0/24');
    t.equal(add.code, 0);
    t.match(add.stdout, /^ignored on every host: 198\.51\.100\.0\/24/, 'says it is ignored');
    t.match(add.stdout, /still banned, as fail2ban's addignoreip leaves them: (198\.51\.100\.7 198\.51\.0\.0\/16|198\.51\.0\.0\/16 198\.51\.100\.7)/, 'names the bans it covers, and lifts none');
    t.match(await audit, { by: /^.+@ctl$/, networks: ['198.51.100.0/24'], covered: 2 });
    t.same(await bannedIps(), ['198.51.0.0/16', '198.51.100.7', '203.0.113.20', '203.0.113.30', '203.0.113.31', '203.0.113.99'].sort(), 'ignore add unbanned nothing');
    const r = refused('198.51.100.8');
    for (let i = 0; i < 3; i++) await fail('198.51.100.8');
    t.match(await r, { why: 'ignoreip' }, 'a failure from the network is refused, not counted');
    const manual = await cli('ban', '198.51.100.9');
    t.equal(manual.code, 1, 'a manual ban inside is refused');
    t.match(manual.stderr, /fleet's ignore list/);
    const status = JSON.parse((await cli('status', '--json')).stdout) as { counters: Record<string, number> };
    t.ok((status.counters['events.refused.ignoreip'] ?? 0) >= 3, 'refusals counted as events.refused.ignoreip');

    const lift = await cli('ignore', 'add', '198.51.100.0/24', '--unban');
    t.match(lift.stdout, /unbanned 1 ban lying inside/, '--unban lifts the ban wholly inside');
    t.match(lift.stdout, /still banned.*198\.51\.0\.0\/16/, 'and keeps the wider one');
    t.notOk((await bannedIps()).includes('198.51.100.7'));

    const list = await cli('ignore', 'list');
    t.match(list.stdout, /^NETWORK\s+ADDED\s+BY\n198\.51\.100\.0\/24\s+\S+\s+.+@ctl\n$/, 'list: network, when, who');
    t.match(JSON.parse((await cli('ignore', 'list', '--json')).stdout), { ignored: [{ network: '198.51.100.0/24', by: /@ctl$/, atMs: Number }] });

    await t.test('0.0.0.0/0 and ::/0 may be ignored: they ban nothing and unban nothing', async (t) => {
      const before = await bannedIps();
      const all = await cli('ignore', 'add', '0.0.0.0/0', '::/0');
      t.equal(all.code, 0);
      t.same(await bannedIps(), before, 'every ban stays');
      const r = refused('203.0.113.40');
      await fail('203.0.113.40');
      await r;
      t.equal((await cli('ban', '203.0.113.41')).code, 1, 'no ban may be made');
      t.equal((await cli('ignore', 'del', '0.0.0.0/0', '::/0')).code, 0, 'removed again');
    });

    await controller.stop('SIGTERM');
    controller = FleetbanProcess.start(t, 'controller-2', ['controller', '-c', conf]);
    await controller.waitForMsg('controller ready');
    t.match(controller.entries.find((e) => e.msg === 'fleet ignore list loaded: never banned'), { ignored: ['198.51.100.0/24'] }, 'the list survives a restart');
    const again = refused('198.51.100.10');
    await fail('198.51.100.10');
    await again;

    const absent = await cli('ignore', 'del', '198.51.100.0/24', '192.0.2.0/24');
    t.equal(absent.code, 1, 'del of a network not on the list fails');
    t.match(absent.stderr, /not on the ignore list: 192\.0\.2\.0\/24/);
    const del = await cli('ignore', 'del', '198.51.100.0/24');
    t.equal(del.stdout, 'no longer ignored: 198.51.100.0/24\n');
    t.equal((await cli('ignore', 'list')).stdout, 'The ignore list is empty.\n');
    const ban = banned('198.51.100.11');
    for (let i = 0; i < 3; i++) await fail('198.51.100.11');
    await ban;
    t.pass('once removed, failures count and ban again');
    t.equal((await cli('ignore', 'add', 'not-an-ip')).code, 1, 'a bad network is refused');
    t.equal((await cli('ignore', 'add')).code, 2, 'add without networks: usage');
    t.equal((await cli('ignore', 'list', '--unban')).code, 2, '--unban only with add');
  });

  await controller.stop('SIGTERM');
});
