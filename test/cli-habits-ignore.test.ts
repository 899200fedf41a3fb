// `fleetban ignore add|del|list`: the fleet's ignore list, kept by the controller in a KV bucket and
// read by its guard, run as the real command line against a real nats-server and controller, with
// failures published as an agent would.
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { adminWorld } from './fixtures/admin-world.js';

t.setTimeout(600_000);

t.test('fleetban ignore add|del|list against a controller', async (t) => {
  const w = await adminWorld(t, testDir(t));
  const { cli } = w;
  await w.ask({ verb: 'ban', ip: '203.0.113.99' });
  await w.ask({ verb: 'ban', ip: '198.51.100.7' });
  await w.ask({ verb: 'ban', ip: '198.51.0.0/16' });
  const before = ['198.51.0.0/16', '198.51.100.7', '203.0.113.99'];

  await t.test('add: later bans refused, failures not counted, no ban lifted', async (t) => {
    const audit = w.next('ignore list: added by admin');
    const add = await cli('ignore', 'add', '198.51.100.0/24');
    t.equal(add.code, 0);
    t.match(add.stdout, /^ignored on every host: 198\.51\.100\.0\/24/, 'says it is ignored');
    t.match(add.stdout, /still banned, as fail2ban's addignoreip leaves them: (198\.51\.100\.7 198\.51\.0\.0\/16|198\.51\.0\.0\/16 198\.51\.100\.7)/, 'names the bans it covers, and lifts none');
    t.match(await audit, { by: /^.+@ctl$/, networks: ['198.51.100.0/24'], covered: 2, unbanned: [] });
    t.same(await w.bannedIps(), before, 'ignore add unbanned nothing');
    const r = w.refused('198.51.100.8');
    for (let i = 0; i < 3; i++) await w.fail('198.51.100.8');
    t.match(await r, { why: 'ignoreip' }, 'a failure from the network is refused, not counted');
    const manual = await cli('ban', '198.51.100.9');
    t.equal(manual.code, 1, 'a manual ban inside is refused');
    t.match(manual.stderr, /fleet's ignore list/);
    await t.rejects(w.ask({ verb: 'ban', ip: '198.51.96.0/20', force: true }), { message: /covers 198\.51\.100\.0\/24/ }, 'a wider ban covering it too, even with force');
    t.ok(((await w.ask({ verb: 'status' })).counters['events.refused.ignoreip'] ?? 0) >= 3, 'refusals counted as events.refused.ignoreip');
    t.same(await w.bannedIps(), before, 'still nothing banned or unbanned');
  });

  await t.test('add --unban: lifts the bans wholly inside, never a wider one', async (t) => {
    const lift = await cli('ignore', 'add', '198.51.100.0/24', '--unban');
    t.match(lift.stdout, /unbanned 1 ban lying inside/, 'the ban inside lifted');
    t.match(lift.stdout, /still banned.*198\.51\.0\.0\/16/, 'the wider one kept');
    t.same(await w.bannedIps(), ['198.51.0.0/16', '203.0.113.99']);
  });

  await t.test('list', async (t) => {
    t.match((await cli('ignore', 'list')).stdout, /^NETWORK\s+ADDED\s+BY\n198\.51\.100\.0\/24\s+\S+\s+.+@ctl\n$/, 'network, when, who');
    t.match(JSON.parse((await cli('ignore', 'list', '--json')).stdout), { ok: true, ignored: [{ network: '198.51.100.0/24', by: /@ctl$/, atMs: Number }] }, '--json');
  });

  await t.test('0.0.0.0/0 and ::/0 may be ignored: they ban nothing and unban nothing', async (t) => {
    const banned = await w.bannedIps();
    t.equal((await cli('ignore', 'add', '0.0.0.0/0', '::/0')).code, 0);
    t.same(await w.bannedIps(), banned, 'every ban stays');
    const r = w.refused('203.0.113.40');
    await w.fail('203.0.113.40');
    await r;
    await t.rejects(w.ask({ verb: 'ban', ip: '203.0.113.41' }), 'no ban may be made');
    await t.rejects(w.ask({ verb: 'ban', ip: '2001:db8::41' }), 'of either family');
    t.match(await w.ask({ verb: 'ignore', op: 'del', networks: ['0.0.0.0/0', '::/0'] }), { ignored: [{ network: '0.0.0.0/0' }, { network: '::/0' }] }, 'removed again');
  });

  await t.test('the list survives a restart; del; errors', async (t) => {
    await w.restart();
    t.match(w.controller.entries.find((e) => e.msg === 'fleet ignore list loaded: never banned'), { ignored: ['198.51.100.0/24'] }, 'read back at start');
    const again = w.refused('198.51.100.10');
    await w.fail('198.51.100.10');
    await again;
    const absent = await cli('ignore', 'del', '198.51.100.0/24', '192.0.2.0/24');
    t.equal(absent.code, 1, 'del of a network not on the list fails');
    t.match(absent.stderr, /not on the ignore list: 192\.0\.2\.0\/24/);
    t.equal((await w.ask({ verb: 'ignore', op: 'list' })).ignored?.length, 1, 'and changed nothing');
    t.equal((await cli('ignore', 'del', '198.51.100.0/24')).stdout, 'no longer ignored: 198.51.100.0/24\n');
    t.equal((await cli('ignore', 'list')).stdout, 'The ignore list is empty.\n');
    const ban = w.banned('198.51.100.11');
    for (let i = 0; i < 3; i++) await w.fail('198.51.100.11');
    await ban;
    t.pass('once removed, failures count and ban again');
    await t.rejects(w.ask({ verb: 'ignore', op: 'add', networks: ['not-an-ip'] }), { message: /not an address or CIDR range: "not-an-ip"/ }, 'a bad network is refused');
    t.equal((await cli('ignore', 'add')).code, 2, 'add without networks: usage');
    t.equal((await cli('ignore', 'list', '--unban')).code, 2, '--unban only with add');
  });
});
