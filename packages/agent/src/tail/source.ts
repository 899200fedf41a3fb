import type { Clock, JailConfig, Logger } from '@fleetban/shared';
import { FileTail, type LogLine } from './file-tail.js';

export type { LogLine } from './file-tail.js';

/** Counters every log source keeps. */
export interface SourceCounters {
  files: number;
  lines: number;
  skipped: number;
  bytesBehind: number;
}

/** Where a jail's lines come from: files today (journald and Docker are the tail stage's next step). */
export interface LogSource {
  /** Starts delivering lines; resolves once the source is positioned. */
  start(onLine: (line: LogLine) => void): Promise<void>;
  stop(): Promise<void>;
  counters(): SourceCounters;
}

/** What a source is built with. */
export interface SourceDeps {
  /** The agent's state directory (positions, cursors). */
  readonly stateDir: string;
  readonly pollMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** The log source of one jail, chosen from its options (today: its logpath files). */
export function createSource(jail: JailConfig, deps: SourceDeps): LogSource {
  return new FileTail({ globs: [...jail.logpath], pollMs: deps.pollMs, logger: deps.logger, clock: deps.clock });
}
