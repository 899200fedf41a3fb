import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { sameHead, type SavedFile, type SavedFiles } from './file-state.js';
import type { LineSplitter } from './line-splitter.js';
import type { StartAt } from './source-spec.js';

/** One open file (an inode), whatever names it. */
export interface OpenFile {
  readonly key: string;
  readonly path: string;
  readonly fh: FileHandle;
  readonly dev: number;
  readonly ino: number;
  readonly birthMs: number;
  /** Truncations seen (copytruncate): a new generation of offsets. */
  gen: number;
  /** This generation's `fileTag` (file-state.ts), once its first line is delivered. */
  tag: string | null;
  pos: number;
  size: number;
  head: Buffer;
  readonly splitter: LineSplitter;
  named: boolean;
  lastActiveMs: number;
  failing: boolean;
}

/**
 * Why a file is opened: found by the first scan (read per its {@link StartAt}), `new` (named by a
 * followed path after the start: read from its start), or `restore-only` (a saved file found
 * under another name at start: opened only if its saved position still applies).
 */
export type OpenReason = StartAt | 'new' | 'restore-only';

/** What decides where a file just opened is read from. */
export interface StartFacts {
  /** The name it is followed under. */
  readonly path: string;
  /** Its stat, from the open handle (the inode actually opened). */
  readonly st: Stats;
  /** Its first bytes now. */
  readonly head: Buffer;
  readonly how: OpenReason;
  /** Its entry in the last save (same `dev:ino`), if any. */
  readonly saved: SavedFile | undefined;
  /** The last save, if any. */
  readonly lastSave: SavedFiles | null;
  /** Whether it is the rotated copy of a followed file (asked only of a new file). */
  readonly isCopy: () => boolean;
}

/** Where a file just opened is read from: its offset, the generation of its offsets, and why. */
export interface StartPosition {
  readonly pos: number;
  readonly gen: number;
  /** For the log. */
  readonly why: string;
}

/**
 * The position a file just opened is read from, as its history says: its saved position when the
 * save is of this file (same first bytes, not past its end); for a copy of a followed file
 * (copytruncate) its end; for a file created after the start or while the agent was down its
 * start; else its {@link StartAt} (first start). Null for `restore-only` without a saved position.
 */
export function startPosition(s: StartFacts): StartPosition | null {
  const { saved, lastSave, st, how, path } = s;
  // the same inode truncated or replaced since the save starts a new generation of offsets
  const gen = saved ? (saved.gen ?? 0) + 1 : 0;
  if (saved && saved.pos <= st.size && sameHead(Buffer.from(saved.head, 'hex'), s.head)) {
    return { pos: saved.pos, gen: saved.gen ?? 0, why: 'saved position' };
  }
  if (how === 'restore-only') return null;
  if (how === 'new' && s.isCopy()) return { pos: st.size, gen, why: 'copy of a followed file (copytruncate)' };
  if (how === 'new' || (lastSave && lastSave.paths.includes(path)) || (lastSave && bornAfter(st, lastSave.savedMs))) {
    return { pos: 0, gen, why: 'new file' }; // created after start, or while the agent was down
  }
  return { pos: how === 'end' ? st.size : 0, gen, why: `first start: ${how}` };
}

/** Whether the file was created after `ms` (birth time where the filesystem keeps it, else change time). */
function bornAfter(st: Stats, ms: number): boolean {
  return (st.birthtimeMs > 0 ? st.birthtimeMs : st.ctimeMs) > ms;
}
