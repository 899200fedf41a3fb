// Host-site actions on the agent: the firewall writer tells each ban it took and let go, once the
// firewall holds the change, to the host's action queues; a test action POSTs each event to a real
// HTTP server on 127.0.0.1. A failing receiver is retried with a growing delay and never holds the
// firewall up. The first test drives the writer with an in-memory enforcer (the firewall itself is
// tested elsewhere); the second runs nats-server, a controller and an agent (dry-run enforcer) as
// processes, with `host_action = webhook[...]` read from the agent's config.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { ActionError, type ActionRunner, type BanDecision, type BanEvent, silentLogger } from '@fleetban/shared';
import { HostActions } from '../packages/agent/src/actions/host-actions.js';
import { FirewallWriter } from '../packages/agent/src/decisions/firewall-writer.js';
import type { BanEntry, Enforcer } from '../packages/agent/src/enforce/enforcer.js';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { HookServer } from './fixtures/hook-server.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

/** An enforcer that holds its elements in memory; `failNext` makes the next apply fail. */
function memoryEnforcer() {
  const held = new Set<string>();
  const e = {
    held,
    failNext: false,
    failed: 0,
    name: 'memory',
    start: async () => {},
    apply: async (bans: readonly BanEntry[], unbans: readonly string[]) => {
      if (e.failNext) {
        e.failNext = false;
        e.failed++;
        throw new Error('kernel said no');
      }
      for (const b of bans) held.add(b.target);
      for (const u of unbans) held.delete(u);
    },
    reconcile: async (all: readonly BanEntry[]) => {
      held.clear();
      for (const b of all) held.add(b.target);
      return { added: 0, removed: 0 };
    },
    list: async () => [],
    report: () => ({ backend: 'memory', elements: held.size, applied: 0, removed: 0, failed: 0, drift: 0, repairs: 0, reconciles: 0 }),
    stop: async () => {},
  };
  return e satisfies Enforcer;
}

/** A host action of jail `jail` POSTing each event to `url`: 5xx retryable, 4xx not. */
function hook(jail: string, url: string): ActionRunner & { started: number; stopped: number } {
  const r = {
    name: 'hook', jail, site: 'host' as const, started: 0, stopped: 0,
    start: async () => void r.started++,
    stop: async () => void r.stopped++,
    async run(e: BanEvent) {
      const res = await fetch(url, { method: 'POST', body: JSON.stringify(e) }).catch((cause: unknown) => {
        throw new ActionError(`POST ${url}`, true, { cause });
      });
      await res.arrayBuffer();
      if (res.status >= 500) throw new ActionError(`POST ${url}: ${res.status}`, true);
      if (res.status >= 400) throw new ActionError(`POST ${url}: ${res.status}`, false);
    },
  };
  return r;
}

const ban = (ip: string, id: string, over: Partial<BanDecision> = {}): BanDecision => ({
  ip, jail: 'sshd', atMs: NOW, expiresMs: NOW + 3_600_000, reason: 'threshold', banCount: 1, hosts: ['web1'], matches: [], failures: 3, scope: [], id, user: 'root', ...over,
});
const entry = (b: BanDecision): BanEntry => ({ target: b.ip, expiresMs: b.expiresMs, jail: b.jail });

