// The controller's counters: totals, breakdowns by label values (kept apart however the values
// read), and the cap that sends new label sets to the _other row once a breakdown is full.
import t from 'tap';
import { CounterSet, MAX_BREAKDOWN, OTHER } from '../src/metrics/counter-set.js';

t.test('a count adds to its total and to its row', async (t) => {
  const c = new CounterSet();
  c.add('events.counted', 1, ['sshd', 'web-1']);
  c.add('events.counted', 2, ['sshd', 'web-1']);
  c.add('events.counted', 1, ['sshd', 'web-2']);
  c.add('events.received');
  t.equal(c.get('events.counted'), 4);
  t.equal(c.get('events.received'), 1);
  t.same(c.breakdown('events.counted'), [
    { labels: ['sshd', 'web-1'], value: 3 },
    { labels: ['sshd', 'web-2'], value: 1 },
  ]);
  t.same(c.breakdown('events.received'), [], 'no labels, no breakdown');
  t.same(c.labelledNames(), ['events.counted']);
});

t.test('label values are kept apart, whatever they contain', async (t) => {
  const c = new CounterSet();
  c.add('x', 1, ['a\nb', 'c']);
  c.add('x', 1, ['a', 'b\nc']);
  c.add('x', 1, ['a', 'b', 'c']);
  t.same(c.breakdown('x').map((r) => r.labels), [['a\nb', 'c'], ['a', 'b\nc'], ['a', 'b', 'c']]);
  const labels = ['sshd', 'web-1'];
  c.add('y', 1, labels);
  labels[1] = 'changed';
  t.same(c.breakdown('y')[0]?.labels, ['sshd', 'web-1'], 'the row keeps its own copy of the labels');
});

t.test('a full breakdown counts new label sets under _other, and its rows on', async (t) => {
  const c = new CounterSet();
  for (let i = 0; i < MAX_BREAKDOWN; i++) c.add('events.counted', 1, ['sshd', `host-${i}`]);
  c.add('events.counted', 1, ['sshd', 'one-more']);
  c.add('events.counted', 5, ['sshd', 'yet-another']);
  c.add('events.counted', 1, ['sshd', 'host-7']);
  const rows = c.breakdown('events.counted');
  t.equal(rows.length, MAX_BREAKDOWN + 1);
  t.same(rows.at(-1), { labels: [OTHER, OTHER], value: 6 });
  t.equal(rows.find((r) => r.labels[1] === 'host-7')?.value, 2);
  t.equal(c.get('events.counted'), MAX_BREAKDOWN + 7);
});
