// madeInTime: a consumer that is not made in time is tried again beside the first try. First its
// rules, with made-up tries; then against a real 3-node cluster that lost a node, where
// nats-server 2.9 places about one ephemeral consumer in three on the lost node and never answers.
import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { jetstream } from '../src/nats/events-stream.js';
import { madeInTime, orderedConsumer } from '../src/nats/made-in-time.js';
import { startNatsCluster } from '../../../test/fixtures/nats-cluster.js';
import { waitUntil } from '../../../test/fixtures/wait-until.js';

const bounds = { tryMs: 50, withinMs: 400 };
const timeout = () => Object.assign(new Error('timeout'), { name: 'TimeoutError' });

t.test('a try not made in time gets another beside it; the first made wins, one made later is dropped', async (t) => {
  const pending: Array<(w: string) => void> = [];
  const dropped: string[] = [];
  const made = madeInTime(() => new Promise<string>((resolve) => pending.push(resolve)), 'a watch', (w) => dropped.push(w), bounds);
  await waitUntil(async () => pending.length >= 3, 'three tries');
  const tries = pending.length;
  pending[2]!('third');
  t.equal(await made, 'third');
  pending[0]!('first');
  await new Promise((r) => setImmediate(r));
  t.same(dropped, ['first'], 'the first try, made late, is dropped');
  await new Promise((r) => setTimeout(r, 150));
  t.ok(pending.length <= tries + 1, 'no try after one was made');
});

t.test('no more than three tries wait at once', async (t) => {
  let started = 0;
  const pending: Array<(w: string) => void> = [];
  const made = madeInTime(() => (started++, new Promise<string>((resolve) => pending.push(resolve))), 'a watch', () => undefined, { tryMs: 20, withinMs: 1_000 });
  await new Promise((r) => setTimeout(r, 200));
  t.equal(started, 3, 'three tries, the others waiting for one of them');
  pending[1]!('second');
  t.equal(await made, 'second');
});

t.test('tries that time out or find no responder are waited past; a refusal ends them at once', async (t) => {
  let n = 0;
  const w = await madeInTime(async () => {
    n++;
    if (n === 1) throw timeout();
    if (n === 2) throw new Error('request failed', { cause: Object.assign(new Error('no responders'), { name: 'NoRespondersError' }) });
    return `try ${n}`;
  }, 'a watch', () => undefined, bounds);
  t.equal(w, 'try 3');

  let tries = 0;
  const refused = madeInTime(async () => {
    tries++;
    throw new Error('consumer filter subject is not a valid subset of the interest subjects');
  }, 'the watch of KV bucket x', () => undefined, bounds);
  await t.rejects(refused, /cannot make the watch of KV bucket x/);
  t.equal(tries, 1, 'not tried again');
});

t.test('none made in time: an error naming what and how many tries', async (t) => {
  const err = await madeInTime(() => Promise.reject(timeout()), 'the replay of stream S', () => undefined, bounds).catch((e: Error) => e);
  t.match((err as Error).message, /^the replay of stream S: its consumer was not made in 0\.4 s \(\d+ tries\)$/);
  t.equal(((err as Error).cause as Error).name, 'TimeoutError', 'the last failure is its cause');
});

t.test('R3 cluster with a node lost: every watch and ordered consumer is made', async (t) => {
  const cluster = await startNatsCluster(t, 3);
  const nc = await connect({ servers: [...cluster.urls], name: 'made-in-time-test' });
  t.teardown(() => nc.close());
  let kv: Awaited<ReturnType<Kvm['create']>> | undefined;
  await waitUntil(async () => {
    kv = await new Kvm(nc).create('made_test', { replicas: 3 }).catch(() => undefined);
    return kv !== undefined;
  }, 'an R3 bucket', 60_000);
  await kv!.put('a', 'one');
  // the node the client is not connected to: the client keeps its connection
  const victim = cluster.nodes.find((n) => !nc.getServer().endsWith(new URL(n.url).port))!;
  await victim.kill();
  const kv2 = await new Kvm(jetstream(nc, { timeout: 1_000 })).open('made_test');
  // the first requests after the loss wait for the elections
  await waitUntil(async () => kv2.get('a').then(() => true, () => false), 'the bucket readable again', 60_000);
  const WATCHES = 12;
  let made = 0;
  for (let i = 0; i < WATCHES; i++) {
    const w = await madeInTime(() => kv2.watch(), `watch ${i}`, (late) => late.stop(), { tryMs: 1_200 });
    for await (const e of w) {
      if (e.key === 'a') made++;
      break;
    }
    w.stop();
  }
  t.equal(made, WATCHES, `${WATCHES} watches made and read, one after the other`);
  // each is read to its entry: one placed on a replica that lags (the put was just before the
  // loss) holds it only once that replica caught up, so its count may be 0 for a while
  for (let i = 0; i < 4; i++) {
    const c = await orderedConsumer(jetstream(nc, { timeout: 1_000 }), 'KV_made_test', {}, `ordered ${i}`);
    const messages = await c.consume({ max_messages: 10 });
    let seq = 0;
    for await (const m of messages) {
      seq = m.seq;
      break;
    }
    t.equal(seq, 1, `ordered consumer ${i} made and read`);
    messages.stop();
  }
});
