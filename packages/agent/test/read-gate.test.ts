// The reporter's back-pressure on the log sources: when reading waits, and waking the sources.
import t from 'tap';
import type { LogOutput } from '@fleetban/shared';
import { LogGate } from '../src/report/log-gate.js';
import { anyGate, gateClosed, ReportGate } from '../src/report/read-gate.js';

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

/** A log output whose backlog, last write and writes the test sets. */
function fakeOutput() {
  const listeners = new Set<() => void>();
  const o = {
    bytes: 0,
    sinceWrite: 0,
    backlogBytes: () => o.bytes,
    msSinceWrite: () => o.sinceWrite,
    onWrite(l: () => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    /** A write completes, leaving `left` bytes waiting. */
    write(left: number) {
      o.bytes = left;
      o.sinceWrite = 0;
      for (const l of [...listeners]) l();
    },
    listeners,
  };
  return o satisfies LogOutput;
}

t.test('the log gate holds reading while the log backlog is at its pace, and wakes after the write that brings it under', async (t) => {
  const out = fakeOutput();
  const gate = new LogGate(out, { paceBytes: 1000, stuckMs: 2000 });
  t.equal(gate.blocked, false);
  out.bytes = 1000;
  t.equal(gate.blocked, true);
  let woken = 0;
  const wake = () => { woken++; };
  gate.whenOpen(wake);
  gate.whenOpen(wake);
  t.equal(gate.held, 1);
  out.write(1500);
  t.equal(woken, 0, 'still over the pace: not woken');
  out.write(999);
  t.equal(woken, 1, 'under the pace: woken once');
  t.equal(out.listeners.size, 0, 'stops listening once nobody waits');
  out.write(0);
  t.equal(woken, 1);
});

t.test('a stuck log reader does not hold reading: the host stays protected', async (t) => {
  const out = fakeOutput();
  const gate = new LogGate(out, { paceBytes: 1000, stuckMs: 2000 });
  out.bytes = 5000;
  out.sinceWrite = 1999;
  t.equal(gate.blocked, true, 'slow: held');
  out.sinceWrite = 2000;
  t.equal(gate.blocked, false, 'nothing taken for 2 s: reading goes on');
  let woken = false;
  gate.whenOpen(() => { woken = true; });
  t.equal(woken, true);
});

t.test('anyGate is closed while either is, and wakes a source once both are open', async (t) => {
  const report = new ReportGate(10);
  const out = fakeOutput();
  const log = new LogGate(out, { paceBytes: 1000 });
  const gate = anyGate([report, log]);
  t.equal(gate.blocked, false);
  let woken = 0;
  const wake = () => { woken++; };
  gate.whenOpen?.(wake);
  t.equal(woken, 1, 'open: at once');
  report.update(state({ publishing: true, queued: 10 }));
  out.bytes = 2000;
  t.equal(gate.blocked, true);
  gate.whenOpen?.(wake);
  gate.whenOpen?.(wake); // asked again by the next poll: kept once
  report.update(state({ publishing: true, queued: 0 }));
  t.equal(woken, 1, 'the reporter opened, the log is still behind: not woken');
  t.equal(gate.blocked, true);
  out.write(10);
  t.equal(woken, 2, 'both open: woken once');
  out.write(0);
  report.update(state({}));
  t.equal(woken, 2, 'not woken again without asking');
});
