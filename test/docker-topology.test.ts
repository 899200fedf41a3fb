/**
 * Docker, rebuilt in network namespaces: a "host" publishing a "container"'s port 22 as 2222 and
 * its port 80 as 8080 with the iptables-nft rules dockerd writes (nat PREROUTING → DOCKER →
 * DNAT; filter FORWARD → DOCKER-USER → DOCKER-ISOLATION-STAGE-1 → DOCKER, policy DROP). For
 * each backend, the agent's ban follower (with a short reconcile interval) enforces bans coming
 * from a scripted ban list: a banned attacker cannot reach the published port, a port-scoped
 * ban closes only the jail's published port, and a Docker restart (its chains deleted and
 * recreated) and an `nft flush ruleset` are both repaired within the interval.
 */
import { Writable } from 'node:stream';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import type { Test } from 'tap';
import { pino } from 'pino';
import type { BanDecision, BanListWatch, JailConfig } from '@fleetban/shared';
import { BanFollower, type BanSource } from '../packages/agent/src/decisions/ban-follower.js';
import { FirewallWriter } from '../packages/agent/src/decisions/firewall-writer.js';
import { createEnforcer } from '../packages/agent/src/enforce/create.js';
import { createRunner, type Runner } from '../packages/agent/src/enforce/exec.js';
import { parseServices } from '../packages/agent/src/enforce/port-scope.js';
import { createLan, createNetns, listenTcp, tcpConnects, type Netns } from './fixtures/netns.js';

const RECONCILE_MS = 500;
/** Bound of every wait for a repair: a few reconcile intervals plus the time one takes. */
const REPAIR_LIMIT_MS = 3 * RECONCILE_MS + 4000;
const CONTAINER = '198.51.100.2';

const base = createRunner({ timeoutMs: 10_000 });
const nsRunner = (ns: Netns): Runner => (file, args, input) => base('ip', ['netns', 'exec', ns.name, file, ...args], input);

/** The filter and nat tables as dockerd lays them out for one container with two published ports. */
const DOCKER_RULES = `*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 198.51.100.0/24 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 2222 -j DNAT --to-destination ${CONTAINER}:22
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination ${CONTAINER}:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER -d ${CONTAINER}/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 22 -j ACCEPT
-A DOCKER -d ${CONTAINER}/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
`;

/**
 * What a Docker restart does to iptables: every Docker chain (and the built-in chains' jumps to
 * them) deleted in one transaction, as dockerd's own restore does, so fleetban's periodic repair
 * cannot slip a rule in between; then Docker's layout is restored.
 */
async function restartDocker(host: Netns): Promise<void> {
  const teardown = [
    '*nat', '-F PREROUTING', '-F OUTPUT', '-F POSTROUTING', '-F DOCKER', '-X DOCKER', 'COMMIT',
    '*filter', '-F FORWARD',
    ...['DOCKER', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER'].flatMap((c) => [`-F ${c}`]),
    ...['DOCKER', 'DOCKER-ISOLATION-STAGE-1', 'DOCKER-ISOLATION-STAGE-2', 'DOCKER-USER'].flatMap((c) => [`-X ${c}`]),
    'COMMIT', '',
  ].join('\n');
  await host.exec('iptables-restore', ['-w', '--noflush'], { input: teardown });
  await host.exec('iptables-restore', ['-w'], { input: DOCKER_RULES });
}

/** Attacker, friend and a Docker host on a LAN; a container behind the host's docker0 bridge. */
async function dockerTopology(t: Test, prefix: string) {
  const lan = await createLan(t, prefix, ['attacker', 'friend', 'host'] as const);
  const { host } = lan.hosts;
  const ctr = await createNetns(t, `${prefix}-ctr`);
  await host.ns.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  await host.ns.exec('ip', ['link', 'add', 'docker0', 'type', 'bridge']);
  await host.ns.exec('ip', ['addr', 'add', '198.51.100.1/24', 'dev', 'docker0']);
  await host.ns.exec('ip', ['link', 'set', 'docker0', 'up']);
  await host.ns.exec('ip', ['link', 'add', 'vethctr', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ctr.name]);
  await host.ns.exec('ip', ['link', 'set', 'vethctr', 'master', 'docker0']);
  await host.ns.exec('ip', ['link', 'set', 'vethctr', 'up']);
  await ctr.exec('ip', ['addr', 'add', `${CONTAINER}/24`, 'dev', 'eth0']);
  await ctr.exec('ip', ['link', 'set', 'eth0', 'up']);
  await ctr.exec('ip', ['route', 'add', 'default', 'via', '198.51.100.1']);
  await host.ns.exec('iptables-restore', ['-w'], { input: DOCKER_RULES });
  await listenTcp(ctr, 22);
  await listenTcp(ctr, 80);
  return { ...lan.hosts, ctr };
}

/** A ban list the test writes to, shaped like the fleet's KV watch. */
class ScriptedBans implements BanSource {
  private w: BanListWatch | undefined;
  async watch(w: BanListWatch): Promise<{ stop(): void }> {
    this.w = w;
    setImmediate(() => w.onInitialized());
    return { stop: () => (this.w = undefined) };
  }
  ban(ip: string, jail: string): void {
    const ban: BanDecision = { ip, jail, atMs: Date.now(), expiresMs: Date.now() + 600_000, reason: 'manual', banCount: 1, hosts: [], matches: [], failures: 0, scope: [] };
    this.w?.onChange({ kind: 'put', ban }, false);
  }
  unban(ip: string): void {
    this.w?.onChange({ kind: 'delete', target: ip }, false);
  }
}

/** Polls `check` every 100 ms until true or `limitMs` passes; the elapsed ms, or null. */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number | null> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > limitMs) return null;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const jail = (name: string, port?: string): JailConfig => ({
  name,
  options: port ? { port: { value: port, file: 'test.conf', section: name, line: 1 } } : {},
} as unknown as JailConfig);

