/**
 * The reader thread of `fleetban regex` (see reader-thread.ts): reads the command line and
 * the filter it names (and posts the filter's spec, for the other thread to check), reads the log and does the first half
 * of the engine's work on every tested line (date found and cut out, prefregex searched) with its
 * own engine, in order, and posts each piece of text with what it found. At most {@link AHEAD}
 * pieces wait unread.
 */

import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { FilterEngine, type MissTable, systemTimeZone } from '@fleetban/agent';
import { CHUNK, forEachLineIn, forEachText } from '../log-lines.js';
import { parseArgs } from '../args.js';
import { coarseClock, regexFilterOf } from './filter.js';
import type { FrontText, ReaderMessage } from './reader-thread.js';
import { AHEAD, READ, type ReaderInput, SLOTS } from './reader-start.js';
import { regexCallOf } from './request.js';
import { isTestedLine } from './tester.js';

const { argv, counters, bytes: ring } = workerData as ReaderInput;
const port = parentPort as MessagePort;
const count = new Int32Array(counters);
/** A small first piece gets the other thread going sooner. */
const FIRST_PIECE = 64 << 10;

function post(message: ReaderMessage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

try {
  const { log: path, request } = regexCallOf(parseArgs(argv), 'usage: see fleetban regex --help');
  const { spec } = regexFilterOf(request);
  post({ spec: JSON.stringify(spec) });
  // the first half needs the dates and the prefregex only
  const engine = new FilterEngine({ ...spec, failregex: [], ignoreregex: [] }, { clock: coarseClock(), zone: systemTimeZone });
  const front = engine.newFront();
  const spans = front.spans;
  const stride = 4 + spans.length;
  let posted = 0;
  let misses: MissTable | undefined;
  let ints = new Int32Array(0);
  let dates = new Float64Array(0);
  forEachText(path, (text, bytes, encoding) => {
    // sized for lines of 64 bytes, grown when they are shorter
    if (ints.length === 0) {
      ints = new Int32Array(Math.ceil(text.length / 64) * stride);
      dates = new Float64Array(Math.ceil(text.length / 64));
    }
    // when the other thread has (almost) nothing left to take, it searches the prefregex of this
    // piece itself: the two threads share the work as it comes
    const prefregex = posted - Atomics.load(count, READ) >= 2;
    // the other thread's failregexes, once it has compiled them, as first characters and literals
    misses ??= receiveMessageOnPort(port)?.message as MissTable | undefined;
    let at = 0;
    let k = 0;
    forEachLineIn(text, (lineNl) => {
      if (k === dates.length) {
        const moreInts = new Int32Array(ints.length * 2);
        moreInts.set(ints);
        ints = moreInts;
        const moreDates = new Float64Array(dates.length * 2);
        moreDates.set(dates);
        dates = moreDates;
      }
      if (isTestedLine(lineNl)) {
        engine.frontNl(lineNl, front, prefregex, misses);
        ints[at] = front.preEnd;
        ints[at + 1] = front.postStart;
        ints[at + 2] = front.timeKind;
        ints[at + 3] = front.pref;
        if (front.pref >= 2) for (let i = 0; i < spans.length; i++) ints[at + 4 + i] = spans[i] as number;
        dates[k] = front.date ?? Number.NaN;
      }
      at += stride;
      k++;
    });
    for (let read = Atomics.load(count, READ); posted - read >= AHEAD; read = Atomics.load(count, READ)) Atomics.wait(count, READ, read);
    // (this slot is free: the other thread has at most AHEAD - 1 pieces left to take)
    const slot = posted % SLOTS;
    const fits = bytes.length <= CHUNK;
    if (fits) new Uint8Array(ring, slot * CHUNK, bytes.length).set(bytes);
    const piece: FrontText = { slot, length: bytes.length, encoding, text: fits ? undefined : text, stride, ints, dates };
    post(piece, [ints.buffer as ArrayBuffer, dates.buffer as ArrayBuffer]);
    ints = new Int32Array(0);
    dates = new Float64Array(0);
    posted++;
  }, FIRST_PIECE);
  post({ done: true, hits: engine.detector.templateHits().map((h) => ({ name: h.template.name, hits: h.hits })) });
} catch (err) {
  post({ error: (err as Error).message });
}
