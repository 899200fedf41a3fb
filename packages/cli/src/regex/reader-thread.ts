/**
 * `fleetban regex` on two cores: a worker thread (reader-worker.ts) reads the log and does
 * the first half of the engine's work on each line (`frontNl`: the date found and cut out, the
 * prefregex searched), while this thread does the rest on the lines already read
 * (`processLineNlFront`: failregexes, ignoreregexes, multi-line sessions, counts). The date
 * detector keeps state from line to line (the template that hit last is tried first, templates
 * that hit move up), so all dates are found by one detector in log order, as in one thread: the
 * verdicts are the same.
 *
 * The worker posts the text it read with what it found per line, and waits on a shared counter
 * of the pieces taken here, so that it stays at most a few pieces ahead.
 */

import type { Worker } from 'node:worker_threads';
import type { FilterSpec, LineFront, MissTable } from '@fleetban/agent';
import { FleetbanError } from '@fleetban/shared';
import { CHUNK, forEachLineIn, type PieceEncoding, textOf } from '../log-lines.js';
import { earlyReader, READ, type StartedReader, startReader } from './reader-start.js';

/**
 * A piece of the log: whole lines (in slot `slot` of the ring, `length` bytes, decoded with
 * `encoding`; or `text` when it did not fit), and per tested line `stride` numbers in `ints` (a
 * LineFront's preEnd, postStart, timeKind, pref, then its spans when pref is 2 or 3) and its date in
 * `dates` (NaN: none).
 */
export interface FrontText {
  readonly slot: number;
  readonly length: number;
  readonly encoding: PieceEncoding;
  readonly text: string | undefined;
  readonly stride: number;
  readonly ints: Int32Array;
  readonly dates: Float64Array;
}

/** The worker's messages: first the spec it read (JSON), then pieces, then done (or an error). */
export type ReaderMessage =
  | { readonly spec: string }
  | FrontText
  | { readonly error: string }
  | { readonly done: true; readonly hits: Array<{ name: string; hits: number }> };

/** A running reader thread over one log file. */
export class ReaderThread {
  /** Hits per date template, in the detector's final order (after {@link forEachLine}). */
  templateHits: Array<{ readonly name: string; readonly hits: number }> = [];
  private readonly count: Int32Array;
  private readonly queue: ReaderMessage[] = [];
  private waiting: ((m: ReaderMessage) => void) | undefined;
  private ended: FleetbanError | undefined;

  private readonly worker: Worker;
  private readonly bytes: SharedArrayBuffer;

  private constructor(started: StartedReader) {
    const { worker, counters, bytes } = started;
    this.worker = worker;
    this.bytes = bytes;
    this.count = new Int32Array(counters);
    // (every message the worker posts comes before its 'exit')
    worker.on('message', (m: ReaderMessage) => this.take(m));
    worker.on('error', (err) => this.end(`the reader thread of fleetban regex failed: ${err.message}`));
    worker.on('exit', (code) => this.end(`the reader thread of fleetban regex stopped (exit code ${code})`));
  }

  /** The reader for the regex command's arguments `argv`: the one started as the process started, or a new one. */
  static start(argv: readonly string[]): ReaderThread {
    const started = ReaderThread.takeEarly() ?? startReader(argv);
    return new ReaderThread(started);
  }

  /** No reader: the one started as the process started, if any, is stopped. */
  static none(): undefined {
    void ReaderThread.takeEarly()?.worker.terminate();
    return undefined;
  }

  private static early: StartedReader | undefined = earlyReader;

  private static takeEarly(): StartedReader | undefined {
    const early = ReaderThread.early;
    ReaderThread.early = undefined;
    return early;
  }

  /**
   * Calls `each` with every line of the log, in order, and (tested lines only, see isTestedLine)
   * the first half of the engine's work on it: pass it to `processLineNlFront` of an engine built
   * from `spec`, the spec this thread read too (else this throws). `front` must come from that
   * engine's `newFront`.
   */
  async forEachLine(front: LineFront, spec: FilterSpec, each: (lineNl: string, front: LineFront) => void): Promise<void> {
    const spans = front.spans;
    for (;;) {
      const m = this.queue.shift() ?? (await this.next());
      if ('error' in m) throw new FleetbanError('LOG_UNREADABLE', m.error);
      if ('spec' in m) {
        if (m.spec !== JSON.stringify(spec)) throw new FleetbanError('REGEX_THREAD', 'the filter changed while fleetban regex read it: run it again');
        continue;
      }
      if ('done' in m) {
        this.templateHits = m.hits;
        return;
      }
      const { ints, dates, stride } = m;
      const text = m.text ?? textOf(new Uint8Array(this.bytes, m.slot * CHUNK, m.length), m.encoding);
      let at = 0;
      let k = 0;
      forEachLineIn(text, (lineNl) => {
        front.preEnd = ints[at] as number;
        front.postStart = ints[at + 1] as number;
        front.timeKind = ints[at + 2] as number;
        const pref = ints[at + 3] as number;
        front.pref = pref;
        if (pref >= 2) for (let i = 0; i < spans.length; i++) spans[i] = ints[at + 4 + i] as number;
        const date = dates[k] as number;
        front.date = Number.isNaN(date) ? null : date;
        at += stride;
        k++;
        each(lineNl, front);
      });
      Atomics.add(this.count, READ, 1);
      Atomics.notify(this.count, READ);
    }
  }

  /**
   * Lets the worker tell lines no failregex can match (see FilterEngine.missTable), which this
   * thread then only counts.
   */
  useMisses(table: MissTable | undefined): void {
    if (table !== undefined) this.worker.postMessage(table);
  }

  /** Stops the worker (when the lines were not all taken). */
  stop(): void {
    void this.worker.terminate();
  }

  private take(m: ReaderMessage): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (waiting) waiting(m);
    else this.queue.push(m);
  }

  /** The worker ended (or failed) before its last message: what waits for one gets an error. */
  private end(why: string): void {
    this.ended ??= new FleetbanError('REGEX_THREAD', why);
    this.take({ error: this.ended.message });
  }

  private next(): Promise<ReaderMessage> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }
}
