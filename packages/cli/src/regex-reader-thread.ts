/**
 * `fleetban regex` on two cores: a worker thread (regex-reader-worker.ts) reads the log and does
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

import { availableParallelism } from 'node:os';
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { FilterSpec, LineFront, MissTable } from '@fleetban/agent';
import type { RegexRequest } from './regex-filter.js';
import { FleetbanError } from '@fleetban/shared';
import { CHUNK, forEachLineIn, type PieceEncoding, textOf } from './log-lines.js';

/** The shared counter: pieces taken here. */
export const READ = 0;
/** Pieces (about 1 MB of text each) the worker may be ahead. */
export const AHEAD = 8;
/**
 * The pieces' bytes go through a shared ring of this many slots of CHUNK bytes (copying a
 * megabyte there costs far less than sending its text in a message); a piece that does not fit
 * (a line over CHUNK) is sent as text.
 */
export const SLOTS = AHEAD + 1;
/** Logs smaller than this are read in one thread (starting the worker, about 0.15 s, costs more than it saves). */
const MIN_BYTES = 32 << 20;

/** What the worker is started with: it reads the filter the request names itself. */
export interface ReaderInput {
  readonly path: string;
  readonly request: RegexRequest;
  readonly counters: SharedArrayBuffer;
  /** SLOTS × CHUNK bytes. */
  readonly bytes: SharedArrayBuffer;
}

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

  private constructor(private readonly worker: Worker, counters: SharedArrayBuffer, private readonly bytes: SharedArrayBuffer) {
    this.count = new Int32Array(counters);
    // (every message the worker posts comes before its 'exit')
    worker.on('message', (m: ReaderMessage) => this.take(m));
    worker.on('error', (err) => this.end(`the reader thread of fleetban regex failed: ${err.message}`));
    worker.on('exit', (code) => this.end(`the reader thread of fleetban regex stopped (exit code ${code})`));
  }

  /**
   * Starts one for the log at `path` when `force`d or when it is worth it (a big file, more than
   * one CPU); else undefined.
   */
  static start(path: string, request: RegexRequest, force = false): ReaderThread | undefined {
    if (!force && (availableParallelism() < 2 || statSync(path).size < MIN_BYTES)) return undefined;
    const counters = new SharedArrayBuffer(4);
    const bytes = new SharedArrayBuffer(SLOTS * CHUNK);
    const input: ReaderInput = { path, request, counters, bytes };
    const worker = new Worker(new URL('./regex-reader-worker.js', import.meta.url), { workerData: input });
    return new ReaderThread(worker, counters, bytes);
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
