// watchResuming against a real nats-server: a watch that stops delivering (as the client's watch
// did after the loss of the bucket's leader on a 3-node cluster) is noticed and replaced by one
// starting at the next revision; every change arrives once, in order. The stall is made by
// handing the first watch out through a wrapper that delivers one entry and then nothing.
import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { type KV, type KvWatchEntry, Kvm } from '@nats-io/kv';
import { watchResuming } from '../src/nats/resuming-watch.js';
import { startNatsServer } from '../../../test/fixtures/nats-server.js';
import { waitUntil } from '../../../test/fixtures/wait-until.js';

type Watch = Awaited<ReturnType<KV['watch']>>;

/** `it`, delivering its first `n` entries and then nothing more (it still stops when told). */
function stallAfter(it: Watch, n: number): Watch {
  const source = it[Symbol.asyncIterator]();
  let given = 0;
  let stopped!: () => void;
  const stop = new Promise<IteratorResult<KvWatchEntry>>((r) => (stopped = () => r({ done: true, value: undefined })));
  const stalled = {
    [Symbol.asyncIterator]: () => ({
      next: () => (given++ < n ? source.next() : stop),
    }),
    stop: () => {
      it.stop();
      stopped();
    },
  };
  return stalled as unknown as Watch;
}

t.test('a stalled watch resumes at the next revision; each change once, in order', async (t) => {
  const nats = await startNatsServer(t);
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const real = await new Kvm(nc).create('resume_test');
  await real.put('a', 'one');
  await real.put('b', 'two');
  let watches = 0;
  const kv: Pick<KV, 'status' | 'watch'> = {
    status: () => real.status(),
    watch: async (opts) => (watches++ === 0 ? stallAfter(await real.watch(opts), 3) : real.watch(opts)),
  };
  const got: string[] = [];
  const resumes: Array<[number, number]> = [];
  const w = await watchResuming(kv, (e) => got.push(`${e.revision} ${e.key} ${e.operation}`), { checkMs: 100, onResume: (from, last) => resumes.push([from, last]) });
  t.teardown(() => w.stop());
  await real.put('c', 'three');
  await waitUntil(async () => got.length === 3, 'the current values and the first change');
  t.same(got, ['1 a PUT', '2 b PUT', '3 c PUT'], 'the first watch delivers, then stalls');
  await real.put('a', 'four');
  await real.delete('b');
  await waitUntil(async () => got.length === 5, 'the changes made during the stall');
  t.same(got.slice(3), ['4 a PUT', '5 b DEL'], 'the changes after the stall arrive once, in order');
  t.same(resumes, [[4, 5]], 'one resume, from the first revision not seen');
  t.equal(watches, 2, 'one new watch');
  await real.put('d', 'five');
  await waitUntil(async () => got.length === 6, 'a change on the new watch');
  t.equal(got[5], '6 d PUT');
  await new Promise((r) => setTimeout(r, 500));
  t.equal(watches, 2, 'a watch that keeps up is left alone');
});

t.test('a watch with nothing new is never replaced, and an empty bucket is current at once', async (t) => {
  const nats = await startNatsServer(t);
  const nc = await connect({ servers: nats.url });
  t.teardown(() => nc.close());
  const real = await new Kvm(nc).create('idle_test');
  let watches = 0;
  const kv: Pick<KV, 'status' | 'watch'> = {
    status: () => real.status(),
    watch: async (opts) => (watches++, real.watch(opts)),
  };
  const got: number[] = [];
  const w = await watchResuming(kv, (e) => got.push(e.revision), { checkMs: 50 });
  await new Promise((r) => setTimeout(r, 400));
  t.equal(watches, 1, 'idle: one watch');
  await real.put('x', '1');
  await waitUntil(async () => got.length === 1, 'the first change');
  t.same(got, [1]);
  w.stop();
  await real.put('y', '2');
  await new Promise((r) => setTimeout(r, 300));
  t.same(got, [1], 'nothing after stop');
  t.equal(watches, 1);
});
