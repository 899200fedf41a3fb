/**
 * `fleetban regex` on two cores: a worker thread (regex-date-worker.ts) reads the log and finds
 * each line's date, the first half of the engine's work, while this thread runs the regexes on
 * the lines already dated (`processLineNlFound`). The date detector keeps state from line to
 * line (the template that hit last is tried first, templates that hit move up), so all dates are
 * found by one detector in log order, as in one thread: the verdicts are the same.
 *
 * The worker posts the text it read with the dates' spans and times; this thread takes the
 * messages synchronously (`receiveMessageOnPort`), sleeping on a shared counter while none is
 * there, and counts what it took so the worker stays at most a few pieces ahead.
 */

import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { FilterSpec, FoundDate } from '@fleetban/agent';
import { FleetbanError } from '@fleetban/shared';
import { forEachLineIn } from './log-lines.js';

/** Shared counters: pieces posted by the worker, pieces read here. */
export const POSTED = 0;
export const READ = 1;
/** Pieces (about 1 MB of text each) the worker may be ahead. */
export const AHEAD = 8;
/** Logs smaller than this are read in one thread (starting the worker, about 0.15 s, costs more than it saves). */
const MIN_BYTES = 32 << 20;

/** What the worker is started with (besides the filter's spec and its port). */
export interface DateThreadInput {
  readonly path: string;
  readonly counters: SharedArrayBuffer;
}

/** A piece of the log: whole lines, the start and end of each tested line's date (start -1: no date), its time (NaN: none). */
export interface DatedText {
  readonly text: string;
  readonly spans: Int32Array;
  readonly times: Float64Array;
}

type Message = DatedText | { readonly error: string } | { readonly done: true; readonly hits: Array<{ name: string; hits: number }> };

/** A running date thread over one log file. */
export class DateThread {
  /** Hits per date template, in the detector's final order (after {@link forEachLine}). */
  templateHits: Array<{ readonly name: string; readonly hits: number }> = [];
  private readonly count: Int32Array;

  private constructor(private readonly worker: Worker, private readonly port: MessagePort, counters: SharedArrayBuffer) {
    this.count = new Int32Array(counters);
  }

  /**
   * Starts one for the log at `path` when `force`d or when it is worth it (a big file, more than
   * one CPU); else undefined.
   */
  static start(path: string, spec: FilterSpec, force = false): DateThread | undefined {
    if (!force && (availableParallelism() < 2 || statSync(path).size < MIN_BYTES)) return undefined;
    const counters = new SharedArrayBuffer(8);
    const { port1, port2 } = new MessageChannel();
    const input: DateThreadInput = { path, counters };
    const worker = new Worker(new URL('./regex-date-worker.js', import.meta.url), { workerData: { ...input, spec, port: port2 }, transferList: [port2] });
    worker.unref();
    return new DateThread(worker, port1, counters);
  }

  /** Calls `each` with every line of the log, in order, and where its date is (tested lines only, see isTestedLine). */
  forEachLine(each: (lineNl: string, found: FoundDate) => void): void {
    const found: FoundDate = { found: false, start: 0, end: 0, time: null };
    for (;;) {
      const m = this.next();
      if ('error' in m) throw new FleetbanError('LOG_UNREADABLE', m.error);
      if ('done' in m) {
        this.templateHits = m.hits;
        return;
      }
      const { spans, times } = m;
      let k = 0;
      forEachLineIn(m.text, (lineNl) => {
        const start = spans[2 * k] as number;
        found.found = start >= 0;
        found.start = start;
        found.end = spans[2 * k + 1] as number;
        const t = times[k] as number;
        found.time = Number.isNaN(t) ? null : t;
        k++;
        each(lineNl, found);
      });
      Atomics.add(this.count, READ, 1);
      Atomics.notify(this.count, READ);
    }
  }

  /** Stops the worker (when the lines were not all taken). */
  stop(): void {
    void this.worker.terminate();
  }

  /** The next message, waiting for it; throws when the worker ended without one. */
  private next(): Message {
    for (;;) {
      const posted = Atomics.load(this.count, POSTED);
      const m = receiveMessageOnPort(this.port);
      if (m !== undefined) return m.message as Message;
      if (Atomics.wait(this.count, POSTED, posted, 1000) === 'timed-out' && this.worker.threadId === -1) {
        const last = receiveMessageOnPort(this.port);
        if (last !== undefined) return last.message as Message;
        throw new FleetbanError('REGEX_THREAD', 'the date thread of fleetban regex stopped unexpectedly');
      }
    }
  }
}
