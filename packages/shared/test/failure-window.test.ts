/**
 * The failure window's compact layout (slots, rows, spills, shared host names) against a plain
 * reference: the window as it was written first, one object of three arrays per address, kept
 * here. Random failures, resets, prunes, retunes, captures and restores, from a seeded generator
 * (the seed is in each test's name: a failure can be replayed).
 */
import t from 'tap';
import { FailureWindow, MAX_MATCH_BYTES, type CapturedAddress, type Tracked, type WindowOptions } from '../src/policy/failure-window.js';
import { RowCopy } from '../src/policy/failure-window-capture.js';
import { FailureRows } from '../src/policy/failure-rows.js';
import { decodeLines } from '../src/policy/line-arena.js';

/** The window as first written: a Map of {times, sources, matches}, re-inserted on each failure. */
class ReferenceWindow {
  readonly #byIp = new Map<string, { times: number[]; sources: string[]; matches: string[] }>();
  dropped = 0;
  constructor(
    private opts: WindowOptions,
    private readonly maxTimes = 1000,
    private readonly maxMatchBytes = MAX_MATCH_BYTES,
  ) {}

  retune(o: Pick<WindowOptions, 'findtimeMs' | 'maxmatches'>): void {
    this.opts = { ...this.opts, ...o };
  }

  add(ip: string, timeMs: number, host: string, line: string): Tracked {
    let t = this.#byIp.get(ip);
    if (t) this.#byIp.delete(ip);
    else t = { times: [], sources: [], matches: [] };
    this.#byIp.set(ip, t);
    let i = t.times.length;
    while (i > 0 && (t.times[i - 1] as number) > timeMs) i--;
    t.times.splice(i, 0, timeMs);
    t.sources.splice(i, 0, host);
    const newest = t.times[t.times.length - 1] as number;
    let cut = 0;
    while (cut < t.times.length && (t.times[cut] as number) <= newest - this.opts.findtimeMs) cut++;
    if (t.times.length - cut > this.maxTimes) cut = t.times.length - this.maxTimes;
    t.times.splice(0, cut);
    t.sources.splice(0, cut);
    if (this.opts.maxmatches > 0) {
      t.matches.push(line);
      while (t.matches.length > this.opts.maxmatches) t.matches.shift();
      let bytes = 0;
      for (const m of t.matches) bytes += Buffer.byteLength(m, 'utf8');
      while (bytes > this.maxMatchBytes && t.matches.length > 1) bytes -= Buffer.byteLength(t.matches.shift() as string, 'utf8');
    }
    this.#evict();
    return { times: t.times.slice(), sources: t.sources.slice(), matches: t.matches.slice() };
  }

  #evict(): void {
    if (this.#byIp.size <= this.opts.maxTracked) return;
    let excess = this.#byIp.size - this.opts.maxTracked;
    for (const ip of this.#byIp.keys()) {
      if (excess-- <= 0) break;
      this.#byIp.delete(ip);
      this.dropped++;
    }
  }