for (const backend of ['nftables', 'iptables'] as const) {
  t.test(`${backend}: Docker-published ports, port scopes, Docker restart and nft flush ruleset`, async (t: Test) => {
    const { attacker, friend, host } = await dockerTopology(t, backend === 'nftables' ? 'dkn' : 'dki');
    const to = (who: Netns, port: number, ms = 3000) => tcpConnects(who, host.ipv4, port, ms);
    t.ok(await to(attacker.ns, 2222), 'before any ban the attacker reaches the container through 2222 → 22');
    t.ok(await to(friend.ns, 8080), 'and 8080 → 80');

    const lines: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => { lines.push(String(c)); cb(); } }));
    const { enforcer, detected } = await createEnforcer(backend, {
      runner: nsRunner(host.ns), clock: Date.now, logger, detect: { exists: () => false },
      jails: [jail('sshd-docker', '2222'), jail('recidive')], services: parseServices(''),
    });
    t.match(detected.summary, /iptables is iptables-nft \(compat\) with DOCKER-USER present \(in iptables-nft\);.*docker present/);
    t.comment(`firewall: ${detected.summary}`);
    await enforcer.start();
    const writer = new FirewallWriter(enforcer, Date.now, logger, { stateDir: testDir(t), reconcileMs: RECONCILE_MS });
    await writer.restore();
    const follower = new BanFollower(writer, logger);
    const bans = new ScriptedBans();
    await follower.start(bans);
    t.teardown(async () => {
      follower.stop();
      await writer.stop();
      await enforcer.stop('flush');
    });
    const blocked = (port: number) => within(REPAIR_LIMIT_MS, async () => !(await to(attacker.ns, port, 700)));

    bans.ban(attacker.ipv4, 'recidive');
    t.not(await blocked(2222), null, 'a banned attacker cannot reach the published port');
    t.notOk(await to(attacker.ns, 8080, 700), 'nor any other published port');
    t.ok(await to(friend.ns, 2222), 'the friend still can');

    bans.unban(attacker.ipv4);
    t.not(await within(REPAIR_LIMIT_MS, () => to(attacker.ns, 2222, 700)), null, 'unbanned: reachable again');

    bans.ban(attacker.ipv4, 'sshd-docker');
    t.not(await blocked(2222), null, "a port-scoped ban closes the jail's published port 2222 (→ 22 in the container)");
    t.ok(await to(attacker.ns, 8080), 'and leaves 8080 open');
    t.ok(await to(friend.ns, 2222), 'and others on 2222');
    t.same(await enforcer.list(), [`${attacker.ipv4} tcp/2222`], 'one element: address, protocol, published port');
    bans.ban(attacker.ipv4, 'recidive');
    t.not(await blocked(8080), null, 'banned again, whole address');

    // a Docker restart: chains deleted and recreated
    const repairsBefore = enforcer.report().repairs;
    await restartDocker(host.ns);
    if (backend === 'iptables') {
      const healed = await within(REPAIR_LIMIT_MS, async () => /^-A DOCKER-USER -j FLEETBAN$/m.test(await host.ns.exec('iptables', ['-w', '-S', 'DOCKER-USER'])));
      t.not(healed, null, 'the jump from DOCKER-USER is back');
      t.comment(`Docker restart repaired after ${healed} ms (reconcile every ${RECONCILE_MS} ms)`);
      t.ok(enforcer.report().repairs > repairsBefore, 'counted as a repair');
      t.match((await host.ns.exec('iptables', ['-w', '-S', 'DOCKER-USER'])).split('\n')[1], '-A DOCKER-USER -j FLEETBAN', 'first in DOCKER-USER');
    } else {
      t.match(await host.ns.exec('nft', ['list', 'table', 'inet', 'fleetban']), /ip saddr @ban4 counter/, "Docker's chains are not fleetban's table");
    }
    t.notOk(await to(attacker.ns, 2222, 700), 'still banned after the Docker restart');
    t.ok(await to(friend.ns, 2222), 'Docker works again for others');

    // nft flush ruleset (everything, Docker's iptables-nft rules included), then Docker restarted
    await host.ns.exec('nft', ['flush', 'ruleset']);
    await host.ns.exec('iptables-restore', ['-w'], { input: DOCKER_RULES });
    const isBack = backend === 'nftables'
      ? async () => (await enforcer.list()).length === 1 && (await host.ns.exec('nft', ['list', 'tables'])).includes('inet fleetban')
      : async () => /^-A DOCKER-USER -j FLEETBAN$/m.test(await host.ns.exec('iptables', ['-w', '-S', 'DOCKER-USER']))
        && /-A PREROUTING -j FLEETBAN/.test(await host.ns.exec('iptables', ['-w', '-t', 'raw', '-S']));
    const healed = await within(REPAIR_LIMIT_MS, isBack);
    t.not(healed, null, 'fleetban repaired itself after nft flush ruleset');
    t.comment(`nft flush ruleset repaired after ${healed} ms (reconcile every ${RECONCILE_MS} ms)`);
    t.notOk(await to(attacker.ns, 2222, 700), 'banned again');
    t.ok(await to(friend.ns, 2222), 'the friend reaches the container');
    t.ok(enforcer.report().drift > 0, `drift counted (${enforcer.report().drift})`);
    t.ok(lines.some((l) => l.includes('structure drifted; repairing it')), 'and logged');
  });
}