t.test('host actions: told once per ban taken and let go, after the firewall holds it; retried; never blocking', async (t) => {
  const server = await HookServer.start(t);
  const runner = hook('sshd', server.url);
  const actions = new HostActions([runner, hook('other', server.url)], silentLogger(), { firstRetryMs: 50 });
  await actions.start();
  t.equal(runner.started, 1, 'actionstart ran');
  const enf = memoryEnforcer();
  const told: string[] = [];
  const writer = new FirewallWriter(enf, () => NOW, silentLogger(), { stateDir: testDir(t), reconcileMs: 60_000, banEvents: (e) => {
    told.push(e.id);
    actions.tell(e);
  }, host: 'web1' });
  await writer.restore();
  t.teardown(() => writer.stop());

  const old = ban('192.0.2.1', 'old');
  writer.fleetPut(entry(old), true, old);
  await writer.fleetListRead();
  t.equal(server.requests.length, 0, 'the list as first read is no event (a restart does not fire actions again)');

  const b = ban('192.0.2.2', 'web1:sshd:l9');
  writer.fleetPut(entry(b), false, b);
  await server.waitFor((r) => r.json?.id === 'ban:web1:sshd:l9', 'the ban');
  t.ok(enf.held.has('192.0.2.2'), 'the firewall held it before the action was told');
  t.match(server.requests[0]?.json, { kind: 'ban', ban: { ip: '192.0.2.2', jail: 'sshd', user: 'root' } }, 'the ban as decided');

  const widened = { ...b, hosts: ['web1', 'web2'] };
  writer.fleetPut(entry(widened), false, widened);

  server.answers.push(500, 500);
  // a receiver that fails does not hold the firewall up: the next change is enforced at once
  writer.fleetDelete('192.0.2.2', false, true);
  await waitUntil(async () => !enf.held.has('192.0.2.2'), 'the unban enforced');
  await server.waitFor((r) => r.status === 200 && r.json?.id === 'unban:web1:sshd:l9', 'the unban, after two failures');
  t.same(server.requests.filter((r) => r.json?.id === 'unban:web1:sshd:l9').map((r) => r.status), [500, 500, 200], 'retried until delivered');
  t.equal(server.requests.filter((r) => r.json?.kind === 'unban')[0]?.json?.why, 'admin', 'an unban before its time: admin');

  enf.failNext = true;
  const c = ban('192.0.2.3', 'web1:sshd:l12');
  writer.fleetPut(entry(c), false, c);
  await waitUntil(async () => enf.failed === 1, 'the failed write');
  t.notOk(told.some((x) => x.endsWith('ban:web1:sshd:l12')), 'a ban the firewall failed to take is not told');
  await writer.reconcile('test'); // the failed apply is repaired here
  await server.waitFor((r) => r.json?.id === 'ban:web1:sshd:l12', 'the ban whose first write failed, told once the firewall holds it');

  writer.localBan({ ip: '192.0.2.4', jail: 'sshd', atMs: NOW, expiresMs: NOW + 60_000, failures: 5, why: 'nats disconnected' });
  await server.waitFor((r) => r.json?.kind === 'ban' && (r.json.ban as BanDecision).ip === '192.0.2.4', 'a local ban');
  t.match(server.requests.at(-1)?.json, { ban: { scope: ['web1'], id: `local:web1:sshd:192.0.2.4:${NOW}` } }, 'a local ban is this host\'s');

  const other = ban('192.0.2.5', 'x:1', { jail: 'nginx' });
  writer.fleetPut(entry(other), false, other);
  await writer.reconcile('test');
  t.equal(server.delivered((j) => j.id === 'ban:web1:sshd:l9').length, 1, 'the widened ban was not told again');
  t.equal(server.delivered((j) => (j.ban as BanDecision).jail === 'nginx').length, 0, 'a jail without host actions: nothing');
  t.equal(server.requests.filter((r) => r.status === 200).length, 4, 'four deliveries in all');
  await actions.stop();
  t.equal(runner.stopped, 1, 'actionstop ran');
});

t.test('host_action = webhook[...] on a real agent: its firewall takes the fleet ban, then the webhook is told', async (t) => {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const server = await HookServer.start(t);
  const common = { nats: nats.url, dir, maxretry: 2, bantime: '1h' };
  const ctlConf = writeTestConfig({ ...common, host: 'ctl' });
  const agentConf = writeTestConfig({ ...common, host: 'web-1', enforcer: 'dry-run', extra: `host_action = webhook[url=${server.url}]` });
  const log = join(dir, 'web-1', 'sshd.log');
  writeFileSync(log, '');
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', ctlConf]);
  await controller.waitForMsg('controller ready', 30_000);
  const agent = FleetbanProcess.start(t, 'web-1', ['agent', '-c', agentConf]);
  await agent.waitForMsg('agent ready', 30_000);

  const ip = '203.0.113.71';
  const enforced = agent.waitForNext((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes(ip), 30_000, `enforced ${ip}`);
  appendFileSync(log, `Nov 21 12:00:00 web-1 sshd[10]: Failed password for root from ${ip} port 40000 ssh2\nNov 21 12:00:01 web-1 sshd[10]: Failed password for root from ${ip} port 40002 ssh2\n`);
  await enforced;
  await server.waitFor((r) => r.status === 200 && r.json?.kind === 'ban' && r.json.ip === ip, 'the host action\'s ban');
  t.match(server.requests[0]?.json, { kind: 'ban', ip, jail: 'sshd', user: 'root' }, 'the webhook got the ban the firewall took');
  const unbanned = agent.waitForNext((e) => e.msg === 'enforced' && Array.isArray(e.unbans) && e.unbans.includes(ip), 30_000, `unban of ${ip} enforced`);
  await runFleetban(['unban', ip, '-c', ctlConf]);
  await unbanned;
  await server.waitFor((r) => r.status === 200 && r.json?.kind === 'unban' && r.json.ip === ip, 'the host action\'s unban');
  t.equal(server.requests.length, 2, 'one ban, one unban');
  await agent.stop('SIGTERM');
  await controller.stop('SIGTERM');
});
