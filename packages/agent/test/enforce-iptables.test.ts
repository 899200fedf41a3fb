/**
 * The iptables + ipset backend against real iptables (both iptables-nft and iptables-legacy)
 * and ipset, always inside network namespaces this file creates: ipsets and iptables rules are
 * per namespace, the host's own firewall is never touched.
 */
import t from 'tap';
import type { Test } from 'tap';
import { silentLogger } from '@fleetban/shared';
import { createRunner, type Runner } from '../src/enforce/exec.js';
import { IptablesEnforcer } from '../src/enforce/iptables.js';
import { createLan, createNetns, listenTcp, tcpConnects, type Netns } from '../../../test/fixtures/netns.js';

const base = createRunner({ timeoutMs: 10_000 });
const nsRunner = (ns: Netns): Runner => (file, args, input) => base('ip', ['netns', 'exec', ns.name, file, ...args], input);
const sorted = (xs: readonly string[]) => [...xs].sort();
const inMs = (ms: number): number => Date.now() + ms;
const sshd = new Map([['sshd', { protocols: ['tcp' as const], ports: [{ from: 8022, to: 8022 }] }]]);

for (const variant of ['iptables-nft', 'iptables-legacy'] as const) {
  const ip6 = variant.replace('iptables', 'ip6tables');
  const enforcerIn = (ns: Netns, blockType: 'drop' | 'reject' = 'drop') =>
    new IptablesEnforcer({ runner: nsRunner(ns), clock: Date.now, logger: silentLogger(), iptables: variant, scopes: sshd, blockType, destroyRetryMs: 20 });
  const rules = async (ns: Netns, cmd: string, table: string) => ns.exec(cmd, ['-w', '-t', table, '-S']);

  t.test(`${variant}: start lays out sets, chains and jumps once`, async (t: Test) => {
    const ns = await createNetns(t, 'ipt1');
    const enf = enforcerIn(ns);
    await enf.start();
    await enf.start();
    await enforcerIn(ns).start();
    t.same(sorted((await ns.exec('ipset', ['list', '-n'])).split('\n')), ['fleetban4', 'fleetban4p', 'fleetban6', 'fleetban6p']);
    const raw = await rules(ns, variant, 'raw');
    t.match(raw, /-A PREROUTING -j FLEETBAN\n/);
    t.equal(raw.split('-A PREROUTING -j FLEETBAN').length, 2, 'one jump from raw PREROUTING');
    t.match(raw, '-A FLEETBAN -m set --match-set fleetban4 src -j DROP');
    t.match(raw, '-A FLEETBAN -m set --match-set fleetban4p src,dst -j DROP');
    const filter = await rules(ns, variant, 'filter');
    t.match(filter, /-A INPUT -j FLEETBAN\n-A FORWARD -j FLEETBAN\n/, 'INPUT and FORWARD (no Docker here)');
    t.equal(filter.split('-j FLEETBAN').length, 3, 'no duplicated jumps after restarts');
    t.match(await rules(ns, ip6, 'filter'), '-A FLEETBAN -m set --match-set fleetban6 src -j DROP');
    t.match(enf.report(), { backend: 'iptables', drift: 0, repairs: 0 });
  });

  t.test(`${variant}: banned cannot connect, others can; IPv4, IPv6, CIDR, port scope`, async (t: Test) => {
    const lan = await createLan(t, 'ipt2', ['attacker', 'friend', 'server'] as const);
    const { attacker, friend, server } = lan.hosts;
    await listenTcp(server.ns, 8022);
    await listenTcp(server.ns, 8080);
    const enf = enforcerIn(server.ns);
    await enf.start();
    const can = (from: Netns, to: string, port = 8022, timeoutMs = 3000) => tcpConnects(from, to, port, timeoutMs);
    const blocked = async (from: Netns, to: string, port = 8022) => !(await can(from, to, port, 700));

    await enf.apply([{ target: attacker.ipv4, expiresMs: inMs(600_000) }, { target: attacker.ipv6, expiresMs: 0 }], []);
    t.same(sorted(await enf.list()), sorted([attacker.ipv4, attacker.ipv6]));
    t.ok(await blocked(attacker.ns, server.ipv4), 'banned IPv4 address is dropped');
    t.ok(await blocked(attacker.ns, server.ipv6), 'banned IPv6 address is dropped');
    t.ok(await can(friend.ns, server.ipv4), 'unbanned neighbour connects (IPv4)');
    t.ok(await can(friend.ns, server.ipv6), 'unbanned neighbour connects (IPv6)');
    t.match(await rules(server.ns, variant, 'raw'), /-A FLEETBAN -m set --match-set fleetban4 src -j DROP/);

    await enf.apply([], [attacker.ipv4, attacker.ipv6]);
    t.same(await enf.list(), []);
    t.ok(await can(attacker.ns, server.ipv4), 'unban restores IPv4');
    t.ok(await can(attacker.ns, server.ipv6), 'unban restores IPv6');

    await enf.apply([{ target: '192.0.2.0/31', expiresMs: 0 }, { target: '2001:db8:f1ee::/124', expiresMs: inMs(60_000) }], []);
    t.ok(await blocked(attacker.ns, server.ipv4), 'IPv4 CIDR /31 covers .1');
    t.ok(await blocked(attacker.ns, server.ipv6), 'IPv6 CIDR covers ::1');
    t.ok(await can(friend.ns, server.ipv4), 'and not .2');
    await enf.apply([], ['192.0.2.0/31', '2001:db8:f1ee::/124']);

    await enf.apply([{ target: attacker.ipv4, expiresMs: 0, jail: 'sshd' }, { target: attacker.ipv6, expiresMs: inMs(60_000), jail: 'sshd' }], []);
    t.same(sorted(await enf.list()), sorted([`${attacker.ipv4} tcp/8022`, `${attacker.ipv6} tcp/8022`]));
    t.ok(await blocked(attacker.ns, server.ipv4), 'port-scoped ban closes 8022 (IPv4)');
    t.ok(await blocked(attacker.ns, server.ipv6), 'port-scoped ban closes 8022 (IPv6)');
    t.ok(await can(attacker.ns, server.ipv4, 8080), 'and leaves 8080 open (IPv4)');
    t.ok(await can(attacker.ns, server.ipv6, 8080), 'and leaves 8080 open (IPv6)');
    t.same(enf.report().failed, 0);
  });

  t.test(`${variant}: reconcile repairs flushed sets, removed jumps and chains; bad elements are isolated`, async (t: Test) => {
    const ns = await createNetns(t, 'ipt3');
    const enf = enforcerIn(ns);
    await enf.start();
    const wanted = [
      { target: '192.0.2.10', expiresMs: inMs(600_000) },
      { target: '198.51.100.0/24', expiresMs: 0 },
      { target: '2001:db8::7', expiresMs: inMs(40 * 86_400_000) }, // longer than ipset's longest timeout
      { target: '203.0.113.5', expiresMs: 0, jail: 'sshd' },
    ];
    const keys = sorted(['192.0.2.10', '198.51.100.0/24', '2001:db8::7', '203.0.113.5 tcp/8022']);
    t.same(await enf.reconcile(wanted), { added: 4, removed: 0 });
    t.same(await enf.reconcile(wanted), { added: 0, removed: 0 }, 'a capped timeout is not re-added every time');
    t.same(sorted(await enf.list()), keys);

    await ns.exec('ipset', ['flush', 'fleetban4']);
    await ns.exec('ipset', ['add', 'fleetban6', '2001:db8:1::/64']);
    await ns.exec(variant, ['-w', '-F', 'INPUT']); // e.g. firewall-cmd --reload
    await ns.exec(variant, ['-w', '-t', 'raw', '-I', 'PREROUTING', '1', '-j', 'ACCEPT']); // someone else goes first
    t.same(await enf.reconcile(wanted), { added: 2, removed: 1 });
    t.same(sorted(await enf.list()), keys);
    t.match(await rules(ns, variant, 'filter'), /-A INPUT -j FLEETBAN/, 'jump back in INPUT');
    t.match(await rules(ns, variant, 'raw'), /-A PREROUTING -j FLEETBAN\n-A PREROUTING -j ACCEPT/, 'first again in PREROUTING');
    t.match(enf.report(), { drift: 1 + 3, repairs: 1 }, 'one structure repair, three element differences');

    // everything gone (iptables -F -X in both tables, sets destroyed): rebuilt with the elements
    for (const table of ['raw', 'filter']) {
      await ns.exec(variant, ['-w', '-t', table, '-F']);
      await ns.exec(variant, ['-w', '-t', table, '-X']);
      await ns.exec(ip6, ['-w', '-t', table, '-F']);
      await ns.exec(ip6, ['-w', '-t', table, '-X']);
    }
    await ns.exec('ipset', ['destroy']);
    t.same(await enf.reconcile(wanted), { added: 4, removed: 0 });
    t.same(sorted(await enf.list()), keys);
    t.match(await rules(ns, ip6, 'raw'), '-A FLEETBAN -m set --match-set fleetban6p src,dst -j DROP');

    // a set of the wrong type under fleetban's name is replaced
    await enf.stop('flush');
    await ns.exec('ipset', ['create', 'fleetban4', 'hash:ip']);
    await enf.start();
    t.match(await ns.exec('ipset', ['list', 'fleetban4', '-t']), /Type: hash:net/);

    // one bad element among good ones: the others are applied
    await enf.apply([
      { target: '192.0.2.50', expiresMs: inMs(60_000) },
      { target: '0.0.0.0/0', expiresMs: 0 }, // hash:net refuses a /0: rejected by ipset
      { target: 'not-an-address', expiresMs: 0 },
      { target: '2001:db8::5', expiresMs: 0 },
    ], []);
    t.same(sorted(await enf.list()), ['192.0.2.50', '2001:db8::5']);
    t.match(enf.report(), { failed: 2 });
  });

  t.test(`${variant}: stop flush removes everything fleetban added, keep leaves it; reject`, async (t: Test) => {
    const lan = await createLan(t, 'ipt4', ['attacker', 'server'] as const);
    const { attacker, server } = lan.hosts;
    await listenTcp(server.ns, 8080);
    const before = { raw: await rules(server.ns, variant, 'raw'), filter: await rules(server.ns, variant, 'filter') };
    const enf = enforcerIn(server.ns, 'reject');
    await enf.start();
    await enf.apply([{ target: attacker.ipv4, expiresMs: 0 }], []);
    t.match(await rules(server.ns, variant, 'filter'), '-A FLEETBAN -m set --match-set fleetban4 src -j REJECT --reject-with icmp-port-unreachable');
    t.notMatch(await rules(server.ns, variant, 'raw'), /fleetban4 src/, 'no whole-address drop in raw when rejecting');
    t.notOk(await tcpConnects(attacker.ns, server.ipv4, 8080, 3000), 'rejected');
    await enf.stop('keep');
    t.same(await enforcerIn(server.ns).list(), [attacker.ipv4], 'keep: bans stay');
    await enf.stop('flush');
    t.equal(await server.ns.exec('ipset', ['list', '-n']), '', 'flush: no ipset left');
    t.same({ raw: await rules(server.ns, variant, 'raw'), filter: await rules(server.ns, variant, 'filter') }, before, 'flush: rules as before');
    await enf.stop('flush');
    t.ok(await tcpConnects(attacker.ns, server.ipv4, 8080, 3000), 'open again');
  });
}
