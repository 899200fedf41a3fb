// The agent's one memory-reducing collection once it has started and joined (start-garbage.ts).
import { constants, PerformanceObserver } from 'node:perf_hooks';
import t from 'tap';
import { type Logger, silentLogger } from '@fleetban/shared';
import { lowMemoryCollection, StartGarbage } from '../src/start-garbage.js';

// the collection's timer does not hold the process open: this does, while the tests wait on it
const alive = setInterval(() => {}, 60_000);
t.teardown(() => clearInterval(alive));

/** A collector that counts its calls and resolves `next` at each. */
function counting() {
  let calls = 0;
  let wake = () => {};
  return {
    collect: async () => {
      calls++;
      wake();
    },
    next: () => new Promise<void>((r) => (wake = r)),
    get calls() {
      return calls;
    },
  };
}

t.test('a start and a join close together cost one collection', async (t) => {
  const c = counting();
  const g = new StartGarbage(silentLogger(), { settleMs: 20, collect: c.collect });
  const ran = c.next();
  g.soon();
  g.soon();
  await ran;
  t.equal(c.calls, 1);
});

t.test('stop cancels a collection not run yet', async (t) => {
  const stopped = counting();
  const g = new StartGarbage(silentLogger(), { settleMs: 10, collect: stopped.collect });
  g.soon();
  g.stop();
  // a second one armed later runs: by then the stopped one would have run
  const later = counting();
  const ran = later.next();
  new StartGarbage(silentLogger(), { settleMs: 50, collect: later.collect }).soon();
  await ran;
  t.equal(stopped.calls, 0);
});

t.test('a collection that cannot be had is logged at debug, nothing thrown', async (t) => {
  let logged!: (msg: string) => void;
  const debug = new Promise<string>((r) => (logged = r));
  const logger = { debug: (_: unknown, msg: string) => logged(msg) } as unknown as Logger;
  new StartGarbage(logger, { settleMs: 1, collect: () => Promise.reject(new Error('no inspector')) }).soon();
  t.equal(await debug, 'start-up garbage not collected');
});

t.test("V8's low-memory notification runs a full collection", async (t) => {
  const major = new Promise<void>((resolve) => {
    const obs = new PerformanceObserver((list) => {
      if (list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
        obs.disconnect();
        resolve();
      }
    });
    obs.observe({ entryTypes: ['gc'] });
  });
  await lowMemoryCollection();
  await major;
  t.pass('a major collection was observed');
});
