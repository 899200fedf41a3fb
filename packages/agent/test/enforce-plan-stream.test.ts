/**
 * A plan made while it is written (plan-stream.ts): blocks taken from an OpStream, in any sizes,
 * are the plan made at once (`spreadOps(planOps(...))`), expiry spread included; wants are made
 * once; recording taken blocks in the view while the rest is planned changes nothing; the
 * nftables driver writes such a plan as one transaction below `splitFrom`, else in parts made
 * one at a time, and reports a refused part as before. Pure: no kernel, a fake runner.
 */
import t from 'tap';
import type { Test } from 'tap';
import { ExecError } from '@fleetban/shared';
import { settleEach } from '../src/enforce/batch-parts.js';
import { ElementView } from '../src/enforce/element-view.js';
import type { Runner } from '../src/enforce/exec.js';
import { NftDriver } from '../src/enforce/nftables.js';
import { LazyWants, OpStream } from '../src/enforce/plan-stream.js';
import { PlanCursor, planOps, type ElementOp, type Want } from '../src/enforce/reconcile.js';
import { PartialWriteError } from '../src/enforce/set-driver.js';
import { kernelExpiry, spreadOps, type ExpiryRule, type SetElement } from '../src/enforce/set-element.js';

const now = 1_000_000_000_000;
const rule: ExpiryRule = { toleranceMs: 5000, maxTimeoutS: 3650 * 86_400, spreadMs: 60_000 };

/** A small deterministic generator (LCG), so a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n) => {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    return x % n;
  };
}

function el(target: string, expiresMs: number): SetElement {
  return { key: target, target, family: target.includes(':') ? 6 : 4, expiresMs };
}

function scoped(target: string, port: number, expiresMs: number): SetElement {
  return { key: `${target} tcp/${port}`, target, family: 4, port: { proto: 'tcp', from: port, to: port }, expiresMs };
}

/** `n` wants over a small address space: repeats, unbans, port-scoped intents, single elements. */
function wantsOf(next: (n: number) => number, n: number): Want[] {
  return Array.from({ length: n }, (): Want => {
    const target = `198.18.${next(8)}.${next(256)}`;
    const expiresMs = now + (1 + next(3)) * 3_600_000;
    switch (next(6)) {
      case 0: return { target, els: [] };
      case 1: return { target, els: [scoped(target, 22, expiresMs), scoped(target, 80, expiresMs)] };
      default: return el(target, expiresMs);
    }
  });
}

/** Sets holding some of those targets: live, expired, whole-address and port-scoped. */
function viewOf(next: (n: number) => number, n: number): ElementView {
  const els: SetElement[] = [];
  for (let i = 0; i < n; i++) {
    const target = `198.18.${next(8)}.${next(256)}`;
    const expiresMs = now + [-1000, 3_600_000, 7_200_000, 0][next(4)]!;
    els.push(next(3) === 0 ? scoped(target, 22, expiresMs) : el(target, expiresMs));
  }
  return new ElementView(els);
}

const text = (ops: readonly ElementOp[]) => ops.map((op) => `${op.kind} ${op.el.key} ${op.el.expiresMs}`);

/** Takes every block of `stream` in sizes from `size`, the plan rebuilt in order. */
async function blocks(stream: OpStream, size: () => number): Promise<ElementOp[][]> {
  const out: ElementOp[][] = [];
  for (;;) {
    const n = size();
    await stream.fill(n);
    const block = stream.take(n);
    if (block.length === 0) return out;
    out.push(block);
  }
}

t.test('blocks of a plan made as it is taken are the plan made at once, spread included', async (t: Test) => {
  const next = random(5);
  for (const [n, spreadMs] of [[3000, 60_000], [3000, 0], [40, 60_000], [20_000, 60_000]] as const) {
    const wants = wantsOf(next, n);
    const r = { ...rule, spreadMs };
    const present = viewOf(next, n / 2);
    const eager = text(spreadOps(planOps(wants, present, now, r), now, spreadMs));
    for (const sizes of [() => 1, () => 97, () => 5000, () => 1 + next(700)]) {
      const stream = new OpStream(new PlanCursor(wants, present, now, r), now, spreadMs);
      const got = await blocks(stream, sizes);
      t.same(text(got.reverse().flat()), eager, `${n} wants, spread ${spreadMs}: the same operations in the same order`);
    }
    t.same(text(new OpStream(new PlanCursor(wants, present, now, r), now, spreadMs).drain()), eager, 'drained at once');
  }
});

t.test('the spread is settled before the first block leaves', async (t: Test) => {
  // the adds are the first wants, planned last: the last block decides nothing by itself
  const adds = Array.from({ length: 150 }, (_, i) => el(`192.0.2.${i}`, now + 3_600_000));
  const present = new ElementView(Array.from({ length: 5000 }, (_, i) => el(`198.18.${i >> 8}.${i & 255}`, now + 3_600_000)));
  const unbans = Array.from({ length: 5000 }, (_, i): Want => ({ target: `198.18.${i >> 8}.${i & 255}`, els: [] }));
  const wants = [...adds, ...unbans];
  const stream = new OpStream(new PlanCursor(wants, present, now, rule), now, rule.spreadMs!);
  await stream.fill(10);
  t.ok(stream.planned, 'planned to the end to find the adds');
  const got = (await blocks(stream, () => 10)).reverse().flat();
  t.same(text(got), text(spreadOps(planOps(wants, present, now, rule), now, rule.spreadMs!)));
  t.ok(got.some((op) => op.kind === 'add' && op.el.expiresMs > now + 3_600_000), 'spread');

  const few = [...adds.slice(0, 99), ...unbans];
  const unspread = new OpStream(new PlanCursor(few, present, now, rule), now, rule.spreadMs!).drain();
  t.ok(unspread.every((op) => op.el.expiresMs === now + 3_600_000), 'fewer than 100 adds: not spread');
});

