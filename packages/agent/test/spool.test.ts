// The on-disk spool of unsent failures, on a real directory.
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { silentLogger } from '@fleetban/shared';
import { Spool } from '../src/report/spool.js';

const rec = (s: string) => new TextEncoder().encode(s);
const text = (r: { data: Uint8Array }) => new TextDecoder().decode(r.data);

t.test('what one run spooled, the next run reads, also with nothing appended since', async (t) => {
  const dir = t.testdir();
  const first = new Spool(dir, 1 << 20, silentLogger());
  first.append([rec('a'), rec('b'), rec('c')]);
  first.close();
  const second = new Spool(dir, 1 << 20, silentLogger());
  t.equal(second.count, 3, 'three records counted at load');
  const got = await second.read(second.head, 10);
  t.same(got.map(text), ['a', 'b', 'c'], 'and read back without a new append');
  second.ack(got[1]!.end, 2);
  second.saveHead();
  second.close();
  const third = new Spool(dir, 1 << 20, silentLogger());
  t.same((await third.read(third.head, 10)).map(text), ['c'], 'from the acknowledged position on');
  third.append([rec('d')]);
  t.same((await third.read(third.head, 10)).map(text), ['c', 'd'], 'new records go to a new segment, after the old ones');
  third.close();
});

t.test('a torn tail left by a crash is skipped; the whole records before it are read', async (t) => {
  const dir = t.testdir();
  const first = new Spool(dir, 1 << 20, silentLogger());
  first.append([rec('a'), rec('b')]);
  first.close();
  const seg = readdirSync(join(dir, 'spool')).find((f) => f.endsWith('.seg'))!;
  appendFileSync(join(dir, 'spool', seg), Buffer.from([9, 0, 0, 0, 1, 2]));
  const second = new Spool(dir, 1 << 20, silentLogger());
  t.equal(second.count, 2);
  t.same((await second.read(second.head, 10)).map(text), ['a', 'b']);
  second.close();
});
