/**
 * Bulk batches: the fast path for canonical targets agrees with the general parser (and lets no
 * nft syntax through), expiry spreading rewrites a plan in place, the nft text of a batch, and a
 * large batch split in two `nft -f -` processes: a half refused by nft does not lose the other
 * half. The last tests run real nft inside network namespaces they create.
 */
import t from 'tap';
import type { Test } from 'tap';
import { ExecError, parseNetwork, silentLogger } from '@fleetban/shared';
import { plainAddressFamily } from '../src/enforce/canonical-address.js';
import { createRunner, type Runner } from '../src/enforce/exec.js';
import { elementChunks, elementScript } from '../src/enforce/nft-script.js';
import { settleAtMost, splitOps } from '../src/enforce/batch-parts.js';
import { NftDriver, NftablesEnforcer } from '../src/enforce/nftables.js';
import { planOps, type ElementOp } from '../src/enforce/reconcile.js';
import { PartialWriteError } from '../src/enforce/set-driver.js';
import { SPREAD_FROM, spreadOps, type SetElement } from '../src/enforce/set-element.js';
import { ElementView } from '../src/enforce/element-view.js';
import { TargetSet } from '../src/enforce/target-set.js';
import { createNetns, type Netns } from '../../../test/fixtures/netns.js';

/** What the general parser says: the family when `s` is one address in its canonical text, else null. */
function parserSays(s: string): 4 | 6 | null {
  try {
    const net = parseNetwork(s);
    return net.text === s && !s.includes('/') ? net.family : null;
  } catch {
    return null;
  }
}

