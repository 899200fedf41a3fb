// The reporter's back-pressure on the log sources: when reading waits, and waking the sources.
import t from 'tap';
import { gateClosed, ReportGate } from '../src/report/read-gate.js';

const state = (s: Partial<{ spoolFull: boolean; publishing: boolean; queued: number }>) => ({ spoolFull: false, publishing: false, queued: 0, ...s });

t.test('reading waits while the spool is full, or while publishing with the queue at its pace', async (t) => {
  t.equal(gateClosed(state({}), 2048), false);
  t.equal(gateClosed(state({ spoolFull: true }), 2048), true);
  t.equal(gateClosed(state({ publishing: true, queued: 2047 }), 2048), false);
  t.equal(gateClosed(state({ publishing: true, queued: 2048 }), 2048), true);
  // not publishing (not connected yet, a publish failed, the spool in use): reading goes on into the spool
  t.equal(gateClosed(state({ publishing: false, queued: 50_000 }), 2048), false);
});

t.test('a source waiting on the gate is woken once, when it opens', async (t) => {
  const gate = new ReportGate(10);
  let woken = 0;
  const wake = () => { woken++; };
  gate.whenOpen(wake);
  t.equal(woken, 1, 'open: woken at once');
  gate.update(state({ publishing: true, queued: 10 }));
  t.equal(gate.blocked, true);
  gate.whenOpen(wake);
  gate.whenOpen(wake); // the same function is kept once
  gate.update(state({ publishing: true, queued: 12 }));
  t.equal(woken, 1, 'still closed: not woken');
  gate.update(state({ publishing: true, queued: 9 }));
  t.equal(gate.blocked, false);
  t.equal(woken, 2, 'opened: woken once');
  gate.update(state({ publishing: true, queued: 0 }));
  t.equal(woken, 2, 'not woken again without asking');
});

t.test('a spill (publishing stops) opens the gate: reading goes on into the spool', async (t) => {
  const gate = new ReportGate(10);
  gate.update(state({ publishing: true, queued: 20 }));
  let woken = false;
  gate.whenOpen(() => { woken = true; });
  gate.update(state({ publishing: false, queued: 0 }));
  t.equal(woken, true);
  gate.update(state({ spoolFull: true }));
  t.equal(gate.blocked, true);
});
