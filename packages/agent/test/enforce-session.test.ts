/**
 * The nftables backend's `nft -i` session and its cheap reconcile, against real nft inside
 * network namespaces this file creates (the host's own firewall is never touched): batches go to
 * one long-lived child, a refused batch is told apart from the next one, a killed child is
 * replaced, stop() leaves no process, an unchanged reconcile lists no element and the periodic
 * full read still repairs what was changed by hand; bulk expiries are spread.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import type { Test } from 'tap';
import { ExecError, silentLogger } from '@fleetban/shared';
import { createRunner, spawn, type Runner } from '../src/enforce/exec.js';
import { parseTable } from '../src/enforce/nft-json.js';
import { structureScript } from '../src/enforce/nft-script.js';
import { NftSession } from '../src/enforce/nft-session.js';
import { NftablesEnforcer, type NftablesOptions } from '../src/enforce/nftables.js';
import { createNetns, type Netns } from '../../../test/fixtures/netns.js';

const base = createRunner({ timeoutMs: 10_000 });

/** Commands run so far through a {@link nsRunner}, as argument lists. */
type Calls = string[][];

/** `ip netns exec NS` before every command and the session; records each command's arguments. */
function nsRunner(ns: Netns, calls: Calls = [], session = true): Runner {
  const run = (file: string, args: string[], input?: string) => {
    calls.push(args);
    return base('ip', ['netns', 'exec', ns.name, file, ...args], input);
  };
  if (!session) return run;
  return Object.assign(run, { spawn: (file: string, args: string[]) => spawn('ip', ['netns', 'exec', ns.name, file, ...args]) });
}

function enforcerIn(ns: Netns, opts: Partial<NftablesOptions> & { calls?: Calls } = {}): NftablesEnforcer {
  const { calls, ...rest } = opts;
  return new NftablesEnforcer({ runner: nsRunner(ns, calls), clock: Date.now, logger: silentLogger(), ...rest });
}

/** Pids of the processes inside `ns` with their command lines. */
async function processesIn(ns: Netns): Promise<{ pid: number; argv: string[] }[]> {
  const out = await base('ip', ['netns', 'pids', ns.name]);
  const pids = out.stdout.split('\n').filter((l) => l.trim() !== '').map(Number);
  return pids.flatMap((pid) => {
    try {
      return [{ pid, argv: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '') }];
    } catch {
      return []; // exited meanwhile
    }
  });
}

const nftChildren = async (ns: Netns) => (await processesIn(ns)).filter((p) => p.argv.includes('nft') && p.argv.includes('-i'));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean | Promise<boolean>, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const inMs = (ms: number): number => Date.now() + ms;
const fullReads = (calls: Calls) => calls.filter((a) => a.join(' ').includes('list table')).length;
const batchProcesses = (calls: Calls) => calls.filter((a) => a.includes('-f')).length;

async function elements(ns: Netns): Promise<Map<string, number>> {
  const table = parseTable(await ns.exec('nft', ['-j', 'list', 'table', 'inet', 'fleetban']), Date.now());
  return new Map([...table.sets.values()].flatMap((s) => s.elements.map((el) => [el.key, el.expiresMs] as const)));
}

t.test('batches go through one nft -i child; stop() ends it', async (t: Test) => {
  const ns = await createNetns(t, 'ses1');
  const calls: Calls = [];
  const enf = enforcerIn(ns, { calls });
  await enf.start();
  await enf.apply([{ target: '192.0.2.1', expiresMs: inMs(600_000) }], []);
  const [child, ...others] = await nftChildren(ns);
  t.ok(child, 'an nft -i child runs in the namespace');
  t.equal(others.length, 0, 'one only');
  for (let i = 2; i <= 20; i++) await enf.apply([{ target: `192.0.2.${i}`, expiresMs: inMs(600_000) }], [`192.0.2.${i - 1}`]);
  t.same(await enf.list(), ['192.0.2.20'], 'every batch applied');
  t.same((await nftChildren(ns)).map((p) => p.pid), [child!.pid], 'the same child took all twenty batches');
  t.equal(batchProcesses(calls), 0, 'no nft -f process');
  t.match(enf.report(), { applied: 20, removed: 19, failed: 0 });

  await enf.stop('keep');
  t.notOk(alive(child!.pid), 'stop() ended the child');
  t.same(await nftChildren(ns), [], 'no nft process left in the namespace');
  t.same(await enforcerIn(ns, { calls: [] }).list(), ['192.0.2.20'], 'keep left the bans');
});