/** A small deterministic generator (LCG), so a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n) => {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    return x % n;
  };
}

t.test('canonical targets skip the parser only where it would write them the same', async (t: Test) => {
  const crafted = [
    '::', '::1', '1::', '1::2', '2001:db8::5', '2001:db8:0:0:1::1', '2001:db8::1:0:0:1', '2001:0db8::1', '2001:DB8::1',
    '2001:db8:0:1:1:1:1:1', '2001:db8::1:1:1:1:1', '1:0:0:2:0:0:0:3', '1:0:0:2::3', '1::2:0:0:3', '0:0:1::', '::0:1',
    '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::8', '1:2:3:4:5:6:7:8:9', '1:', ':1', ':::', '1:::2', '1::2::3', '12345::',
    '::ffff:1.2.3.4', '::ffff:102:304', '::ffff:0:0', '::fffe:102:304', '::1.2.3.4', 'fe80::1%eth0', '[::1]', ' ::1',
    '192.0.2.7', '192.0.2.07', '192.0.2.256', '0.0.0.0', '255.255.255.255', '1.2.3', '1.2.3.4.5', '192.0.2.0/24',
    '2001:db8::/32', '', 'not-an-address', '192.0.2.9 } ; flush ruleset', '2001:db8::1 } ; flush ruleset', '2001:db8::1\n',
  ];
  for (const s of crafted) t.equal(plainAddressFamily(s), parserSays(s), JSON.stringify(s));

  const next = random(7);
  const group = () => [0, 0, 0, 1, 0xffff, next(65_536), next(16), 0xabc][next(8)]!;
  let canonical = 0;
  let mismatches = 0;
  for (let k = 0; k < 20_000; k++) {
    const g = Array.from({ length: 8 }, group);
    const hex = g.map((x) => x.toString(16));
    const texts = [hex.join(':'), hex.map((x) => x.padStart(4, '0')).join(':'), hex.join(':').toUpperCase()];
    // every way of writing a run of zeros as `::`, right or wrong
    for (let i = 0; i < 8; i++) {
      for (let j = i + 1; j <= 8 && g[j - 1] === 0; j++) texts.push(`${hex.slice(0, i).join(':')}::${hex.slice(j).join(':')}`);
    }
    texts.push(parseNetwork(hex.join(':')).text); // the canonical one itself
    for (const s of texts) {
      const got = plainAddressFamily(s);
      if (got !== null) canonical++;
      if (got !== parserSays(s)) mismatches++;
    }
  }
  t.equal(mismatches, 0, 'the same answer as the parser for every generated text');
  t.ok(canonical >= 20_000, `${canonical} canonical texts recognised`);
});

const el = (target: string, expiresMs: number): SetElement => ({ key: target, target, family: target.includes(':') ? 6 : 4, expiresMs });

t.test('bulk expiry spreading rewrites a fresh plan in place, later only', async (t: Test) => {
  const now = 1_000_000_000_000;
  const hour = now + 3_600_000;
  const few: ElementOp[] = Array.from({ length: SPREAD_FROM - 1 }, (_, i) => ({ kind: 'add', el: el(`192.0.2.${i}`, hour) }));
  const fewEls = few.map((op) => op.el);
  t.equal(spreadOps(few, now, 60_000), few);
  t.ok(few.every((op, i) => op.el === fewEls[i]), 'fewer adds than SPREAD_FROM: untouched');

  const ops: ElementOp[] = [
    { kind: 'delete', el: el('198.51.100.1', hour) },
    { kind: 'add', el: el('198.51.100.2', 0) },
    ...Array.from({ length: 300 }, (_, i): ElementOp => ({ kind: i % 2 ? 'add' : 'replace', el: el(`2001:db8::${i.toString(16)}`, hour) })),
  ];
  const before = ops.map((op) => op.el.expiresMs);
  const out = spreadOps(ops, now, 60_000);
  t.equal(out, ops, 'the same array');
  t.equal(ops[0]!.el.expiresMs, hour, 'a delete is left alone');
  t.equal(ops[1]!.el.expiresMs, 0, 'a permanent element is left alone');
  const spread = ops.slice(2).map((op, i) => op.el.expiresMs - before[i + 2]!);
  t.ok(spread.every((d) => d >= 0 && d <= 60_000 && d % 1000 === 0), 'later by whole seconds, a minute at most');
  t.ok(new Set(spread).size >= 30, 'over many seconds');
  t.same(spreadOps(ops.map((op) => ({ ...op })), now, 0).map((op) => op.el.expiresMs), ops.map((op) => op.el.expiresMs), '0 = never');
});

t.test('plan and nft text of a batch: last intent wins, deletes first, 1000 elements a line', async (t: Test) => {
  const now = 1_000_000_000_000;
  const view = new ElementView([el('192.0.2.1', now + 600_000), el('192.0.2.2', now + 600_000)]);
  const rule = { toleranceMs: 5000, maxTimeoutS: 3650 * 86_400 };
  const ops = planOps([
    { target: '192.0.2.3', els: [] }, // an unban ...
    { target: '192.0.2.3', els: [el('192.0.2.3', now + 60_000)] }, // ... then a ban: banned
    { target: '192.0.2.1', els: [el('192.0.2.1', now + 600_000)] }, // unchanged: nothing
    { target: '192.0.2.2', els: [el('192.0.2.2', now + 3_600_000)] }, // a longer ban: refreshed
    { target: '192.0.2.4', els: [el('192.0.2.4', now + 60_000)] },
    { target: '192.0.2.4', els: [] }, // banned then unbanned, absent: nothing
  ], view, now, rule);
  t.same(ops.map((op) => `${op.kind} ${op.el.key}`), ['add 192.0.2.3', 'replace 192.0.2.2']);
  t.equal(elementScript('fleetban', ops, now), [
    'delete element inet fleetban ban4 { 192.0.2.2 }',
    'add element inet fleetban ban4 { 192.0.2.3 timeout 60s, 192.0.2.2 timeout 3600s }',
    '',
  ].join('\n'));

  const bulk: ElementOp[] = [
    ...Array.from({ length: 2500 }, (_, i): ElementOp => ({ kind: 'add', el: el(`2001:db8::${i.toString(16)}`, i === 7 ? 0 : now + 90_061_000) })),
    { kind: 'add', el: el('198.51.100.0/24', now + 60_000) },
    { kind: 'delete', el: el('192.0.2.9', now + 60_000) },
  ];
  const lines = elementScript('fleetban', bulk, now).trimEnd().split('\n');
  t.equal(lines[0], 'delete element inet fleetban ban4 { 192.0.2.9 }', 'deletes before adds');
  const adds = lines.slice(1);
  t.same(adds.map((l) => l.split(' ')[4]).sort(), ['ban4_net', 'ban6', 'ban6', 'ban6'], 'by set');
  const counts = adds.map((l) => l.split(', ').length);
  t.same(counts.sort((a, b) => a - b), [1, 500, 1000, 1000], 'full lines of 1000, the rest in one line per set');
  t.ok(adds.some((l) => l.includes('2001:db8::7,') && !l.includes('2001:db8::7 timeout')), 'a permanent element has no timeout');
  t.ok(adds.some((l) => l.includes('2001:db8::8 timeout 90061s')), 'a timeout in nft units');
  t.ok(adds.some((l) => l.startsWith('add element inet fleetban ban4_net { 198.51.100.0/24 timeout 60s }')), 'a network goes to the interval set');

  const mixed: ElementOp[] = [...bulk, ...Array.from({ length: 2100 }, (_, i): ElementOp => ({ kind: i % 3 ? 'delete' : 'replace', el: el(`198.18.${i >> 8}.${i & 255}`, now + 60_000) }))];
  const chunks = [...elementChunks('fleetban', mixed, now, 5000)];
  t.ok(chunks.length > 3, `in chunks (${chunks.length})`);
  t.ok(chunks.every((c) => c.endsWith('\n')), 'of whole lines');
  t.equal(chunks.join(''), elementScript('fleetban', mixed, now), 'the same text as one script');
});

t.test('a single element stands for the intent of its target; an empty view is not looked up', async (t: Test) => {
  const now = 1_000_000_000_000;
  const rule = { toleranceMs: 5000, maxTimeoutS: 3650 * 86_400 };
  const a = el('192.0.2.1', now + 60_000);
  const b = el('2001:db8::1', now + 60_000);
  const scoped: SetElement = { key: '192.0.2.2 tcp/22', target: '192.0.2.2', family: 4, port: { proto: 'tcp', from: 22, to: 22 }, expiresMs: now + 60_000 };
  const wants = [a, { target: '192.0.2.2', els: [scoped] }, b, { target: '2001:db8::1', els: [] }, el('192.0.2.1', now + 120_000)];
  const empty = new ElementView();
  const looked: string[] = [];
  const spy = { size: 0, ofTarget: (target: string) => (looked.push(target), []) };
  const ops = planOps(wants, spy, now, rule);
  t.same(looked, [], 'no look-up in empty sets');
  t.same(ops.map((op) => `${op.kind} ${op.el.key} ${op.el.expiresMs - now}`), ['add 192.0.2.2 tcp/22 60000', 'add 192.0.2.1 120000'], 'the last want wins, an unban of an absent element does nothing');
  t.same(planOps(wants, empty, now, rule), ops, 'the same plan from an empty view');

  const view = new ElementView([el('192.0.2.1', now + 120_000), { ...scoped, key: '192.0.2.1 tcp/22', target: '192.0.2.1' }, el('2001:db8::1', now + 60_000)]);
  const again = planOps([el('192.0.2.1', now + 120_000), b, { target: '2001:db8::1', els: [] }], view, now, rule);
  t.same(again.map((op) => `${op.kind} ${op.el.key}`), ['delete 192.0.2.1 tcp/22', 'delete 2001:db8::1'], 'a whole-address element replaces the scoped one; the later unban wins');
});

t.test('the element view and the target set agree with a Map and a Set', async (t: Test) => {
  const next = random(11);
  const view = new ElementView();
  const map = new Map<string, SetElement>();
  const make = (i: number): SetElement => {
    const target = `10.${i >> 8}.${i & 255}.1`;
    if (next(4) > 0) return el(target, next(100));
    return { key: `${target} udp/53`, target, family: 4, port: { proto: 'udp', from: 53, to: 53 }, expiresMs: next(100) };
  };
  let mismatches = 0;
  for (let step = 0; step < 40_000; step++) {
    const e = make(next(2000));
    const r = next(10);
    if (r < 5) {
      view.set(e);
      map.set(e.key, e);
    } else if (r < 9) {
      view.delete(e.key);
      map.delete(e.key);
    } else {
      view.sweep(50);
      for (const [k, x] of map) if (x.expiresMs !== 0 && x.expiresMs <= 50) map.delete(k);
    }
    if (step % 1000 !== 999) continue;
    if (view.size !== map.size) mismatches++;
    for (const [k, x] of map) if (view.get(k) !== x) mismatches++;
    const targets = new Set([...map.values()].map((x) => x.target));
    const listed = [...view.targets()];
    if (listed.length !== targets.size || !listed.every((x) => targets.has(x))) mismatches++;
    for (const target of targets) {
      const want = [...map.values()].filter((x) => x.target === target).map((x) => x.key).sort();
      if (view.ofTarget(target).map((x) => x.key).sort().join() !== want.join()) mismatches++;
    }
  }
  t.equal(mismatches, 0, 'get, ofTarget, targets and size after 40,000 random sets, deletes and sweeps');
  view.reserve(100_000);
  t.equal(view.size, map.size, 'reserve keeps every element');
  for (const [k, x] of map) if (view.get(k) !== x) mismatches++;
  t.equal(mismatches, 0, '... where it can be found');

  const set = new TargetSet(4);
  const seen = new Set<string>();
  let disagree = 0;
  for (let i = 0; i < 5000; i++) {
    const key = `2001:db8::${next(3000).toString(16)}`;
    if (set.add(key) !== !seen.has(key)) disagree++;
    seen.add(key);
  }
  t.equal(disagree, 0, 'add tells a new string from a seen one, past its first capacity');
  t.equal(set.size, seen.size);
});

t.test('a batch of splitFrom operations or more goes in four parts at least', async (t: Test) => {
  const ops: ElementOp[] = Array.from({ length: 5 }, (_, i) => ({ kind: 'add', el: el(`192.0.2.${i}`, 0) }));
  t.same(splitOps(ops, 0), [ops], '0 = never');
  t.same(splitOps(ops, 6), [ops], 'below the threshold');
  t.same(splitOps(ops, 5).map((p) => p.length), [2, 2, 1], 'at it: parts of a quarter (rounded up), in order');
  t.same(splitOps(ops, 5).flat(), ops);
  t.same(splitOps(ops.slice(0, 1), 1), [ops.slice(0, 1)], 'one operation is never split');
  t.same(splitOps(ops, 5, 1).map((p) => p.length), [1, 1, 1, 1, 1], 'parts of at most partOps');
  t.same(splitOps(ops, 5, 1).flat(), ops, 'in order, each once');
});

t.test('split parts run at most `writers` at once, each started only when a slot frees', async (t: Test) => {
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const gates: (() => void)[] = [];
  const tasks = [0, 1, 2, 3, 4].map((i) => () => {
    started.push(i);
    most = Math.max(most, ++running);
    return new Promise<number>((resolve, reject) => gates.push(() => {
      running--;
      if (i === 3) reject(new Error('refused'));
      else resolve(i);
    }));
  });
  const all = settleAtMost(tasks, 2);
  await new Promise((r) => setImmediate(r));
  t.same(started, [0, 1], 'two at first');
  while (gates.length > 0) {
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  const done = await all;
  t.equal(most, 2);
  t.same(started, [0, 1, 2, 3, 4], 'in order');
  t.same(done.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled'], 'a refused part does not stop the others');
});

t.test('a refused half: the other half is reported committed', async (t: Test) => {
  const scripts: string[] = [];
  const runner: Runner = async (_file, args, input) => {
    scripts.push(input ?? '');
    if (args.includes('-f') && input?.includes('192.0.2.3')) throw new ExecError('nft -f -', 'Error: refused');
    return { stdout: '' };
  };
  const driver = new NftDriver(runner, 'fleetban', 'nft', 'drop', undefined, 4);
  const ops: ElementOp[] = Array.from({ length: 4 }, (_, i) => ({ kind: 'add', el: el(`192.0.2.${i}`, 0) }));
  const err = await driver.write(ops, 0).then(() => null, (e: unknown) => e);
  t.type(err, PartialWriteError);
  t.equal((err as PartialWriteError).code, 'WRITE_PARTIAL');
  t.same((err as PartialWriteError).committed, ops.slice(0, 3));
  t.same((err as PartialWriteError).rejected, ops.slice(3));
  t.type((err as PartialWriteError).cause, ExecError);
  t.equal(scripts.length, 4, 'a process per part');

  const all = await driver.write(ops.map((op) => ({ ...op, el: el('192.0.2.3', 0) })), 0).then(() => null, (e: unknown) => e);
  t.type(all, ExecError, 'every part refused: the plain error');
  await driver.write(ops.slice(0, 2), 0);
  t.equal(scripts.length, 9, 'below the threshold: one process');

  const parts = new NftDriver(runner, 'fleetban', 'nft', 'drop', undefined, 4, 2, 2);
  const six: ElementOp[] = Array.from({ length: 6 }, (_, i) => ({ kind: 'add', el: el(`192.0.2.${i}`, 0) }));
  const reported: (readonly ElementOp[])[] = [];
  const three = await parts.write(six, 0, (part) => { reported.push(part); }).then(() => null, (e: unknown) => e);
  t.type(three, PartialWriteError, 'three parts, the second refused');
  t.same(reported, [six.slice(0, 2), six.slice(4)], 'each committed part reported, the refused one not');
  t.same((three as PartialWriteError).committed, [...six.slice(0, 2), ...six.slice(4)]);
  t.same((three as PartialWriteError).rejected, six.slice(2, 4));
  t.equal(scripts.length, 12, 'a process per part');
});

function nsRunner(ns: Netns): Runner {
  const base = createRunner({ timeoutMs: 30_000 });
  const run = (file: string, args: string[], input?: string) => base('ip', ['netns', 'exec', ns.name, file, ...args], input);
  // split parts stream their text to nft as it reads it
  return Object.assign(run, { stream: (file: string, args: string[], chunks: Iterable<string>) => base.stream!('ip', ['netns', 'exec', ns.name, file, ...args], chunks) });
}

t.test('a split batch in real nft: every element lands; a refused element costs only itself', async (t: Test) => {
  const ns = await createNetns(t, 'bulk1');
  const enf = new NftablesEnforcer({ runner: nsRunner(ns), clock: Date.now, logger: silentLogger(), splitFrom: 100 });
  t.teardown(() => enf.stop('flush'));
  await enf.start();
  const expiresMs = Date.now() + 3_600_000;
  const v4 = Array.from({ length: 600 }, (_, i) => ({ target: `198.18.${i >> 8}.${i & 255}`, expiresMs }));
  const v6 = Array.from({ length: 600 }, (_, i) => ({ target: `2001:db8::${i.toString(16)}`, expiresMs }));
  await enf.apply([...v4, ...v6], []);
  t.equal((await enf.list()).length, 1200, 'all of both halves');

  await enf.apply([{ target: '198.51.100.0/24', expiresMs: 0 }], []);
  const more = Array.from({ length: 300 }, (_, i) => ({ target: `198.19.${i >> 8}.${i & 255}`, expiresMs }));
  // the overlapping /28 is refused by nft: it sits in the second half of the split batch
  await enf.apply([...more.slice(0, 200), { target: '198.51.100.0/28', expiresMs: 0 }, ...more.slice(200)], v4.slice(0, 50).map((b) => b.target));
  const listed = new Set(await enf.list());
  t.equal(listed.size, 1200 + 1 + 300 - 50);
  t.ok(more.every((b) => listed.has(b.target)), 'every other new ban applied');
  t.notOk(listed.has(v4[0]!.target), 'the unbans applied');
  t.match(enf.report(), { failed: 1, applied: 1200 + 1 + 300, removed: 50 });
  t.same(await enf.reconcile([...v4.slice(50), ...v6, { target: '198.51.100.0/24', expiresMs: 0 }, ...more], { full: true }), { added: 0, removed: 0 }, 'nothing left to repair');
  t.equal(enf.report().drift, 0, 'the local view matched the kernel');
});
