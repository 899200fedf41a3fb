// The rest of fail2ban-client's habits, fleet-wide: `fleetban get`, `set` and `reload` (and SIGHUP),
// run as the real command line against a real nats-server and controller, with failures published
// as an agent would. (The ignore list: cli-habits-ignore.test.ts.)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { adminWorld } from './fixtures/admin-world.js';

t.setTimeout(600_000);

t.test('get, set and reload against a controller', async (t) => {
  const dir = testDir(t, { 'ignore.list': '# the office\n192.0.2.0/24\n\n2001:db8::1  # a laptop\n' });
  const w = await adminWorld(t, dir);
  const { conf, original, cli } = w;

  await t.test('fleetban get JAIL [OPTION]: what the controller holds', async (t) => {
    t.equal((await cli('get', 'sshd', 'maxretry')).stdout, '3\n', 'get sshd maxretry prints the value');
    const all = await cli('get', 'sshd');
    t.match(all.stdout, /^maxretry\s+= 3$/m, 'every option without OPTION');
    t.match(all.stdout, /^findtime\s+= 10m$/m);
    t.match(all.stdout, /^bantime\s+= 1h$/m, 'durations as the file writes them');
    t.match(all.stdout, /^bantime\.increment\s+= false$/m);
    const json = JSON.parse((await cli('get', 'sshd', 'findtime', '--json')).stdout) as { ok: boolean; options: unknown[] };
    t.match(json, { ok: true, options: [{ jail: 'sshd', name: 'findtime', value: '10m' }] }, '--json: the reply');
    const nosuch = await cli('get', 'nosuch', 'maxretry');
    t.equal(nosuch.code, 1, 'a jail the controller does not have is an error');
    t.match(nosuch.stderr, /jail 'nosuch' does not exist/);
    await t.rejects(w.ask({ verb: 'get', jail: 'sshd', option: 'colour' }), { message: /expected one of: maxretry, findtime/ }, 'an unknown option is an error');
    t.equal((await cli('get')).code, 2, 'no jail: a usage error');
  });

  await t.test('fleetban reload keeps windows and bans, applies thresholds, jails and ignoreip', async (t) => {
    await w.ask({ verb: 'ban', ip: '203.0.113.99' });
    const c = w.counted('203.0.113.20', 2);
    await w.fail('203.0.113.20');
    await w.fail('203.0.113.20');
    await c;
    writeFileSync(
      conf,
      original.replace('findtime = 10m', 'findtime = 20m').replace('[DEFAULT]', `[controller]\nignoreip = 198.51.100.1 file:${join(dir, 'ignore.list')}\n\n[DEFAULT]`) +
        '\n[web]\nenabled = true\nmaxretry = 7\nlogpath = /var/log/web.log\n',
    );
    const audit = w.next('configuration reloaded');
    const r = await cli('reload');
    t.equal(r.code, 0, 'reload exits 0');
    t.match(r.stdout, /^reloaded: \d+ changes$/m, 'says how many changes');
    t.match(r.stdout, /^  sshd\.findtime: 10m → 20m$/m, 'a kept jail\'s threshold');
    t.match(r.stdout, /^  web: added$/m, 'a new jail');
    t.match(r.stdout, /^  controller\.ignoreip: \(none\) → 198\.51\.100\.1 192\.0\.2\.0\/24 2001:db8::1$/m, '[controller] ignoreip, with the file: list read');
    t.match(await audit, { by: /^.+@ctl$/, changes: Number }, 'the controller logs who reloaded');
    t.equal(await w.option('web', 'maxretry'), '7', 'the new jail is there');
    t.equal(await w.option('sshd', 'findtime'), '20m');
    const ban = w.banned('203.0.113.20');
    await w.fail('203.0.113.20');
    t.match(await ban, { failures: 3 }, 'the third failure bans: the two counted before the reload were kept (maxretry 3)');
    t.same(await w.bannedIps(), ['203.0.113.20', '203.0.113.99'], 'the ban made before the reload is still listed');
    const office = w.refused('192.0.2.7');
    await w.fail('192.0.2.7');
    t.match(await office, { why: 'ignoreip' }, 'an address of the file: list is refused, not counted');

    // a broken file: the controller keeps its configuration and says why (the command line, reading
    // the same file for its own connection, stops at the error first: asked over NATS instead)
    writeFileSync(conf, original.replace('maxretry = 3', 'maxretry = zero'));
    const failed = w.next('reload failed: the running configuration is kept');
    await t.rejects(w.ask({ verb: 'reload' }), { code: 'ADMIN_REFUSED', message: /ctl\.conf: DEFAULT\.maxretry \(line \d+\): expected a positive whole number, got "zero"/ }, 'a file with an error: the reply names the file, the key and what was expected');
    t.match(await failed, { err: { message: /DEFAULT\.maxretry/ } }, 'and the controller logs it');
    const hupBad = w.next('reload failed: the running configuration is kept');
    w.controller.proc.kill('SIGHUP');
    t.match(await hupBad, { by: 'SIGHUP' }, 'SIGHUP with a broken file: logged, nothing changed');
    t.equal((await cli('reload')).code, 1, 'the command line itself refuses the broken file');
    t.equal(await w.option('sshd', 'findtime'), '20m', 'the running configuration is untouched');
    t.equal(await w.option('web', 'maxretry'), '7');

    writeFileSync(conf, original.replace('[DEFAULT]', `[controller]\nignoreip = file:${join(dir, 'missing.list')}\n\n[DEFAULT]`));
    await t.rejects(w.ask({ verb: 'reload' }), { message: /missing\.list: file \(named by controller\.ignoreip/ }, 'an ignoreip file: list that cannot be read fails the reload, naming it');

    writeFileSync(conf, original.replace('maxretry = 3', 'maxretry = 2'));
    const hup = w.next('configuration reloaded');
    w.controller.proc.kill('SIGHUP');
    t.match(await hup, { by: 'SIGHUP' }, 'SIGHUP reloads');
    t.equal(await w.option('sshd', 'maxretry'), '2', 'the file\'s new maxretry applies');
    t.equal(await w.option('sshd', 'findtime'), '10m');
    await t.rejects(w.ask({ verb: 'get', jail: 'web', option: 'maxretry' }), { message: /jail 'web' does not exist/ }, 'the removed jail is gone');
    t.match(w.controller.entries.filter((e) => e.msg === 'reload: changed' && e.what === 'web' && e.to === ''), [{ note: /windows dropped/ }], 'its removal logged');
    t.same(await w.bannedIps(), ['203.0.113.20', '203.0.113.99'], 'bans stay');
    writeFileSync(conf, original);
    await w.ask({ verb: 'reload' });
  });

  await t.test('fleetban set JAIL OPTION VALUE: applied at once, windows kept, with an audit line', async (t) => {
    t.equal(await w.option('sshd', 'maxretry'), '3');
    const c = w.counted('203.0.113.30', 1);
    await w.fail('203.0.113.30');
    await c;
    const audit = w.next('jail option set by admin');
    const r = await cli('set', 'sshd', 'maxretry', '2');
    t.equal(r.code, 0);
    t.equal(r.stdout, 'sshd.maxretry: 3 → 2\n', 'prints old → new');
    t.match(await audit, { by: /^.+@ctl$/, jail: 'sshd', option: 'maxretry', from: '3', to: '2' }, 'who, what, old → new');
    const ban = w.banned('203.0.113.30');
    await w.fail('203.0.113.30');
    t.match(await ban, { failures: 2 }, 'the second failure bans, without a restart (the first was kept)');
    const fresh = w.banned('203.0.113.31');
    await w.fail('203.0.113.31');
    await w.fail('203.0.113.31');
    t.match(await fresh, { failures: 2 }, '2 failures then ban');
    t.match(JSON.parse((await cli('set', 'sshd', 'bantime', '-1', '--json')).stdout), { ok: true, changes: [{ what: 'sshd.bantime', from: '1h', to: '-1' }] }, 'bantime -1 = permanent; --json');
    t.match(await w.ask({ verb: 'set', jail: 'sshd', option: 'bantime', value: '2h' }), { changes: [{ from: '-1', to: '2h' }] });
    const bad = await cli('set', 'sshd', 'maxretry', 'zero');
    t.equal(bad.code, 1, 'a bad value is refused');
    t.match(bad.stderr, /sshd maxretry: expected a positive whole number, got "zero"/, 'as the file\'s reader says');
    await t.rejects(w.ask({ verb: 'set', jail: 'sshd', option: 'bantime.formula', value: '__import__("os")' }), 'a formula outside the safe subset is refused');
    await t.rejects(w.ask({ verb: 'set', jail: 'sshd', option: 'ignoreip', value: '192.0.2.1' }), { message: /an option set may change/ }, 'options set may not change are refused');
    t.equal(await w.option('sshd', 'maxretry'), '2', 'refusals changed nothing');
    t.equal((await cli('set', 'sshd', 'maxretry')).code, 2, 'no value: a usage error');
    t.match((await w.ask({ verb: 'reload' })).changes, [{ what: 'sshd.maxretry', from: '2', to: '3' }, { what: 'sshd.bantime', from: '2h', to: '1h' }], 'a reload takes the file\'s values again');
  });
});