t.test('a refused batch is attributed to itself; the batches around it apply', async (t: Test) => {
  const ns = await createNetns(t, 'ses2');
  const session = new NftSession((file, args) => spawn('ip', ['netns', 'exec', ns.name, file, ...args]), 'nft');
  t.teardown(() => session.close());
  await session.run('add table inet probe\nadd set inet probe s { type ipv4_addr; flags interval; }\n');
  const good = session.run('add element inet probe s { 198.51.100.0/24 }\n');
  const bad = session.run('add element inet probe s { 198.51.100.0/28 }\nadd element inet probe s { 203.0.113.1 }\n');
  const after = session.run('add element inet probe s { 192.0.2.1 }\n');
  await t.resolves(good, 'the batch before');
  const err = await bad.then(() => null, (e: unknown) => e);
  t.ok(err instanceof ExecError, 'the refused batch rejects with ExecError');
  t.match((err as ExecError).stderr, /interval overlaps[\s\S]*198\.51\.100\.0\/28/, "with nft's error for its own line");
  await t.resolves(after, 'the batch after');
  const listed = await ns.exec('nft', ['list', 'set', 'inet', 'probe', 's']);
  t.match(listed, /198\.51\.100\.0\/24/);
  t.match(listed, /192\.0\.2\.1/);
  t.notMatch(listed, /203\.0\.113\.1/, 'the refused batch was one transaction: none of it applied');
  t.equal(session.starts, 1, 'one child for all of it');

  // through the enforcer: the batch is split and only the bad element is left out
  const enf = enforcerIn(ns);
  t.teardown(() => enf.stop('flush'));
  await enf.start();
  await enf.apply([{ target: '198.51.100.0/24', expiresMs: 0 }], []);
  await enf.apply([
    { target: '192.0.2.50', expiresMs: inMs(60_000) },
    { target: '198.51.100.0/28', expiresMs: 0 },
    { target: '2001:db8::5', expiresMs: 0 },
  ], []);
  t.same((await enf.list()).sort(), ['192.0.2.50', '198.51.100.0/24', '2001:db8::5']);
  t.match(enf.report(), { applied: 3, failed: 1 });
});

t.test('a child killed from outside is replaced at the next batch', async (t: Test) => {
  const ns = await createNetns(t, 'ses3');
  const enf = enforcerIn(ns);
  t.teardown(() => enf.stop('flush'));
  await enf.start();
  await enf.apply([{ target: '192.0.2.1', expiresMs: 0 }], []);
  const [first] = await nftChildren(ns);
  t.ok(first);
  process.kill(first!.pid, 'SIGKILL');
  t.ok(await until(() => !alive(first!.pid), 5000), 'killed');
  await enf.apply([{ target: '192.0.2.2', expiresMs: 0 }], []);
  t.same((await enf.list()).sort(), ['192.0.2.1', '192.0.2.2'], 'the next batch applied');
  const [second] = await nftChildren(ns);
  t.ok(second && second.pid !== first!.pid, 'by a new child');
  t.equal(enf.report().failed, 0);

  // killed while idle and again at once: the batch in flight is retried after a read
  process.kill(second!.pid, 'SIGKILL');
  await enf.apply([{ target: '192.0.2.3', expiresMs: 0 }], ['192.0.2.1']);
  t.same((await enf.list()).sort(), ['192.0.2.2', '192.0.2.3']);
});

