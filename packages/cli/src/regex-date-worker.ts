/**
 * The date thread of `fleetban regex` (see regex-date-thread.ts): reads the log, finds the date of
 * every tested line with its own engine built from the same filter, in order, and posts each piece
 * of text with where the dates are. At most {@link AHEAD} pieces wait unread.
 */

import { type MessagePort, workerData } from 'node:worker_threads';
import { FilterEngine, type FilterSpec, type FoundDate, systemTimeZone } from '@fleetban/agent';
import { forEachLineIn, forEachText } from './log-lines.js';
import { coarseClock } from './regex-filter.js';
import { AHEAD, type DateThreadInput, type DatedText, POSTED, READ } from './regex-date-thread.js';
import { isTestedLine } from './regex-run.js';

const { path, spec, counters, port } = workerData as DateThreadInput & { readonly spec: FilterSpec; readonly port: MessagePort };
const count = new Int32Array(counters);
const found: FoundDate = { found: false, start: 0, end: 0, time: null };

function post(message: DatedText | { readonly error: string } | { readonly done: true; readonly hits: Array<{ name: string; hits: number }> }, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
  Atomics.add(count, POSTED, 1);
  Atomics.notify(count, POSTED);
}

try {
  const engine = new FilterEngine(spec, { clock: coarseClock(), zone: systemTimeZone });
  let posted = 0;
  forEachText(path, (text) => {
    let lines = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
    const spans = new Int32Array(lines * 2);
    const times = new Float64Array(lines);
    let k = 0;
    forEachLineIn(text, (lineNl) => {
      if (isTestedLine(lineNl)) {
        engine.findDateNl(lineNl, found);
        spans[2 * k] = found.found ? found.start : -1;
        spans[2 * k + 1] = found.end;
        times[k] = found.time ?? Number.NaN;
      }
      k++;
    });
    for (let read = Atomics.load(count, READ); posted - read >= AHEAD; read = Atomics.load(count, READ)) Atomics.wait(count, READ, read);
    post({ text, spans, times }, [spans.buffer as ArrayBuffer, times.buffer as ArrayBuffer]);
    posted++;
  });
  post({ done: true, hits: engine.detector.templateHits().map((h) => ({ name: h.template.name, hits: h.hits })) });
} catch (err) {
  post({ error: (err as Error).message });
}