  capture(): CapturedAddress[] {
    return [...this.#byIp].map(([ip, t]) => ({ ip, times: t.times.slice(), sources: t.sources.slice(), matches: t.matches.slice() }));
  }

  restore(captured: Iterable<CapturedAddress>): void {
    for (const c of captured) {
      const times = c.times.slice(-this.maxTimes);
      if (times.length === 0) continue;
      this.#byIp.delete(c.ip);
      this.#byIp.set(c.ip, { times, sources: c.sources.slice(-times.length), matches: c.matches.slice() });
    }
    this.#evict();
  }

  reset(ip: string): void {
    this.#byIp.delete(ip);
  }

  prune(nowMs: number): void {
    for (const [ip, t] of this.#byIp) if ((t.times[t.times.length - 1] ?? 0) <= nowMs - this.opts.findtimeMs) this.#byIp.delete(ip);
  }

  get size(): number {
    return this.#byIp.size;
  }
}

/** mulberry32: a small seeded generator, so that a failing run can be replayed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const LINES = ['Failed password for root from 192.0.2.1 port 22 ssh2', 'é'.repeat(700), 'x'.repeat(3000), 'Invalid user admin from 2001:db8::1', ''];

for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
  t.test(`failure window: the same as the reference under random failures (seed ${seed})`, async (tt) => {
    const random = generator(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const opts: WindowOptions = { findtimeMs: pick([1_000, 10_000, 60_000]), maxmatches: pick([0, 1, 3, 5]), maxTracked: pick([4, 16, 40]) };
    const maxTimes = pick([1, 2, 3, 7, 1000]);
    const maxBytes = pick([MAX_MATCH_BYTES, 4_000]);
    // canonical IPv4 is a number in the window's key table, anything else its text: both, and texts
    // that look almost like IPv4
    const odd = ['01.2.3.4', '1.2.3.4.5', '::ffff:192.0.2.1', '', '256.1.1.1', '1.2.3.', '0.0.0.0', '255.255.255.255'];
    const ips = [...Array.from({ length: pick([5, 30, 80]) }, (_, i) => (i % 2 ? `2001:db8::${i.toString(16)}` : `192.0.2.${i}`)), ...odd.slice(0, pick([0, 3, 8]))];
    const hosts = Array.from({ length: pick([1, 3, 9]) }, (_, i) => `web-${i}`);
    let w = new FailureWindow(opts, maxTimes, maxBytes);
    let ref = new ReferenceWindow(opts, maxTimes, maxBytes);
    let now = 1_700_000_000_000;
    let mismatches = 0;
    const same = (a: unknown, b: unknown, what: string) => {
      if (JSON.stringify(a) === JSON.stringify(b)) return;
      if (mismatches++ < 3) tt.same(a, b, what);
    };
    // a capture read while the window goes on changing (as a snapshot is), against the reference's
    // copy made at the same time
    let pending: { made: number; capture: ReturnType<FailureWindow['capture']>; expected: CapturedAddress[] } | undefined;
    for (let step = 0; step < 4000; step++) {
      if (pending && random() < 0.02) {
        same(pending.capture.slice(), pending.expected, `a capture made at step ${pending.made}, read at step ${step}`);
        if (random() < 0.5) {
          pending.capture.release();
          pending = undefined;
        }
      } else if (!pending && random() < 0.01) pending = { made: step, capture: w.capture(), expected: ref.capture() };
      const r = random();
      if (r < 0.85) {
        now += Math.floor(random() * 400);
        const time = now - (random() < 0.2 ? Math.floor(random() * 5_000) : 0); // some out of order
        const args = [pick(ips), time, pick(hosts), pick(LINES)] as const;
        same(w.add(...args), ref.add(...args), `add at step ${step}`);
      } else if (r < 0.9) {
        const ip = pick(ips);
        w.reset(ip);
        ref.reset(ip);
      } else if (r < 0.93) {
        w.prune(now);
        ref.prune(now);
      } else if (r < 0.95) {
        const o = { findtimeMs: pick([1_000, 10_000, 60_000]), maxmatches: pick([0, 1, 3, 5]) };
        w.retune(o);
        ref.retune(o);
      } else if (r < 0.97) {
        // a restart: a fresh window takes back what was captured, after a few addresses of its own
        const captured = w.capture().slice();
        pending = undefined; // no longer readable
        same(captured, ref.capture(), `capture at step ${step}`);
        const o = { ...opts, findtimeMs: pick([1_000, 10_000, 60_000]), maxmatches: pick([0, 1, 3, 5]) };
        w = new FailureWindow(o, maxTimes, maxBytes);
        ref = new ReferenceWindow(o, maxTimes, maxBytes);
        for (const ip of ips.slice(0, 2)) {
          w.add(ip, now, 'web-0', 'before the restore');
          ref.add(ip, now, 'web-0', 'before the restore');
        }
        w.restore(captured);
        ref.restore(captured);
      }
      same(w.size, ref.size, `size at step ${step}`);
    }
    same(w.capture().slice(), ref.capture(), 'capture at the end');
    tt.equal(mismatches, 0, 'no difference');
  });
}

t.test('failure window: a view and a capture do not follow later failures', async (tt) => {
  const w = new FailureWindow({ findtimeMs: 60_000, maxmatches: 3, maxTracked: 10 });
  const views = [1, 2, 3, 4, 5].map((i) => w.add('192.0.2.1', i * 1000, `web-${i}`, `line ${i}`));
  const captured = w.capture();
  w.add('192.0.2.1', 6000, 'web-6', 'line 6');
  w.add('192.0.2.1', 500, 'web-0', 'line 0');
  tt.same(views[1], { times: [1000, 2000], sources: ['web-1', 'web-2'], matches: ['line 1', 'line 2'] }, 'a view of failures kept in the row');
  tt.same(views[4], { times: [1000, 2000, 3000, 4000, 5000], sources: ['web-1', 'web-2', 'web-3', 'web-4', 'web-5'], matches: ['line 3', 'line 4', 'line 5'] }, 'a view of failures kept apart (more than the row holds)');
  tt.same(captured.slice()[0]?.times, [1000, 2000, 3000, 4000, 5000], 'the capture');
  views[4]?.times.push(0);
  views[4]?.sources.push('changed');
  tt.same(w.add('192.0.2.1', 7000, 'web-7', 'line 7').times, [500, 1000, 2000, 3000, 4000, 5000, 6000, 7000], 'changing a view does not change the window');
});

t.test('failure window: any number of distinct host names, each failure keeps its own', async (tt) => {
  const w = new FailureWindow({ findtimeMs: 1e12, maxmatches: 0, maxTracked: 100_000 });
  for (let i = 0; i < 70_000; i++) w.add(`10.0.${i >> 8}.${i & 255}`, i, `host-${i}`, '');
  // the table of names starts over past 65,536: what is held keeps its names
  tt.same(w.add('10.0.0.7', 70_000, 'host-x', '').sources, ['host-7', 'host-x']);
  tt.same(w.add('10.1.17.112', 70_001, 'host-69999', '').sources, ['host-69999'], 'a new address, a name seen before the table started over');
  tt.same(w.add('10.0.0.7', 70_002, 'host-7', '').sources, ['host-7', 'host-x', 'host-7']);
  tt.equal(w.size, 70_001);
});

t.test('failure window: findtime 0 and maxTimes 0 hold nothing, as before', async (tt) => {
  const zero = new FailureWindow({ findtimeMs: 0, maxmatches: 2, maxTracked: 10 });
  tt.same(zero.add('192.0.2.1', 1000, 'web-1', 'a'), { times: [], sources: [], matches: ['a'] });
  tt.equal(zero.size, 1, 'the address is tracked');
  zero.prune(0);
  tt.equal(zero.size, 0, 'and pruned: its newest failure counts as 0');
  const none = new FailureWindow({ findtimeMs: 10_000, maxmatches: 2, maxTracked: 10 }, 0);
  tt.same(none.add('192.0.2.1', 1000, 'web-1', 'a').times, []);
});

t.test('failure window: a capture is read until the next one or its release, not after', async (tt) => {
  const w = new FailureWindow({ findtimeMs: 60_000, maxmatches: 3, maxTracked: 10 });
  w.add('192.0.2.1', 1000, 'web-1', 'line 1');
  const first = w.capture();
  w.add('192.0.2.2', 2000, 'web-2', 'line 2');
  tt.same(first.slice().map((a) => a.ip), ['192.0.2.1'], 'later failures do not reach it');
  const second = w.capture();
  tt.throws(() => first.slice(), /captured again/, 'the one before cannot be read any more');
  tt.same(second.slice().map((a) => a.ip), ['192.0.2.1', '192.0.2.2']);
  second.release();
  tt.throws(() => second.slice(), /released/, 'nor one released');
  first.release(); // an old capture's release leaves the newer alone
  tt.same(w.capture().slice().map((a) => a.matches), [['line 1'], ['line 2']], 'the next capture reads in full');
});

t.test('failure window: lines a live capture holds are not overwritten by later failures', async (tt) => {
  const w = new FailureWindow({ findtimeMs: 60_000, maxmatches: 2, maxTracked: 1000 });
  for (let i = 0; i < 100; i++) w.add(`192.0.2.${i}`, 1000, 'web-1', `first line of ${i}`);
  const captured = w.capture();
  // every address's lines change or go: the places of their records are given up while the capture is live
  for (let i = 0; i < 100; i++) {
    if (i % 2 === 0) w.add(`192.0.2.${i}`, 2000, 'web-1', `second line of ${i}`);
    else w.reset(`192.0.2.${i}`);
  }
  for (let i = 0; i < 300; i++) w.add(`198.51.100.${i % 250}`, 3000 + i, 'web-2', `another address's line ${i}`);
  tt.same(captured.slice().map((a) => a.matches), Array.from({ length: 100 }, (_, i) => [`first line of ${i}`]), 'the capture reads its lines');
  captured.release();
  tt.same(w.add('192.0.2.0', 4000, 'web-1', 'third').matches, ['second line of 0', 'third'], 'the window reads its own');
  const next = w.capture();
  tt.same(next.slice().filter((a) => a.ip === '192.0.2.2').map((a) => a.matches), [['first line of 2', 'second line of 2']]);
});

t.test('failure window: rows a capture\'s reader has passed are not kept; the rest read as captured', async (tt) => {
  const w = new FailureWindow({ findtimeMs: 60_000, maxmatches: 2, maxTracked: 100 });
  for (let i = 0; i < 100; i++) w.add(`192.0.2.${i}`, 1000 + i, 'web-1', `line ${i}`);
  const captured = w.capture();
  const row = new RowCopy();
  const read: string[] = [];
  captured.eachCopy(row, (r) => void read.push(`${r.v4} ${r.count} ${decodeLines((r.lines as Buffer).subarray(r.linesAt, r.linesAt + r.linesLength)).join('|')}`), 0, 50);
  captured.passed(50);
  // every address fails again and a spray evicts half of them: the window changes every row
  for (let i = 0; i < 100; i++) w.add(`192.0.2.${i}`, 5000 + i, 'web-2', `again ${i}`);
  for (let i = 0; i < 50; i++) w.add(`198.51.100.${i}`, 9000 + i, 'web-3', `new ${i}`);
  captured.eachCopy(row, (r) => void read.push(`${r.v4} ${r.count} ${decodeLines((r.lines as Buffer).subarray(r.linesAt, r.linesAt + r.linesLength)).join('|')}`), 50, 100);
  const base = (192 << 24 | 0 << 16 | 2 << 8) >>> 0;
  tt.same(read, Array.from({ length: 100 }, (_, i) => `${base + i} 1 line ${i}`), 'each row as it was at the capture');
  tt.throws(() => captured.slice(0, 1), /passed/, 'a passed row is not read again');
  captured.release();
  tt.same(w.capture().slice(0, 1).map((a) => a.matches), [['line 50', 'again 50']], 'the window\'s own rows are what the failures made');
});

t.test('failure window: a capture that kept more rows than are reused, then the next one, read as captured', async (tt) => {
  const w = new FailureWindow({ findtimeMs: 60_000, maxmatches: 2, maxTracked: 10_000 });
  const ip = (i: number) => `10.0.${i >> 8}.${i & 255}`;
  for (let i = 0; i < 10_000; i++) for (const time of [1000, 2000]) w.add(ip(i), time, 'web-1', `line ${time} of ${i}`);
  for (const round of [1, 2, 3]) {
    const captured = w.capture();
    // every row changes while the capture is live: 10,000 kept rows with 20,000 or more failures
    for (let i = 0; i < 10_000; i++) w.add(ip(i), 2000 + round * 1000, `web-${round + 1}`, `line ${2000 + round * 1000} of ${i}`);
    const rows = captured.slice();
    const times = round === 1 ? [1000, 2000] : [1000, 2000, 3000, 4000].slice(0, round + 1);
    tt.same(rows.length, 10_000, `round ${round}: every row`);
    tt.same(rows[7_777], { ip: ip(7_777), times, sources: ['web-1', 'web-1', 'web-2', 'web-3'].slice(0, times.length), matches: [`line ${times.at(-2)} of 7777`, `line ${times.at(-1)} of 7777`] }, `round ${round}: a row as it was`);
    captured.release();
  }
  tt.same(w.capture().slice(9_999)[0]?.times, [1000, 2000, 3000, 4000, 5000], 'the window\'s own rows after the last capture');
});

t.test('failure rows: a flood of host names is let go once no row holds them; each row keeps its own', async (tt) => {
  const rows = new FailureRows();
  rows.grow(16);
  // each row keeps its last two failures, the second often a new name that makes the table again
  for (let i = 0; i < 300_000; i++) rows.add(i % 16, i, `flood-${i}`, 1e12, 2);
  tt.ok(rows.hostNames <= 65_536, `host names held: ${rows.hostNames}`);
  const wrong = [];
  for (let row = 0; row < 16; row++) {
    const last = 300_000 - 16 + row;
    if (JSON.stringify([rows.timesOf(row), rows.sourcesOf(row)]) !== JSON.stringify([[last - 16, last], [`flood-${last - 16}`, `flood-${last}`]])) wrong.push(row);
  }
  tt.same(wrong, [], 'every row reads its two failures and their hosts');
  // a row that spills (more than the columns hold) and comes back keeps its hosts too
  for (let k = 0; k < 5; k++) rows.add(3, 400_000 + k, k % 2 ? 'web-1' : `late-${k}`, 1e12, 1000);
  tt.same(rows.sourcesOf(3).slice(-5), ['late-0', 'web-1', 'late-2', 'web-1', 'late-4']);
  rows.add(3, 500_000, 'web-9', 1_000, 1000);
  tt.same(rows.sourcesOf(3), ['web-9'], 'back in the columns after findtime dropped the rest');
});
