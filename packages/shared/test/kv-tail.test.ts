// The watchdog of a pass over a bucket: it stops a pass that receives nothing for its time, never
// one whose caller holds an entry. Real timers (tens of ms), no NATS.
import t from 'tap';
import { PassWatchdog } from '../src/nats/kv-tail.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a pass that receives nothing is stopped; one that receives, or whose caller holds an entry, is not', async (t) => {
  let stops = 0;
  const quiet = new PassWatchdog(() => stops++, 60);
  await sleep(200);
  t.equal(stops, 1, 'stopped once');
  t.ok(quiet.stalled, 'and says it stalled');
  quiet.clear();

  let busyStops = 0;
  const busy = new PassWatchdog(() => busyStops++, 60);
  for (let i = 0; i < 8; i++) {
    busy.touch();
    await sleep(25);
  }
  busy.hold();
  await sleep(200);
  t.equal(busyStops, 0, 'entries kept coming, then the caller held one');
  t.notOk(busy.stalled);
  busy.clear();
});
