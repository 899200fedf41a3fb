import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { FleetbanError, type Clock, type Logger } from '@fleetban/shared';
import { expandGlob, hasWildcard } from './glob.js';

/** One complete line read from a followed file. */
export interface LogLine {
  /** The path the line was read from (the name matched by the glob). */
  path: string;
  /** The line without its `\n` / `\r\n`, decoded as UTF-8 (invalid bytes become U+FFFD). */
  text: string;
  /** Clock time when the bytes were read (ms since the epoch). */
  readMs: number;
  /** When the source says the line was written (journal entry time, Docker's `time`); 0 when it does not know. */
  timeMs: number;
}

/** Options of {@link FileTail}. */
export interface FileTailOptions {
  /** Paths or globs to follow (see {@link expandGlob}). */
  globs: string[];
  /** How often each file is checked for new bytes, in ms. Default 100. */
  pollMs?: number;
  /** How often the globs are expanded again to pick up new files, in ms. Default 5000. */
  rescanMs?: number;
  /** Longest line delivered, in bytes; longer lines are skipped and counted. Default 65536. */
  maxLineBytes?: number;
  /** Where warnings and notices go. */
  logger: Logger;
  /** Time source for {@link LogLine.readMs}. */
  clock: Clock;
}

/** Snapshot of a {@link FileTail}'s progress. */
export interface FileTailCounters {
  /** Files currently open. */
  files: number;
  /** Lines delivered. */
  lines: number;
  /** Lines skipped: longer than `maxLineBytes`, or binary (containing NUL bytes). */
  skipped: number;
  /** Bytes written to the open files that are not read yet, as of the last poll. */
  bytesBehind: number;
}

const CHUNK_BYTES = 64 * 1024;
/** Chunks read from one file per poll before the others get their turn. */
const CHUNKS_PER_TURN = 16;
const NL = 0x0a;
const CR = 0x0d;

/** One followed path and the file currently open under it. */
interface Followed {
  readonly path: string;
  /** From a pattern without wildcards: followed even while it does not exist. */
  readonly literal: boolean;
  fh: FileHandle | null;
  ino: number;
  dev: number;
  pos: number;
  size: number;
  /** Where the next open starts: false only for files present when the tail starts. */
  fromStart: boolean;
  /** Bytes of an unfinished line, kept until its newline arrives. */
  pending: Buffer[];
  pendingBytes: number;
  /** Inside a line already longer than the maximum: discard until the next newline. */
  overlong: boolean;
  /** Whether "waiting for file" was logged since it was last seen. */
  noticed: boolean;
  /** Whether a read error was logged since the last good poll. */
  failing: boolean;
}

/**
 * The agent's first stage: follows the files matched by a list of globs and delivers each new
 * complete line, like fail2ban's polling backend.
 *
 * Files present at start are read from their end; files that appear later (found by a glob
 * rescan, or a literal path that is created) are read from their start. Polling (stat, then a
 * positional read of the new bytes) is the guarantee. Truncation (size below the read position)
 * restarts at 0; rename rotation (the path now names another inode) finishes the old file first,
 * then reads the new one from its start. A missing file is not an error.
 */
export class FileTail {
  private readonly globs: string[];
  private readonly pollMs: number;
  private readonly rescanMs: number;
  private readonly maxLineBytes: number;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly files = new Map<string, Followed>();
  private readonly buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private readonly quietGlobs = new Set<string>();
  private onLine: (line: LogLine) => void = () => {};
  private started = false;
  private running = false;
  private scanned = false;
  private timer: NodeJS.Timeout | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  private rescanDue = false;
  private inflight: Promise<void> = Promise.resolve();
  private lines = 0;
  private skipped = 0;

  constructor(opts: FileTailOptions) {
    this.globs = [...opts.globs];
    this.pollMs = opts.pollMs ?? 100;
    this.rescanMs = opts.rescanMs ?? 5000;
    this.maxLineBytes = opts.maxLineBytes ?? 64 * 1024;
    this.log = opts.logger.child({ stage: 'tail' });
    this.clock = opts.clock;
  }

  /**
   * Starts following. Resolves once the initial scan is done: every file present now is open at
   * its end, so any byte appended after that is delivered. `onLine` is called synchronously for
   * each line, in file order; it must not throw (a throw is logged and the line is dropped).
   * The returned promise never rejects. A tail is started once.
   */
  start(onLine: (line: LogLine) => void): Promise<void> {
    if (this.started) throw new FleetbanError('TAIL_STARTED', 'FileTail.start() called twice');
    this.started = this.running = true;
    this.onLine = onLine;
    this.rescanTimer = setInterval(() => { this.rescanDue = true; }, this.rescanMs);
    this.inflight = this.turn(true);
    return this.inflight;
  }

