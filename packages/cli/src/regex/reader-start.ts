/**
 * Starting the reader thread of `fleetban regex` (reader-thread.ts): the shared memory, the
 * worker, the numbers both threads agree on. Only node's own modules are imported here, so that
 * ../main.ts can import this module before any other: for a command line that looks like a regex run
 * on a big log, the thread is started then ({@link earlyReader}), and its own start-up overlaps
 * with the loading of the command's modules. The worker reads the same command line with the
 * command's own code (request.ts); the command adopts it, or stops it when it wants none.
 */

import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isMainThread, Worker } from 'node:worker_threads';
import { CHUNK } from '../log-lines.js';

/** Logs smaller than this are read in one thread (starting the worker, about 0.15 s, costs more than it saves). */
export const MIN_BYTES = 32 << 20;
/** The shared counter: pieces taken by the command's thread. */
export const READ = 0;
/** Pieces (about 1 MB of text each) the worker may be ahead. */
export const AHEAD = 8;
/**
 * The pieces' bytes go through a shared ring of this many slots of CHUNK bytes (copying a
 * megabyte there costs far less than sending its text in a message); a piece that does not fit
 * (a line over CHUNK) is sent as text.
 */
export const SLOTS = AHEAD + 1;

/** What the worker is started with: the regex command's arguments (it reads the filter and the log they name itself). */
export interface ReaderInput {
  readonly argv: readonly string[];
  readonly counters: SharedArrayBuffer;
  /** SLOTS × CHUNK bytes. */
  readonly bytes: SharedArrayBuffer;
}

/** A started worker and its shared memory. */
export interface StartedReader {
  readonly worker: Worker;
  readonly counters: SharedArrayBuffer;
  readonly bytes: SharedArrayBuffer;
}

/** True when the log a run reads is big enough for a reader thread (and there is a CPU for it). */
export function worthAReader(log: string, threads: string | undefined): boolean {
  if (threads === '2') return true;
  if (threads === '1' || availableParallelism() < 2) return false;
  try {
    const st = statSync(log);
    return st.isFile() && st.size >= MIN_BYTES;
  } catch {
    return false;
  }
}

/** Starts a worker for the regex command's arguments `argv`. */
export function startReader(argv: readonly string[]): StartedReader {
  const counters = new SharedArrayBuffer(4);
  const bytes = new SharedArrayBuffer(SLOTS * CHUNK);
  const input: ReaderInput = { argv, counters, bytes };
  const worker = new Worker(new URL('./reader-worker.js', import.meta.url), { workerData: input });
  return { worker, counters, bytes };
}

/** A guess from the raw command line, before anything is parsed: some argument is a big file. */
function looksBig(argv: readonly string[]): boolean {
  if (argv.includes('--help') || argv.includes('-h')) return false;
  const at = argv.indexOf('--threads');
  const threads = at >= 0 ? argv[at + 1] : undefined;
  return argv.some((a) => !a.startsWith('-') && worthAReader(a, threads));
}

const [command, ...rest] = process.argv.slice(2);
/** The reader thread started as this process started (`fleetban regex` on what looks like a big log), to adopt. */
export const earlyReader: StartedReader | undefined = isMainThread && command === 'regex' && looksBig(rest) ? startReader(rest) : undefined;
