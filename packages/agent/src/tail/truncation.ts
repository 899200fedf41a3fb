import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Clock, Logger } from '@fleetban/shared';
import { findCopy, HEAD_BYTES, rotatedName, sameHead } from './file-state.js';
import type { LogLine } from './log-source.js';
import type { OpenFile } from './open-file.js';

/**
 * Truncations of followed files (copytruncate): detected by their first bytes changing, read
 * through from the copy before the file is read again from 0, and remembered so the copy is not
 * read a second time when a glob finds it.
 */
export class Truncations {
  readonly #log: Logger;
  readonly #clock: Clock;
  /** The tail's reused line: its `readMs` is set as the copy is read. */
  readonly #line: LogLine;
  readonly #headBuf = Buffer.allocUnsafe(HEAD_BYTES);
  /** First bytes of files lately truncated by copytruncate: a new file starting so is their copy. */
  readonly #copiedHeads: Buffer[] = [];

  constructor(log: Logger, clock: Clock, line: LogLine) {
    this.#log = log;
    this.#clock = clock;
    this.#line = line;
  }

  /**
   * copytruncate: the file was copied, then truncated. What was not read yet is in the copy
   * (`app.log.1`, found by name and first bytes): read it from there (into `buf`), then the file from 0.
   */
  async readThrough(f: OpenFile, size: number, buf: Buffer): Promise<void> {
    const copy = await findCopy(f.path, f.head, f.pos);
    let fromCopy = 0;
    if (copy) {
      const fh = await open(copy, 'r').catch(() => null);
      for (let n = 1; fh && n > 0; ) {
        const at = f.pos + fromCopy; // the copy's offsets are the file's: its lines keep their ids
        ({ bytesRead: n } = await fh.read(buf, 0, buf.length, at));
        fromCopy += n;
        this.#line.readMs = this.#clock();
        if (n > 0) f.splitter.push(buf, n, at);
      }
      await fh?.close();
    }
    f.splitter.reset();
    this.#log.info({ path: f.path, size, pos: f.pos, copy, fromCopy }, 'file truncated; reading from its start');
    this.#copiedHeads.push(f.head);
    if (this.#copiedHeads.length > 16) this.#copiedHeads.shift();
    f.pos = 0;
    f.head = Buffer.alloc(0);
    f.gen++;
    f.tag = null;
  }

  /** A file new to the tail that is the rotated copy of a followed file (one of `files`): its lines are read (or being read) there. */
  isCopy(path: string, head: Buffer, files: Iterable<OpenFile>): boolean {
    if (head.length === 0) return false;
    const name = basename(path);
    for (const g of files) {
      if (rotatedName(basename(g.path), name) && g.head.length > 0 && sameHead(g.head, head)) return true;
    }
    return this.#copiedHeads.some((h) => h.length <= head.length && sameHead(h, head));
  }

  /** Reads the file's first bytes again: false when they differ from those seen (truncated, maybe rewritten). */
  async sameHead(f: OpenFile): Promise<boolean> {
    const { bytesRead } = await f.fh.read(this.#headBuf, 0, HEAD_BYTES, 0);
    if (bytesRead < f.head.length) return false;
    const head = this.#headBuf.subarray(0, bytesRead);
    if (!sameHead(f.head, head)) return false;
    if (bytesRead > f.head.length) f.head = Buffer.from(head);
    return true;
  }
}
