// The intake's seen-event keys: a fixed-size set that forgets the oldest first, agrees with a plain
// Set over many random ids, and comes back whole from a capture.
import t from 'tap';
import { SeenIds } from '../src/intake/seen-ids.js';

t.test('an event is new once per host and id', async (t) => {
  const s = new SeenIds(4);
  t.ok(s.add('web-1', 'a'));
  t.notOk(s.add('web-1', 'a'), 'the same event again');
  t.ok(s.add('web-2', 'a'), 'the same id from another host is another event');
  t.ok(s.add('web-1', 'b'));
  t.ok(s.add('web-', '1a'), 'host and id are not simply joined');
  t.equal(s.size, 4);
});

t.test('when full the oldest is forgotten; a deleted one counts again', async (t) => {
  const s = new SeenIds(3);
  for (const id of ['a', 'b', 'c']) s.add('h', id);
  t.ok(s.add('h', 'd'), 'a fourth');
  t.ok(s.add('h', 'a'), 'the oldest was forgotten');
  t.notOk(s.add('h', 'c'));
  s.delete('h', 'c');
  t.equal(s.size, 2);
  t.ok(s.add('h', 'c'), 'deleted: new again');
  t.notOk(s.add('h', 'd'));
  s.delete('h', 'nothing');
  t.equal(s.size, 3);
});

t.test('agrees with a Set of the last N ids over 200,000 random operations', async (t) => {
  const cap = 1_000;
  const s = new SeenIds(cap);
  const model: string[] = []; // ids held, oldest first (deleted ones removed)
  const ring: string[] = []; // what the ring holds, deleted or not, oldest first
  let seed = 7;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) % n);
  let wrong = 0;
  for (let i = 0; i < 200_000; i++) {
    const id = `web-${rand(3)}:sshd:${rand(3_000)}`;
    if (rand(10) === 0) {
      s.delete('h', id);
      const at = model.indexOf(id);
      if (at >= 0) model.splice(at, 1);
      continue;
    }
    const expectNew = !model.includes(id);
    if (s.add('h', id) !== expectNew) wrong++;
    if (expectNew) {
      if (ring.length === cap) {
        const gone = ring.shift() as string;
        const at = model.indexOf(gone);
        if (at >= 0 && model.filter((x) => x === gone).length === 1 && ring.indexOf(gone) < 0) model.splice(at, 1);
      }
      ring.push(id);
      model.push(id);
    }
  }
  t.equal(wrong, 0, 'no answer differs');
  t.equal(s.size, model.length);
});

t.test('a capture restores the same set, oldest first, into a smaller one the newest', async (t) => {
  const s = new SeenIds(100);
  for (let i = 0; i < 150; i++) s.add('h', `id-${i}`);
  s.delete('h', 'id-120');
  const c = s.capture();
  t.equal(c.hi.length, 99);
  const back = new SeenIds(100);
  back.restore(c);
  t.equal(back.size, 99);
  t.notOk(back.add('h', 'id-149'));
  t.notOk(back.add('h', 'id-50'));
  t.ok(back.add('h', 'id-49'), 'forgotten before the capture');
  t.ok(back.add('h', 'id-120'), 'deleted before the capture');
  const small = new SeenIds(10);
  small.restore(c);
  t.equal(small.size, 10);
  t.notOk(small.add('h', 'id-149'));
  t.ok(small.add('h', 'id-139'), 'older than the newest 10');
  t.throws(() => small.restore(c), 'a set that holds keys takes no capture');
});
