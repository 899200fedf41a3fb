/**
 * The kept lines' records outside the heap: encoding, size classes, places freed and reused,
 * damaged records refused, against a plain Map of arrays (seeded: a failure can be replayed).
 */
import t from 'tap';
import { decodeLines, encodeLines, LineArena, recordLength } from '../src/policy/line-arena.js';

t.test('line arena: records read back as written, of every size class', async (tt) => {
  const arena = new LineArena();
  const cases: string[][] = [['a'], [''], ['Failed password for root from 192.0.2.1 port 22 ssh2'], ['ü€😀 non-ASCII', 'two'], ['x'.repeat(8192 * 3)], ['y'.repeat(250), 'z'.repeat(3000), 'é'.repeat(5000)]];
  for (let n = 1; n <= 300; n++) cases.push(['w'.repeat(n)]); // every small class and its edges
  const handles = cases.map((c) => arena.putLines(c));
  tt.ok(handles.every((h) => h > 0 && Number.isInteger(h) && h < 2 ** 31), 'handles are positive 31-bit integers');
  tt.equal(new Set(handles).size, handles.length, 'each record its own handle');
  tt.same(handles.map((h) => arena.lines(h)), cases, 'read back');
  tt.same(handles.map((h) => decodeLines(arena.record(h))), cases, 'a record decodes alone');
  tt.equal(arena.size, cases.length);
  tt.equal(arena.putLines([]), 0, 'no lines: no record');
  tt.same(arena.lines(0), []);
  tt.equal(arena.put(encodeLines([]).record), 0, 'a record of no line: no record');
  const one = cases.filter((c) => c.length === 1).map((c) => c[0] as string);
  tt.same(one.map((l) => arena.putLine(l)).map((h) => arena.record(h)), one.map((l) => arena.record(arena.putLines([l]))), 'one line put alone makes the record of a list of it');
});

t.test('line arena: a freed place is reused, the others are untouched', async (tt) => {
  const arena = new LineArena();
  const a = arena.putLines(['first line']);
  const b = arena.putLines(['second line']);
  arena.free(a);
  tt.equal(arena.size, 1);
  const c = arena.putLines(['third line']);
  tt.equal(c, a, 'the freed place of the same class');
  tt.same([arena.lines(b), arena.lines(c)], [['second line'], ['third line']]);
  arena.free(0);
  tt.equal(arena.size, 2, 'freeing 0 does nothing');
});

t.test('line arena: random puts and frees agree with a Map of arrays', async (tt) => {
  let seed = 20261205;
  const rnd = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const arena = new LineArena();
  const ref = new Map<number, string[]>();
  let reused = 0;
  for (let i = 0; i < 60_000; i++) {
    if (ref.size > 0 && rnd(3) === 0) {
      const keys = [...ref.keys()];
      const h = keys[rnd(keys.length)] as number;
      arena.free(h);
      ref.delete(h);
    } else {
      const lines = Array.from({ length: 1 + rnd(3) }, () => 'l'.repeat(rnd(rnd(10) === 0 ? 6000 : 120)) + (rnd(5) === 0 ? 'ß' : ''));
      const h = arena.putLines(lines);
      if (ref.has(h)) reused++;
      ref.set(h, lines);
    }
    if (ref.size > 5_000) for (const h of [...ref.keys()].slice(0, 2_000)) (arena.free(h), ref.delete(h));
  }
  tt.equal(reused, 0, 'a handle held is never given again');
  let wrong = 0;
  for (const [h, lines] of ref) if (JSON.stringify(arena.lines(h)) !== JSON.stringify(lines)) wrong++;
  tt.equal(wrong, 0, 'every record held reads as written');
  tt.equal(arena.size, ref.size);
});

t.test('line arena: recordLength refuses a record that runs past its end', async (tt) => {
  const { record } = encodeLines(['one', 'two lines']);
  tt.equal(recordLength(record, 0), record.length, 'whole');
  for (let cut = 0; cut < record.length; cut++) tt.equal(recordLength(record.subarray(0, cut), 0), -1, `cut at ${cut}`);
  const huge = Buffer.from(record);
  huge.writeUInt32LE(0xffffffff, 0);
  tt.equal(recordLength(huge, 0), -1, 'a count beyond what is there');
  const long = Buffer.from(record);
  long.writeUInt32LE(1000, 4);
  tt.equal(recordLength(long, 0), -1, 'a line longer than what is there');
});

t.test('line arena: a page whose records are all freed is given back; a record is not freed twice', async (tt) => {
  const arena = new LineArena();
  const line = 'Failed password for root from 192.0.2.1 port 22 ssh2';
  // a spray: each new record after the oldest is freed, 100,000 of them, 5,000 held at a time
  const held: number[] = [];
  let most = 0;
  for (let i = 0; i < 100_000; i++) {
    held.push(arena.putLines([`${line} ${i}`]));
    if (held.length > 5_000) arena.free(held.shift() as number);
    most = Math.max(most, arena.pageBytes);
  }
  tt.ok(most <= 2 * 5_000 * 72, `the pages stay within twice the places held (${most} bytes)`);
  tt.same(arena.lines(held[0] as number), [`${line} ${100_000 - 5_000}`], 'the oldest held reads as written');
  // pages emptied by the spray were taken again as spares, not made anew each time
  tt.ok(arena.pagesMade <= 2 * Math.ceil(most / 65_536), `pages made: ${arena.pagesMade} (at most ${Math.ceil(most / 65_536)} in use at once)`);
  tt.ok(arena.spareBytes <= Math.max(2, arena.pageBytes / 65_536 / 8) * 65_536, `spares within an eighth of the pages in use (${arena.spareBytes} bytes)`);
  for (const h of held) arena.free(h);
  tt.equal(arena.pageBytes, 0, 'every page given back');
  tt.ok(arena.spareBytes <= 2 * 65_536, `two spares at most once nothing is held (${arena.spareBytes} bytes)`);
  tt.equal(arena.size, 0);
  const h = arena.putLines(['one']);
  arena.putLines(['two']);
  arena.free(h);
  tt.throws(() => arena.free(h), /freed twice/);
});
