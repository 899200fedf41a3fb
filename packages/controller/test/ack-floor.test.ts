/**
 * Cumulative acknowledgement of messages handled in order whose effects may be in flight: the
 * floor never passes a message whose effects are not durable, nor one whose handling failed
 * until it comes again. Fake messages, real timers (a few ms). No NATS.
 */
import t from 'tap';
import { AckFloor } from '../src/intake/ack-floor.js';

/** Messages that record which of them were acknowledged. */
function messages() {
  const acked: number[] = [];
  return { acked, msg: (seq: number) => ({ seq, ack: () => void acked.push(seq) }) };
}

/** A promise settled from outside. */
function deferred() {
  let resolve = (_ok: boolean): void => undefined;
  const promise = new Promise<boolean>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

t.test('every n messages, or after the delay: one cumulative ack', async (t) => {
  const { acked, msg } = messages();
  const floor = new AckFloor(3, 5);
  for (let seq = 1; seq <= 4; seq++) floor.add(msg(seq), true);
  t.same(acked, [3], 'the third message acknowledges the first three at once');
  await tick(20);
  t.same(acked, [3, 4], 'the fourth after the delay');
});

t.test('a message whose effects are in flight holds the floor; the ones after it wait', async (t) => {
  const { acked, msg } = messages();
  const floor = new AckFloor(100, 1);
  const first = deferred();
  const second = deferred();
  floor.add(msg(1), true);
  floor.add(msg(2), first.promise);
  floor.add(msg(3), true);
  floor.add(msg(4), second.promise);
  floor.add(msg(5), true);
  t.equal(floor.inFlight, 2);
  await tick(10);
  t.same(acked, [1], 'only what comes before the first write in flight');
  second.resolve(true);
  await tick(10);
  t.same(acked, [1], 'a later write done does not pass an earlier one');
  const below = floor.below(1);
  first.resolve(true);
  await below;
  t.equal(floor.inFlight, 0, 'below() resolves once fewer are in flight');
  await tick(10);
  t.same(acked, [1, 5], 'then everything up to the last message');
});

t.test('a failed message blocks the floor until it comes again and is handled', async (t) => {
  const { acked, msg } = messages();
  const floor = new AckFloor(100, 1);
  const write = deferred();
  floor.add(msg(1), true);
  floor.add(msg(2), write.promise);
  floor.add(msg(3), true);
  write.resolve(false);
  await tick(10);
  t.same(acked, [1], 'acknowledged up to the one before the failure, at once');
  floor.add(msg(4), true);
  await tick(10);
  t.same(acked, [1], 'nothing after the failure');
  floor.add(msg(2), true);
  await tick(10);
  t.same(acked, [1, 2], 'the failed one, redelivered and handled, moves the floor');
  floor.add(msg(3), true);
  floor.add(msg(4), true);
  floor.close();
  t.same(acked, [1, 2, 4], 'the ones after it come again (duplicates) and are acknowledged; close() acknowledges at once');
});
