/**
 * The window's key table against a Map used the way the window used one (delete and set again on
 * each failure, so its order is the least recently failing first): random takes and removes over
 * IPv4, IPv6 and other texts, from a seeded generator (the seed is in each test's name).
 */
import t from 'tap';
import { AddressSlots } from '../src/policy/address-slots.js';
import { v4Of, v4Text } from '../src/ip/v4-number.js';

function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

t.test('address slots: IPv4 text ↔ value, canonical text only', async (tt) => {
  for (const s of ['0.0.0.0', '1.2.3.4', '10.0.0.255', '192.0.2.1', '255.255.255.255']) tt.equal(v4Text(v4Of(s)), s, s);
  tt.equal(v4Of('255.255.255.255'), 2 ** 32 - 1);
  for (const s of ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '256.1.1.1', '1.2.3.4 ', '1..3.4', '.1.2.3', '1.2.3.', '::1', '::ffff:1.2.3.4', '１.2.3.4', '1.2.3.1000']) {
    tt.equal(v4Of(s), -1, JSON.stringify(s));
  }
});

for (const seed of [1, 2, 3, 4, 5]) {
  t.test(`address slots: the same as a re-inserting Map (seed ${seed})`, async (tt) => {
    const random = generator(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const keys = [
      ...Array.from({ length: 3000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`),
      ...Array.from({ length: 1000 }, (_, i) => `2001:db8::${i.toString(16)}`),
      ...['01.2.3.4', '1.2.3.4.5', '::ffff:10.0.0.1', '', 'not an address'],
    ];
    const slots = new AddressSlots(pick([16, 100, 5000]));
    const model = new Map<string, number>();
    let mismatches = 0;
    const check = (ok: boolean, what: string) => {
      if (!ok && mismatches++ < 3) tt.fail(what);
    };
    for (let step = 0; step < 40_000; step++) {
      const key = pick(keys);
      const r = random();
      if (r < 0.6) {
        const slot = slots.take(key);
        const had = model.get(key);
        check(slots.fresh === (had === undefined), `fresh at step ${step}`);
        if (had !== undefined) check(had === slot, `same slot at step ${step}`);
        check(slot < slots.rows, `slot below rows at step ${step}`);
        model.delete(key);
        model.set(key, slot);
      } else if (r < 0.95) {
        const slot = slots.slotOf(key);
        check(slot === (model.get(key) ?? -1), `slotOf at step ${step}`);
        if (slot >= 0 && random() < 0.7) {
          slots.remove(slot);
          model.delete(key);
        }
      } else {
        // drop the oldest few, as a full window does
        for (let k = 0; k < 20 && slots.size > 0; k++) {
          const oldest = slots.oldest();
          const first = model.keys().next().value as string;
          check(slots.keyOf(oldest) === first, `oldest at step ${step}`);
          slots.remove(oldest);
          model.delete(first);
        }
      }
      check(slots.size === model.size, `size at step ${step}`);
    }
    const order = [...slots.order()];
    tt.same(order.map((s) => slots.keyOf(s)), [...model.keys()], 'order: least recently taken first');
    tt.same(order, [...model.values()], 'each key its slot');
    const walked: number[] = [];
    for (let s = slots.oldest(); s >= 0; s = slots.newerThan(s)) walked.push(s);
    tt.same(walked, order, 'walking the order');
    tt.equal(mismatches, 0, 'no difference');
  });
}

t.test('address slots: a freed slot is handed out again; rows grow to the first size, then double', async (tt) => {
  const slots = new AddressSlots(1000);
  for (let i = 0; i < 1000; i++) slots.take(`10.0.${i >> 8}.${i & 255}`);
  tt.equal(slots.rows, 1000);
  const s = slots.slotOf('10.0.0.7');
  slots.remove(s);
  tt.equal(slots.slotOf('10.0.0.7'), -1, 'gone');
  tt.equal(slots.take('2001:db8::7'), s, 'its slot is reused');
  tt.equal(slots.keyOf(s), '2001:db8::7');
  slots.take('10.9.9.9');
  tt.equal(slots.rows, 1001);
  tt.equal(slots.size, 1001);
});