  /** Stops polling, waits for a read in progress, closes every file. No line is delivered after. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.timer = this.rescanTimer = null;
    await this.inflight.catch(() => {});
    for (const f of this.files.values()) await this.close(f);
  }

  /** Current counters (see {@link FileTailCounters}). */
  counters(): FileTailCounters {
    let files = 0;
    let bytesBehind = 0;
    for (const f of this.files.values()) {
      if (!f.fh) continue;
      files++;
      bytesBehind += Math.max(0, f.size - f.pos);
    }
    return { files, lines: this.lines, skipped: this.skipped, bytesBehind };
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.inflight = this.turn(false);
    }, delayMs);
  }

  /** One round: rescan when due, poll every path, schedule the next round. Never rejects. */
  private async turn(initial: boolean): Promise<void> {
    let behind = false;
    try {
      if (initial || this.rescanDue) {
        this.rescanDue = false;
        await this.rescan();
      }
      for (const f of this.files.values()) {
        if (!this.running) return;
        if (await this.pollSafely(f)) behind = true;
      }
    } catch (err) {
      this.log.error({ err }, 'tail round failed; retrying');
    }
    this.scanned = true;
    // a file with a backlog gets its next turn at once, after the others had theirs
    this.schedule(behind ? 0 : this.pollMs);
  }

  /** {@link poll}, with an I/O error logged once per episode and retried at the next poll. */
  private async pollSafely(f: Followed): Promise<boolean> {
    try {
      const behind = await this.poll(f);
      f.failing = false;
      return behind;
    } catch (err) {
      if (!f.failing) this.log.warn({ err, path: f.path }, 'cannot read log file; retrying');
      f.failing = true;
      return false;
    }
  }

  /** Expands the globs again: adds new paths, forgets glob-found paths that are gone. */
  private async rescan(): Promise<void> {
    const seen = new Set<string>();
    for (const glob of this.globs) {
      const literal = !hasWildcard(glob);
      const paths = literal ? [glob] : await expandGlob(glob);
      if (paths.length > 0) this.quietGlobs.delete(glob);
      else if (!this.quietGlobs.has(glob)) {
        this.log.info({ glob }, 'no file matches the logpath yet; still watching');
        this.quietGlobs.add(glob);
      }
      for (const path of paths) {
        seen.add(path);
        if (this.files.has(path)) continue;
        this.files.set(path, {
          path, literal, fh: null, ino: 0, dev: 0, pos: 0, size: 0,
          fromStart: this.scanned, // found after start: read from its start
          pending: [], pendingBytes: 0, overlong: false, noticed: false, failing: false,
        });
      }
    }
    for (const f of this.files.values()) {
      if (f.literal || seen.has(f.path)) continue;
      if (f.fh) await this.finish(f);
      this.files.delete(f.path);
    }
  }

  /** One poll of one path. Returns true when unread bytes remain (a backlog). */
  private async poll(f: Followed): Promise<boolean> {
    const st = await statOrNull(f.path);
    if (f.fh) {
      const cur = await f.fh.stat();
      if (cur.size < f.pos) {
        this.log.info({ path: f.path, size: cur.size, pos: f.pos }, 'file truncated; reading from its start');
        f.pos = 0;
        this.dropPartial(f);
      }
      f.size = cur.size;
      // missing: it was renamed or deleted; keep reading the old inode until a new file appears
      if (!st || (st.ino === f.ino && st.dev === f.dev)) return this.read(f, CHUNKS_PER_TURN);
      this.log.info({ path: f.path }, 'file rotated; finishing the old one, then reading the new one from its start');
      await this.finish(f);
      f.fromStart = true;
    }
    if (!st) {
      f.fromStart = true; // whatever appears under this name later is new
      if (!f.noticed) this.log.info({ path: f.path }, 'log file does not exist yet; still watching');
      f.noticed = true;
      return false;
    }
    if (!st.isFile()) {
      if (!f.noticed) this.log.warn({ path: f.path }, 'log path is not a regular file; still watching');
      f.noticed = true;
      return false;
    }
    return (await this.openFile(f)) ? this.read(f, CHUNKS_PER_TURN) : false;
  }

  private async openFile(f: Followed): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await open(f.path, 'r');
    } catch (err) {
      if (!f.noticed) this.log.warn({ path: f.path, err }, 'cannot open log file; still watching');
      f.noticed = true;
      return false;
    }
    const st = await fh.stat(); // the inode actually opened, not whatever the name points to now
    f.fh = fh;
    f.ino = st.ino;
    f.dev = st.dev;
    f.size = st.size;
    f.pos = f.fromStart ? 0 : st.size;
    f.fromStart = true; // any later reopen is a new file
    f.noticed = false;
    this.log.debug({ path: f.path, pos: f.pos }, 'following');
    return true;
  }

  /** Reads up to `chunks` chunks of new bytes. Returns true when the budget ran out first. */
  private async read(f: Followed, chunks: number): Promise<boolean> {
    const fh = f.fh;
    if (!fh) return false;
    for (let i = 0; i < chunks; i++) {
      const { bytesRead } = await fh.read(this.buf, 0, CHUNK_BYTES, f.pos);
      if (bytesRead === 0 || !this.running) return false;
      f.pos += bytesRead;
      if (f.pos > f.size) f.size = f.pos;
      this.split(f, bytesRead, this.clock());
    }
    return true;
  }

  /** Reads the open file to its end, delivers a last unterminated line, closes it. */
  private async finish(f: Followed): Promise<void> {
    while (await this.read(f, CHUNKS_PER_TURN));
    if (f.overlong) this.skip(f, 'too long');
    else if (f.pendingBytes > 0 && this.running) {
      const line = Buffer.concat(f.pending, f.pendingBytes);
      this.emit(f, line, 0, line.length, line.indexOf(0), this.clock());
    }
    this.dropPartial(f);
    await this.close(f);
  }

  /** Splits the first `n` bytes of the read buffer into lines; keeps an unfinished tail. */
  private split(f: Followed, n: number, readMs: number): void {
    const buf = this.buf;
    let start = 0;
    let nul = -2; // index of the next NUL at or after `start` within [0, n), -1 for none; -2 unknown
    while (start < n) {
      let nl = buf.indexOf(NL, start);
      if (nl >= n) nl = -1;
      if (nl < 0) {
        this.keep(f, start, n);
        return;
      }
      if (f.overlong) {
        this.skip(f, 'too long');
        f.overlong = false;
      } else if (f.pendingBytes + (nl - start) > this.maxLineBytes + 1) {
        this.dropPartial(f);
        this.skip(f, 'too long');
      } else if (f.pendingBytes > 0) {
        const line = Buffer.concat([...f.pending, buf.subarray(start, nl)]);
        this.dropPartial(f);
        this.emit(f, line, 0, line.length, line.indexOf(0), readMs);
      } else {
        if (nul === -2 || (nul >= 0 && nul < start)) {
          nul = buf.indexOf(0, start);
          if (nul >= n) nul = -1;
        }
        this.emit(f, buf, start, nl, nul, readMs);
      }
      start = nl + 1;
    }
  }

  /** Delivers bytes [s, e) of `b` as a line; `nul` is the first NUL at or after `s` (or -1). */
  private emit(f: Followed, b: Buffer, s: number, e: number, nul: number, readMs: number): void {
    if (e > s && b[e - 1] === CR) e--;
    if (e - s > this.maxLineBytes) return this.skip(f, 'too long');
    if (nul >= s && nul < e) return this.skip(f, 'binary');
    if (e === s) return; // empty lines carry nothing to match
    this.lines++;
    try {
      this.onLine({ path: f.path, text: b.toString('utf8', s, e), readMs, timeMs: 0 });
    } catch (err) {
      this.log.error({ err, path: f.path }, 'line consumer threw; line dropped');
    }
  }

  /** Keeps bytes [s, n) of the read buffer as the start of an unfinished line. */
  private keep(f: Followed, s: number, n: number): void {
    if (f.overlong) return;
    if (f.pendingBytes + (n - s) > this.maxLineBytes + 1) { // +1: room for a '\r'
      this.dropPartial(f);
      f.overlong = true;
      return;
    }
    f.pending.push(Buffer.from(this.buf.subarray(s, n))); // copy: the read buffer is reused
    f.pendingBytes += n - s;
  }

  private skip(f: Followed, why: 'too long' | 'binary'): void {
    this.skipped++;
    this.log.debug({ path: f.path, why }, 'line skipped');
  }

  private dropPartial(f: Followed): void {
    f.pending = [];
    f.pendingBytes = 0;
    f.overlong = false;
  }

  private async close(f: Followed): Promise<void> {
    const fh = f.fh;
    f.fh = null;
    if (fh) await fh.close().catch(() => {});
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}
