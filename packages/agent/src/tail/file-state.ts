import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Stats } from 'node:fs';

/** One file a tail had open, as saved: which file (identity and first bytes) and how far it was read. */
export interface SavedFile {
  /** The name it was followed under (the logpath match). */
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  /** Offset of the first byte not yet delivered (the start of an unfinished line). */
  readonly pos: number;
  /** Hex of the file's first bytes (up to {@link HEAD_BYTES}): tells a reused inode from the same file. */
  readonly head: string;
  /** Times the file was truncated while followed (copytruncate): part of its lines' ids. Absent: 0. */
  readonly gen?: number;
}

/** What a file tail saves under `<state_dir>/tail/<jail>.json`. */
export interface SavedFiles {
  readonly v: 1;
  /** When it was saved (ms since the epoch). */
  readonly savedMs: number;
  /** Paths that named an existing file when saved. */
  readonly paths: readonly string[];
  readonly files: readonly SavedFile[];
}

/** How many leading bytes identify a file's content (with its device and inode). */
export const HEAD_BYTES = 256;

/** Identity key of a file: `dev:ino`. */
export function fileKey(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}

/** Type guard for a parsed {@link SavedFiles}. */
export function isSavedFiles(v: unknown): v is SavedFiles {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<SavedFiles>;
  return s.v === 1 && typeof s.savedMs === 'number' && Array.isArray(s.paths) && Array.isArray(s.files) &&
    s.files.every((f: Partial<SavedFile>) =>
      typeof f.path === 'string' && typeof f.dev === 'number' && typeof f.ino === 'number' &&
      typeof f.pos === 'number' && f.pos >= 0 && typeof f.head === 'string' &&
      (f.gen === undefined || (Number.isInteger(f.gen) && f.gen >= 0)));
}

/**
 * The tag of one generation of a file (from its creation or its last truncation to the next), the
 * first part of its lines' ids: a hash of its device, inode, birth time, generation and first line
 * (`head` up to its first `\n`, at most {@link HEAD_BYTES}). Computed when its first line is
 * delivered, when the first line is complete, so a restarted agent computes the same tag; an
 * inode reused by another file gets another (birth time, first line).
 */
export function fileTag(dev: number, ino: number, birthMs: number, gen: number, head: Buffer): string {
  const nl = head.indexOf(0x0a);
  return createHash('sha1')
    .update(`${dev}:${ino}:${birthMs}:${gen}:`)
    .update(nl >= 0 ? head.subarray(0, nl + 1) : head)
    .digest('base64url')
    .slice(0, 12);
}

/**
 * True when `head` (the file's first bytes now) is consistent with `saved` (its first bytes when
 * saved): one is a prefix of the other. A file that was replaced or truncated and rewritten fails.
 */
export function sameHead(saved: Buffer, head: Buffer): boolean {
  const n = Math.min(saved.length, head.length);
  return saved.subarray(0, n).equals(head.subarray(0, n));
}

/**
 * Finds the file with identity `dev:ino` next to `path` (a file renamed by rotation while the agent
 * was down: `auth.log` → `auth.log.1`). Returns its current path, or null.
 */
export async function findRenamed(path: string, dev: number, ino: number): Promise<string | null> {
  const dir = dirname(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    const p = join(dir, name);
    try {
      const st = await stat(p);
      if (st.isFile() && st.dev === dev && st.ino === ino) return p;
    } catch {
      // vanished: not it
    }
  }
  return null;
}

/**
 * True when `name` looks like a rotated copy of `base` (logrotate's names: `app.log.1`,
 * `app.log-20240501`, `app.log.1.gz` is not readable text and has another head anyway).
 */
export function rotatedName(base: string, name: string): boolean {
  return name.length > base.length && name.startsWith(base) && (name[base.length] === '.' || name[base.length] === '-');
}

/**
 * Finds the copy copytruncate made of a file before truncating it: a file next to `path` with a
 * rotated name whose first bytes are `head` and which is at least `minSize` long. Returns its path.
 */
export async function findCopy(path: string, head: Buffer, minSize: number): Promise<string | null> {
  if (head.length === 0) return null;
  const dir = dirname(path);
  const base = path.slice(dir.length + 1);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  const buf = Buffer.allocUnsafe(HEAD_BYTES);
  for (const name of names) {
    if (!rotatedName(base, name)) continue;
    const p = join(dir, name);
    try {
      const st = await stat(p);
      if (!st.isFile() || st.size < minSize) continue;
      const fh = await open(p, 'r');
      try {
        const { bytesRead } = await fh.read(buf, 0, Math.min(HEAD_BYTES, st.size), 0);
        if (bytesRead >= head.length && sameHead(head, buf.subarray(0, bytesRead))) return p;
      } finally {
        await fh.close();
      }
    } catch {
      // vanished or unreadable: not it
    }
  }
  return null;
}

/** The stat of `path`, or null when there is none to be had (missing, unreadable). */
export async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}
