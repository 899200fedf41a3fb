import type { Clock, Logger } from '@fleetban/shared';
import type { LineDecoder } from './line-decoder.js';
import type { ReadGate } from './log-source.js';
import type { StartAt } from './source-spec.js';

/** Options of a file tail (`FileTail`, file-tail.ts). */
export interface FileTailOptions {
  /** Paths or globs to follow (see `expandGlob`, glob.ts). */
  globs: string[];
  /** Replaces glob expansion: the paths to follow now (Docker: the container's log). */
  resolve?: () => Promise<string[]>;
  /** How often each file is checked for new bytes, in ms. Default 100. */
  pollMs?: number;
  /** How often the globs are expanded again to pick up new files, in ms. Default 5000. */
  rescanMs?: number;
  /** Longest line delivered, in bytes; longer lines are skipped and counted. Default 65536. */
  maxLineBytes?: number;
  /** logencoding; default UTF-8. */
  decoder?: LineDecoder;
  /** Files present at the first start that have no saved position: read from their `end` (default) or `start`. */
  initial?: StartAt;
  /** The same, per glob (fail2ban's `logpath = GLOB head|tail`). */
  startAt?: ReadonlyMap<string, StartAt>;
  /** Saves positions under `<stateDir>/tail/<stateName>.json` and resumes from them; default: not saved. */
  stateDir?: string;
  stateName?: string;
  /** How often positions are saved while running, in ms (and always at stop). Default 1000. */
  checkpointMs?: number;
  /** How long a file no longer named by its path (rotated away, deleted) is still read for late writes, in ms. Default 5000. */
  rotateGraceMs?: number;
  /** Back-pressure from the consumer. */
  gate?: ReadGate;
  logger: Logger;
  clock: Clock;
}