t.test('recording taken blocks in the view while the rest is planned changes nothing', async (t: Test) => {
  const next = random(9);
  const wants = wantsOf(next, 4000);
  const view = viewOf(next, 2000);
  const eager = text(spreadOps(planOps(wants, new ElementView(view.values()), now, rule), now, rule.spreadMs!));
  const stream = new OpStream(new PlanCursor(wants, view, now, rule), now, rule.spreadMs!);
  const got: ElementOp[][] = [];
  for (;;) {
    await stream.fill(300);
    const block = stream.take(300);
    if (block.length === 0) break;
    got.push(block);
    for (const op of block) {
      if (op.kind === 'delete') view.delete(op.el.key);
      else view.set(kernelExpiry(op.el, now, rule.maxTimeoutS));
    }
  }
  t.same(text(got.reverse().flat()), eager);
});

t.test('lazy wants are made once each, on first use', async (t: Test) => {
  const made: number[] = [];
  const wants = new LazyWants(6, (i) => (made.push(i), i === 2 ? null : el(`192.0.2.${i}`, now + 60_000)));
  t.equal(wants.at(6), undefined);
  t.same(planOps(wants, new ElementView(), now, rule).map((op) => op.el.key), ['192.0.2.0', '192.0.2.1', '192.0.2.3', '192.0.2.4', '192.0.2.5']);
  t.same(made, [5, 4, 3, 2, 1, 0], 'from the last want backwards');
  planOps(wants, new ElementView(), now, rule);
  t.equal(made.length, 6, 'planned again: not made again');
});

t.test('settleEach asks for a task only when a lane frees; results in the order made', async (t: Test) => {
  const asked: number[] = [];
  const gates: (() => void)[] = [];
  let made = 0;
  const next = async () => {
    if (made === 5) return null;
    const i = made++;
    asked.push(i);
    return () => new Promise<number>((resolve, reject) => gates.push(() => (i === 1 ? reject(new Error('refused')) : resolve(i))));
  };
  const after: number[] = [];
  const all = settleEach(next, 2, async (i) => { after.push(i); });
  await new Promise((r) => setImmediate(r));
  t.same(asked, [0, 1], 'two at first');
  while (gates.length > 0) {
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  const done = await all;
  t.same(done.map((r) => (r.status === 'fulfilled' ? r.value : 'refused')), [0, 'refused', 2, 3, 4]);
  t.same([...after].sort(), [0, 1, 2, 3, 4], 'each handed on once');
});

t.test('the nftables driver writes a plan: one transaction below splitFrom, else parts, a refused one reported', async (t: Test) => {
  const scripts: string[] = [];
  const runner: Runner = async (_file, args, input) => {
    scripts.push(input ?? '');
    if (args.includes('-f') && input?.includes('192.0.2.3 ')) throw new ExecError('nft -f -', 'Error: refused');
    return { stdout: '' };
  };
  const wants = Array.from({ length: 12 }, (_, i) => el(`198.18.0.${i}`, now + 60_000));
  const stream = (w: readonly Want[]) => new OpStream(new PlanCursor(w, new ElementView(), now, rule), now, 0);
  const eager = planOps(wants, new ElementView(), now, rule);

  const one = new NftDriver(runner, 'fleetban', 'nft', 'drop', undefined, 13);
  const reported: (readonly ElementOp[])[] = [];
  await one.writePlan(stream(wants), now, (part) => { reported.push(part); });
  t.equal(scripts.length, 1, 'below splitFrom: one transaction');
  t.same(text(reported.flat()), text(eager), 'and reported');

  const parts = new NftDriver(runner, 'fleetban', 'nft', 'drop', undefined, 12, 4, 2);
  reported.length = 0;
  scripts.length = 0;
  await parts.writePlan(stream(wants), now, (part) => { reported.push(part); });
  t.equal(scripts.length, 4, 'at splitFrom: four parts at least');
  t.same(text(reported.reverse().flat()), text(eager), 'every operation reported once, each part a block of the plan');
  await parts.writePlan(stream([]), now, () => { t.fail('nothing to report'); });
  t.equal(scripts.length, 4, 'an empty plan runs nothing');

  const refused = [...wants.slice(0, 6), el('192.0.2.3', now + 60_000), ...wants.slice(6)];
  reported.length = 0;
  const err = await parts.writePlan(stream(refused), now, (part) => { reported.push(part); }).then(() => null, (e: unknown) => e);
  t.type(err, PartialWriteError);
  const { committed, rejected } = err as PartialWriteError;
  t.same(text(reported.flat()).sort(), text(committed).sort(), 'what was reported is what was committed');
  t.ok(rejected.some((op) => op.el.key === '192.0.2.3'), 'the refused part holds the refused element');
  t.equal(committed.length + rejected.length, refused.length, 'each operation once');
});
