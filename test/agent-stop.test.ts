// SIGTERM ends an agent in every state — connected, cut off (its server frozen), reconnecting with
// failures waiting, never connected, restoring a large saved ban list — with its nftables table
// removed for on_stop = flush and kept for keep; a SIGKILLed agent's table is adopted by the next
// start. Each case runs the agent and nats-server inside a namespace of its own (real nft, never
// the root namespace's firewall). The tests wait for the exit; they assert no wall-clock time.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { createNetns, type Netns } from './fixtures/netns.js';
import { freePort, startNatsServer } from './fixtures/nats-server.js';

const config = (dir: string, nats: string, onStop: 'flush' | 'keep') => {
  const file = join(dir, 'web1.conf');
  writeFileSync(
    file,
    `[fleetban]\nhost = web1\nnats = ${nats}\nstate_dir = ${join(dir, 'state')}\n\n[agent]\nenforcer = nftables\non_stop = ${onStop}\nheartbeat = 1s\npoll = 20ms\n\n` +
      `[DEFAULT]\nmaxretry = 2\nbantime = 1h\n\n[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n`,
  );
  return file;
};
const failures = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `Nov 21 12:00:00 web1 sshd[${i}]: Failed password for root from 203.0.113.${((from + i) % 200) + 1} port ${40000 + i} ssh2\n`).join('');

/** fleetban's table in `ns`: its listing, or null when there is none. */
function table(ns: Netns): string | null {
  try {
    // 20,000 elements list to more than the default 1 MB buffer with nft 1.1 (`expires` on each)
    return execFileSync('ip', ['netns', 'exec', ns.name, 'nft', 'list', 'table', 'inet', 'fleetban'], { maxBuffer: 256 * 1024 * 1024 }).toString();
  } catch {
    return null;
  }
}

/** A namespace, a directory with an empty auth.log, and an agent config pointing at `nats` (or at a closed port). */
async function setup(t: Test, onStop: 'flush' | 'keep', withNats = true) {
  const dir = testDir(t, { 'auth.log': '' });
  const ns = await createNetns(t, 'stop');
  const nats = withNats ? await startNatsServer(t, { netns: ns.name }) : undefined;
  const url = nats?.url ?? `nats://127.0.0.1:${await freePort()}`;
  const start = () => FleetbanProcess.start(t, 'web1', ['agent', '-c', config(dir, url, onStop)], { netns: ns.name });
  return { dir, ns, nats, start };
}

async function stopped(t: Test, agent: FleetbanProcess): Promise<void> {
  t.equal(await agent.stop('SIGTERM'), 0, 'exit 0 after SIGTERM');
  t.ok(agent.entries.some((e) => e.msg === 'agent stopped'), '"agent stopped" logged');
}

t.test('connected, on_stop = flush: SIGTERM stops the agent and removes its table', async (t) => {
  const s = await setup(t, 'flush');
  const agent = s.start();
  await agent.waitForMsg('agent ready');
  t.ok(table(s.ns), 'the table is there while it runs');
  await stopped(t, agent);
  t.equal(table(s.ns), null, 'the table is gone');
});

t.test('cut off (its server frozen mid-connection), on_stop = keep: SIGTERM stops it, the table and its local bans stay', async (t) => {
  const s = await setup(t, 'keep');
  const agent = s.start();
  await agent.waitForMsg('agent ready');
  s.nats!.proc.kill('SIGSTOP');
  t.teardown(() => void s.nats!.proc.kill('SIGCONT'));
  await agent.waitForNext((e) => e.msg === 'fleet unreachable: deciding locally with the jail thresholds', 15_000);
  appendFileSync(join(s.dir, 'auth.log'), failures(1) + failures(1));
  await agent.waitFor((e) => e.msg === 'local ban' && e.ip === '203.0.113.1', 15_000, 'a local ban');
  await stopped(t, agent);
  t.match(table(s.ns), /203\.0\.113\.1/, 'the table is kept, with the local ban');
});

t.test('NATS gone, failures waiting, on_stop = flush: SIGTERM stops it while reconnecting; the failures stay in the spool', async (t) => {
  const s = await setup(t, 'flush');
  const agent = s.start();
  await agent.waitForMsg('agent ready');
  const gone = agent.waitForNext((e) => e.msg === 'nats disconnect');
  await s.nats!.stop();
  await gone;
  appendFileSync(join(s.dir, 'auth.log'), failures(500));
  await agent.waitFor((e) => e.msg === 'failure' && e.ip === '203.0.113.200');
  await stopped(t, agent);
  t.ok(agent.entries.some((e) => e.msg === 'stopping with unpublished failures; they are in the spool for the next start'), 'nothing lost: spooled');
  t.equal(table(s.ns), null, 'the table is gone');
});

t.test('NATS never reached, on_stop = keep: SIGTERM stops it; the table stays', async (t) => {
  const s = await setup(t, 'keep', false);
  const agent = s.start();
  await agent.waitForMsg('agent started: protecting this host, joining the fleet');
  await stopped(t, agent);
  t.ok(agent.entries.some((e) => e.msg === 'agent stopped' && e.joined === false), 'it says it never joined the fleet');
  t.ok(table(s.ns), 'the table stays');
});

t.test('restoring a large saved ban list: SIGTERM stops it; a SIGKILLed agent\'s table is adopted by the next start', async (t) => {
  const s = await setup(t, 'flush', false);
  const expiresMs = Date.now() + 3_600_000;
  const saved = Array.from({ length: 20_000 }, (_, i) => ({ target: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, expiresMs, jail: 'sshd' }));
  mkdirSync(join(s.dir, 'state'), { recursive: true });
  writeFileSync(join(s.dir, 'state', 'fleet-bans.json'), JSON.stringify(saved));
  const first = s.start();
  await first.waitFor((e) => typeof e.msg === 'string' && e.msg.startsWith('firewall:'));
  await stopped(t, first);
  t.equal(table(s.ns), null, 'on_stop = flush: the table is gone');

  const second = s.start();
  await second.waitForMsg('agent started: protecting this host, joining the fleet', 60_000);
  t.match(second.entries.find((e) => e.msg === 'saved bans restored to the firewall'), { fleet: 20_000 }, 'the saved list was put back');
  await second.kill();
  const left = table(s.ns);
  t.match(left, /10\.0\.0\.1[,\s]/, 'SIGKILL: the table is left, with the bans');
  const third = s.start();
  await third.waitForMsg('agent started: protecting this host, joining the fleet', 60_000);
  const adopted = table(s.ns) ?? '';
  t.equal(adopted.split('\n').filter((l) => /^\s*chain /.test(l)).length, left!.split('\n').filter((l) => /^\s*chain /.test(l)).length, 'the next start adopts the table: the same chains');
  t.equal(adopted.split('counter').length, left!.split('counter').length, 'and the same rules, none duplicated');
  await stopped(t, third);
  t.equal(table(s.ns), null);
});