t.test('an unchanged reconcile lists no element; the periodic full read repairs hand edits', async (t: Test) => {
  const ns = await createNetns(t, 'ses4');
  const calls: Calls = [];
  let now = Date.now();
  const enf = enforcerIn(ns, { calls, fullReadEvery: 3, fullReadMs: 300_000 });
  const clocked = new NftablesEnforcer({ runner: nsRunner(ns, calls), clock: () => now, logger: silentLogger(), fullReadEvery: 100, fullReadMs: 60_000 });
  t.teardown(() => clocked.stop('keep'));
  t.teardown(() => enf.stop('flush'));
  await enf.start();
  const wanted = [
    { target: '192.0.2.10', expiresMs: inMs(3_600_000) },
    { target: '192.0.2.11', expiresMs: 0 },
    { target: '198.51.100.0/24', expiresMs: 0 },
    { target: '2001:db8::7', expiresMs: inMs(3_600_000) },
  ];
  t.same(await enf.reconcile(wanted), { added: 4, removed: 0 }, 'first reconcile: a full read (the table was new) and the fill');
  const reads = fullReads(calls);
  t.same(await enf.reconcile(wanted), { added: 0, removed: 0 });
  t.equal(fullReads(calls), reads, 'the second one only looked at the structure');
  t.ok(calls.some((a) => a.join(' ') === '-j -t list ruleset'), 'with nft -j -t list ruleset');

  await ns.exec('nft', ['delete', 'element', 'inet', 'fleetban', 'ban4', '{ 192.0.2.10 }']);
  t.same(await enf.reconcile(wanted), { added: 0, removed: 0 }, 'a hand edit is not seen by the cheap look');
  t.equal(fullReads(calls), reads, 'still no full read');
  t.same(await enf.reconcile(wanted), { added: 1, removed: 0 }, 'the third reconcile since the full read reads everything and repairs');
  t.equal(fullReads(calls), reads + 1);
  t.ok((await elements(ns)).has('192.0.2.10'), 'back in the kernel');
  t.equal(enf.report().drift, 1, 'and counted as drift');

  // the table deleted and created again, identical but empty: new handles, seen by the cheap look
  await enf.reconcile(wanted); // full read done above: this one is cheap
  await ns.exec('nft', ['-f', '-'], { input: `delete table inet fleetban\n${structureScript('fleetban', 'drop')}` });
  t.equal((await elements(ns)).size, 0, 'emptied by hand');
  await enf.reconcile(wanted);
  t.equal((await elements(ns)).size, 4, 'a recreated (empty) table is refilled at the next reconcile');

  // the time limit: a full read once fullReadMs has passed, whatever the count
  await clocked.start();
  await clocked.reconcile(wanted);
  const before = fullReads(calls);
  await clocked.reconcile(wanted);
  t.equal(fullReads(calls), before, 'cheap within the minute');
  now += 61_000;
  await clocked.reconcile(wanted);
  t.equal(fullReads(calls), before + 1, 'a full read after it');
});

t.test('bulk expiries are spread (later only); a re-ban refreshes the timeout', async (t: Test) => {
  const ns = await createNetns(t, 'ses5');
  const enf = enforcerIn(ns, { fullReadEvery: 1 });
  t.teardown(() => enf.stop('flush'));
  await enf.start();
  const expiresMs = inMs(3_600_000);
  const bulk = Array.from({ length: 200 }, (_, i) => ({ target: `198.18.0.${i}`, expiresMs }));
  await enf.apply(bulk, []);
  const kernel = await elements(ns);
  const got = bulk.map((b) => kernel.get(b.target) ?? 0);
  t.ok(got.every((ms) => ms >= expiresMs - 1500), 'never earlier than wanted (kernel seconds)');
  t.ok(got.every((ms) => ms <= expiresMs + 61_500), 'at most a minute later');
  const seconds = new Set(got.map((ms) => Math.floor(ms / 1000)));
  t.ok(seconds.size >= 30, `spread over ${seconds.size} distinct seconds`);
  t.same(await enf.reconcile(bulk), { added: 0, removed: 0 }, 'the spread needs no repair');
  t.equal(enf.report().drift, 0);

  const single = { target: '192.0.2.77', expiresMs: inMs(600_000) };
  await enf.apply([single], []);
  t.ok(Math.abs((await elements(ns)).get(single.target)! - single.expiresMs) <= 1500, 'a single ban is not spread');
  const later = { ...single, expiresMs: inMs(3_600_000) };
  await enf.apply([later], []);
  t.ok(Math.abs((await elements(ns)).get(single.target)! - later.expiresMs) <= 1500, 're-banned: the timeout is refreshed');
});

t.test('a runner without spawn runs a process per batch', async (t: Test) => {
  const ns = await createNetns(t, 'ses6');
  const calls: Calls = [];
  const enf = new NftablesEnforcer({ runner: nsRunner(ns, calls, false), clock: Date.now, logger: silentLogger() });
  await enf.start();
  await enf.apply([{ target: '192.0.2.1', expiresMs: 0 }], []);
  t.same(await enf.list(), ['192.0.2.1']);
  t.equal(batchProcesses(calls), 2, 'structure and batch: nft -f each');
  t.same(await nftChildren(ns), []);
  await enf.stop('flush');
});
