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
}

/** The process logger: pino JSON lines, one child per component. */
export function createLogger(opts: LoggerOptions): Logger {
  const { pino } = loadPino();
  const level = opts.level ?? process.env.FLEETBAN_LOG_LEVEL ?? 'info';
  const dest = pino.destination({ dest: opts.destination ?? 1, sync: true });
  return pino({ level, base: { component: opts.component }, timestamp: pino.stdTimeFunctions.epochTime }, dest);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return loadPino().pino({ level: 'silent' });
}
