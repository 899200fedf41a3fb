/**
 * The reader thread of `fleetban regex` (see regex-reader-thread.ts): reads the log and does the
 * first half of the engine's work on every tested line (date found and cut out, prefregex
 * searched) with its own engine built from the same filter, in order, and posts each piece of text
 * with what it found. At most {@link AHEAD} pieces wait unread.
 */

import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { FilterEngine, type FilterSpec, systemTimeZone } from '@fleetban/agent';
import { forEachLineIn, forEachText } from './log-lines.js';
import { coarseClock } from './regex-filter.js';
import { AHEAD, type FrontText, READ, type ReaderInput, type ReaderMessage } from './regex-reader-thread.js';
import { isTestedLine } from './regex-run.js';

const { path, spec, counters } = workerData as ReaderInput & { readonly spec: FilterSpec };
const port = parentPort as MessagePort;
const count = new Int32Array(counters);
/** A small first piece gets the other thread going sooner. */
const FIRST_PIECE = 64 << 10;

function post(message: ReaderMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

try {
  const engine = new FilterEngine(spec, { clock: coarseClock(), zone: systemTimeZone });
  const front = engine.newFront();
  const stride = 4 + front.spans.length;
  let posted = 0;
  forEachText(path, (text) => {
    let lines = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    const ints = new Int32Array(lines * stride);
    const dates = new Float64Array(lines);
    let at = 0;
    let k = 0;
    forEachLineIn(text, (lineNl) => {
      if (isTestedLine(lineNl)) {
        engine.frontNl(lineNl, front);
        ints[at] = front.preEnd;
        ints[at + 1] = front.postStart;
        ints[at + 2] = front.timeKind;
        ints[at + 3] = front.pref;
        if (front.pref === 2) ints.set(front.spans, at + 4);
        dates[k] = front.date ?? Number.NaN;
      }
      at += stride;
      k++;
    });
    for (let read = Atomics.load(count, READ); posted - read >= AHEAD; read = Atomics.load(count, READ)) Atomics.wait(count, READ, read);
    const piece: FrontText = { text, stride, ints, dates };
    post(piece, [ints.buffer as ArrayBuffer, dates.buffer as ArrayBuffer]);
    posted++;
  }, FIRST_PIECE);
  post({ done: true, hits: engine.detector.templateHits().map((h) => ({ name: h.template.name, hits: h.hits })) });
} catch (err) {
  post({ error: (err as Error).message });
}
