import { createRequire } from 'node:module';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * pino, required when the first logger is made rather than with this module: the shared door is
 * also imported by tools that never log (`fleetban regex`). pino is CommonJS, so a synchronous
 * require keeps {@link createLogger} synchronous.
 */
let pinoModule: typeof import('pino') | undefined;

function loadPino(): typeof import('pino') {
  return (pinoModule ??= createRequire(import.meta.url)('pino') as typeof import('pino'));
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Component name bound to every line (agent, controller, ...). */
  component: string;
  /** pino level; default `info`, or `$FLEETBAN_LOG_LEVEL`. */
  level?: string;
  /** Where lines go; default stdout (fd 1). */
  destination?: number | string;
  /**
   * Bytes of log lines waiting to be written (the reader — a pipe, journald — is slower) before
   * further lines are dropped and counted; default 16 MiB. The backlog is held in memory.
   */
  maxBacklogBytes?: number;
}

/** A pino destination (sonic-boom), as far as flushing it goes. */
interface Destination {
  flushSync(): void;
  /** sonic-boom's own state: a write under way, and bytes not written yet. */
  readonly _writing?: boolean;
  readonly _len?: number;
  readonly destroyed?: boolean;
  on(event: 'write', listener: (n: number) => void): unknown;
}

/** Bytes of log lines waiting to be written before further lines are dropped, by default. */
const MAX_LOG_BACKLOG = 16 * 1024 * 1024;

/** The destinations of the loggers made so far, for {@link flushLogs} and {@link logOutput}. */
const destinations: Destination[] = [];

/** When a write of log lines last completed (performance.now()), and who wants to hear of the next. */
let writtenAt = 0;
const onWritten = new Set<() => void>();

/**
 * How far this process's log output is behind its reader (a pipe, journald): bytes logged and not
 * yet written, over every logger made by {@link createLogger}. For a producer of log lines that
 * would rather slow down with a slow reader than have lines dropped (the agent's read gate).
 */
export interface LogOutput {
  /** Bytes logged and not yet written. */
  backlogBytes(): number;
  /** Milliseconds since a write last completed: long while lines wait means the reader is stuck. */
  msSinceWrite(): number;
  /** Calls `listener` after every completed write until the returned function is called. */
  onWrite(listener: () => void): () => void;
}

/** The process's {@link LogOutput}. */
export const logOutput: LogOutput = {
  backlogBytes: () => destinations.reduce((n, d) => n + (d.destroyed ? 0 : (d._len ?? 0)), 0),
  msSinceWrite: () => performance.now() - writtenAt,
  onWrite(listener) {
    onWritten.add(listener);
    return () => onWritten.delete(listener);
  },
};

/**
 * The process logger: pino JSON lines, one child per component. Lines are written asynchronously
 * (what piles up while one write is under way goes out in the next, so a burst of failures costs a
 * few writes, not one system call per line); {@link flushLogs} waits for them before the process
 * exits, and an exit without it still writes what is left, synchronously.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const { pino } = loadPino();
  const level = opts.level ?? process.env.FLEETBAN_LOG_LEVEL ?? 'info';
  // bounded: when the reader of the log (a pipe, journald) cannot keep up, lines beyond this backlog
  // are dropped and counted rather than held in memory without limit
  const dest = pino.destination({ dest: opts.destination ?? 1, sync: false, maxLength: opts.maxBacklogBytes ?? MAX_LOG_BACKLOG });
  if (destinations.length === 0) process.once('exit', flushLogsSync);
  destinations.push(dest as unknown as Destination);
  (dest as unknown as Destination).on('write', () => {
    writtenAt = performance.now();
    for (const l of [...onWritten]) l();
  });
  const logger = pino({ level, base: { component: opts.component }, timestamp: pino.stdTimeFunctions.epochTime }, dest);
  let dropped = 0;
  let warnedAt = 0;
  dest.on('drop', () => {
    dropped++;
    const now = Date.now();
    if (now - warnedAt < 10_000) return;
    warnedAt = now;
    setImmediate(() => logger.warn({ dropped }, 'log lines dropped: the log reader cannot keep up (the count is since start)'));
  });
  return logger;
}

/** Resolves once every line logged so far is written (waiting at most `maxMs`, then writing the rest synchronously). */
export async function flushLogs(maxMs = 2000): Promise<void> {
  const until = Date.now() + maxMs;
  const busy = (d: Destination) => !d.destroyed && (d._writing === true || (d._len ?? 0) > 0);
  while (destinations.some(busy) && Date.now() < until) await new Promise((r) => setTimeout(r, 2));
  flushLogsSync();
}

function flushLogsSync(): void {
  for (const d of destinations) {
    if (d.destroyed || d._writing === true) continue; // a write under way: writing behind it would reorder lines
    try {
      d.flushSync();
    } catch {
      // not open yet: nothing could be written
    }
  }
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return loadPino().pino({ level: 'silent' });
}
