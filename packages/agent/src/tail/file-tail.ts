import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Stats } from 'node:fs';
import { FleetbanError, type Clock, type Logger } from '@fleetban/shared';
import { expandGlob, hasWildcard } from './glob.js';
import { type LineDecoder, utf8Decoder } from './line-decoder.js';
import type { StartAt } from './source-spec.js';
import { type LineCounters, LineSplitter } from './line-splitter.js';
import { PositionStore } from './position-store.js';
import type { LogLine, LogSource, ReadGate, SourceCounters } from './log-source.js';
import { fileKey, fileTag, findCopy, findRenamed, rotatedName, HEAD_BYTES, isSavedFiles, sameHead, type SavedFile, type SavedFiles } from './file-state.js';

/** Options of {@link FileTail}. */
export interface FileTailOptions {
  /** Paths or globs to follow (see {@link expandGlob}). */
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

/** Snapshot of a {@link FileTail}'s progress. */
export type FileTailCounters = SourceCounters;

/** Bytes read at once while every file keeps up. */
const CHUNK_BYTES = 64 * 1024;
/** Bytes read at once once a file has had a backlog: fewer reads (each a trip to libuv's thread pool). */
const BIG_CHUNK_BYTES = 1024 * 1024;
/** Bytes read from one file per turn before the others get theirs. */
const TURN_BYTES = 1024 * 1024;

/** One open file (an inode), whatever names it. */
interface OpenFile {
  readonly key: string;
  readonly path: string;
  readonly fh: FileHandle;
  readonly dev: number;
  readonly ino: number;
  readonly birthMs: number;
  /** Truncations seen (copytruncate): a new generation of offsets. */
  gen: number;
  /** This generation's {@link fileTag}, once its first line is delivered. */
  tag: string | null;
  pos: number;
  size: number;
  head: Buffer;
  readonly splitter: LineSplitter;
  named: boolean;
  lastActiveMs: number;
  failing: boolean;
}

/** One followed name and the file it named at the last look. */
interface PathWatch {
  readonly path: string;
  /** From a pattern without wildcards: followed even while it does not exist. */
  readonly literal: boolean;
  key: string | null;
  /** Found by the first scan: its first file starts per `startAt` (or the saved position). */
  initial: boolean;
  readonly startAt: StartAt;
  noticed: boolean;
}

/**
 * Follows the files matched by a list of globs and delivers each new complete line exactly once,
 * through rotation (rename and create, copytruncate, delete and recreate, symlink changes) and
 * agent restarts (positions saved with the file's identity). Polling (stat, then positional reads)
 * is the guarantee. See README.md for the rules.
 */
export class FileTail implements LogSource {
  readonly #o: Required<Omit<FileTailOptions, 'resolve' | 'stateDir' | 'stateName' | 'gate' | 'startAt'>> & Pick<FileTailOptions, 'resolve' | 'gate' | 'startAt'>;
  readonly #log: Logger;
  readonly #store: PositionStore<SavedFiles> | null;
  readonly #files = new Map<string, OpenFile>();
  readonly #watches = new Map<string, PathWatch>();
  #buf = Buffer.allocUnsafe(CHUNK_BYTES);
  readonly #headBuf = Buffer.allocUnsafe(HEAD_BYTES);
  readonly #quietGlobs = new Set<string>();
  /** First bytes of files lately truncated by copytruncate: a new file starting so is their copy. */
  readonly #copiedHeads: Buffer[] = [];
  readonly #c: LineCounters = { lines: 0, skipped: 0, undecodable: 0 };
  readonly #line: LogLine = { path: '', text: '', readMs: 0, timeMs: 0, id: '' };
  #onLine: (line: LogLine) => void = () => {};
  #restored = new Map<string, SavedFile>();
  #saved: SavedFiles | null = null;
  #started = false;
  #running = false;
  #scanned = false;
  #timer: NodeJS.Timeout | null = null;
  #nextRescanMs = 0;
  #nextCheckpointMs = 0;
  #inflight: Promise<void> = Promise.resolve();

  constructor(opts: FileTailOptions) {
    this.#o = {
      pollMs: 100, rescanMs: 5000, maxLineBytes: 64 * 1024, decoder: utf8Decoder, initial: 'end',
      checkpointMs: 1000, rotateGraceMs: 5000, ...opts, globs: [...opts.globs],
    };
    this.#log = opts.logger.child({ stage: 'tail' });
    this.#store = opts.stateDir && opts.stateName ? new PositionStore(opts.stateDir, opts.stateName, this.#log) : null;
  }

  /**
   * Starts following. Resolves once every file present now is open at its starting position, so
   * any byte appended after that is delivered. `onLine` is called synchronously for each line, in
   * file order; it must not throw (a throw is logged and the line is dropped). Never rejects.
   */
  async start(onLine: (line: LogLine) => void): Promise<void> {
    if (this.#started) throw new FleetbanError('TAIL_STARTED', 'FileTail.start() called twice');
    this.#started = this.#running = true;
    this.#onLine = onLine;
    this.#saved = (await this.#store?.load(isSavedFiles)) ?? null;
    for (const f of this.#saved?.files ?? []) this.#restored.set(fileKey(f.dev, f.ino), f);
    this.#inflight = this.#turn(true);
    return this.#inflight;
  }

  /** Stops reading, saves positions, closes every file. No line is delivered after it resolves. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#inflight.catch(() => {});
    await this.#checkpoint();
    for (const f of this.#files.values()) await f.fh.close().catch(() => {});
    this.#files.clear();
  }

  /** Current counters (see {@link FileTailCounters}). */
  counters(): FileTailCounters {
    let bytesBehind = 0;
    for (const f of this.#files.values()) bytesBehind += Math.max(0, f.size - f.pos);
    return { files: this.#files.size, ...this.#c, bytesBehind };
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => { this.#inflight = this.#turn(false); }, delayMs);
  }

  /** One round: rescan when due, look at every path, read every file, close idle ones, save. */
  async #turn(initial: boolean): Promise<void> {
    let behind = false;
    try {
      const now = this.#o.clock();
      if (this.#o.gate?.blocked) {
        await this.#refreshSizes();
      } else {
        if (initial || now >= this.#nextRescanMs) {
          this.#nextRescanMs = now + this.#o.rescanMs;
          await this.#rescan();
        }
        if (initial) await this.#reopenRenamed();
        for (const w of this.#watches.values()) if (this.#running) await this.#look(w);
        this.#scanned = true;
        this.#markNamed(now);
        for (const f of this.#files.values()) {
          if (!this.#running || this.#o.gate?.blocked) break;
          if (await this.#readSafely(f, TURN_BYTES)) behind = true;
        }
        await this.#closeIdle(now);
      }
      if (this.#store && now >= this.#nextCheckpointMs && this.#running) {
        this.#nextCheckpointMs = now + this.#o.checkpointMs;
        await this.#checkpoint();
      }
    } catch (err) {
      this.#log.error({ err }, 'tail round failed; retrying');
    }
    this.#schedule(behind ? 0 : this.#o.pollMs);
  }

  /** Expands the globs (or asks the resolver): adds new paths, forgets paths no longer matched. */
  async #rescan(): Promise<void> {
    const seen = new Set<string>();
    const add = (path: string, literal: boolean, startAt: StartAt) => {
      seen.add(path);
      if (!this.#watches.has(path)) this.#watches.set(path, { path, literal, key: null, initial: !this.#scanned, startAt, noticed: false });
    };
    if (this.#o.resolve) for (const p of await this.#o.resolve()) add(p, false, this.#o.initial);
    for (const glob of this.#o.globs) {
      const literal = !hasWildcard(glob);
      const paths = literal ? [glob] : await expandGlob(glob);
      if (paths.length > 0) this.#quietGlobs.delete(glob);
      else if (!this.#quietGlobs.has(glob)) {
        this.#log.info({ glob }, 'no file matches the logpath yet; still watching');
        this.#quietGlobs.add(glob);
      }
      for (const p of paths) add(p, literal, this.#o.startAt?.get(glob) ?? this.#o.initial);
    }
    for (const w of this.#watches.values()) if (!w.literal && !seen.has(w.path)) this.#watches.delete(w.path);
  }

  /**
   * At start: saved files whose path now names another file were rotated while the agent was
   * down. Found next to their old name (`auth.log.1`), they are opened first, at their saved
   * position, so their last lines come before their successor's.
   */
  async #reopenRenamed(): Promise<void> {
    for (const s of this.#restored.values()) {
      const st = await statOrNull(s.path);
      if (st && st.dev === s.dev && st.ino === s.ino) continue; // still under its name: opened by #look
      const found = await findRenamed(s.path, s.dev, s.ino);
      if (!found) {
        this.#log.warn({ path: s.path }, 'a file being read when the agent stopped is gone; lines written to it since are lost');
        continue;
      }
      const fst = await statOrNull(found);
      if (fst) await this.#open(s.path, found, fst, 'restore-only');
    }
  }

  /** Looks at what `w` names now; opens a new file under it after finishing the previous one. */
  async #look(w: PathWatch): Promise<void> {
    const initial = w.initial;
    w.initial = false;
    const st = await statOrNull(w.path);
    if (!st || !st.isFile()) {
      w.key = null;
      if (!w.noticed) this.#log.info({ path: w.path }, st ? 'log path is not a regular file; still watching' : 'log file does not exist yet; still watching');
      w.noticed = true;
      return;
    }
    w.noticed = false;
    const key = fileKey(st.dev, st.ino);
    if (w.key === key) return;
    const prev = w.key === null ? undefined : this.#files.get(w.key);
    if (prev) {
      this.#log.info({ path: w.path }, 'file rotated; finishing the old one, then reading the new one from its start');
      while (await this.#readSafely(prev, TURN_BYTES)) if (this.#o.gate?.blocked || !this.#running) return; // next turn
    }
    if (this.#files.has(key)) w.key = key; // a file already followed (a symlink pointed back, a glob matching a rotated name)
    else w.key = await this.#open(w.path, w.path, st, initial ? w.startAt : 'new');
  }

  /** Opens `openPath` (followed as `path`) at the position its history says. Returns its key, or null. */
  async #open(path: string, openPath: string, st: Stats, how: StartAt | 'new' | 'restore-only'): Promise<string | null> {
    let fh: FileHandle;
    try {
      fh = await open(openPath, 'r');
    } catch (err) {
      this.#log.warn({ path: openPath, err }, 'cannot open log file; still watching');
      return null;
    }
    const real = await fh.stat(); // the inode actually opened, not whatever the name points to now
    const key = fileKey(real.dev, real.ino);
    const { bytesRead } = await fh.read(this.#headBuf, 0, Math.min(HEAD_BYTES, real.size), 0);
    const head = Buffer.from(this.#headBuf.subarray(0, bytesRead));
    const saved = this.#restored.get(key);
    this.#restored.delete(key);
    let pos: number;
    let why: string;
    // the same inode truncated or replaced since the save starts a new generation of offsets
    let gen = saved ? (saved.gen ?? 0) + 1 : 0;
    if (saved && saved.pos <= real.size && sameHead(Buffer.from(saved.head, 'hex'), head)) {
      pos = saved.pos;
      gen = saved.gen ?? 0;
      why = 'saved position';
    } else if (how === 'restore-only') {
      await fh.close();
      return null;
    } else if (how === 'new' && this.#isCopy(path, head)) {
      pos = real.size;
      why = 'copy of a followed file (copytruncate)';
    } else if (how === 'new' || (this.#saved && this.#saved.paths.includes(path)) || (this.#saved && bornAfter(real, this.#saved.savedMs))) {
      pos = 0; // created after start, or while the agent was down
      why = 'new file';
    } else {
      pos = how === 'end' ? real.size : 0;
      why = `first start: ${how}`;
    }
    const f: OpenFile = {
      key, path, fh, dev: real.dev, ino: real.ino, birthMs: real.birthtimeMs, gen, tag: null, pos, size: real.size, head, named: true,
      lastActiveMs: this.#o.clock(), failing: false,
      splitter: new LineSplitter({
        maxLineBytes: this.#o.maxLineBytes, decoder: this.#o.decoder, counters: this.#c,
        onLine: (text, end) => this.#deliver(f, text, end),
        onSkip: (reason) => this.#log.debug({ path, why: reason }, 'line skipped'),
      }),
    };
    this.#files.set(key, f);
    this.#log.debug({ path, file: openPath, pos, why }, 'following');
    return key;
  }

  /** Hands one line to the consumer; `end` is the offset just after it in its file. */
  #deliver(f: OpenFile, text: string, end: number): void {
    const l = this.#line;
    l.path = f.path;
    l.text = text;
    l.id = `${(f.tag ??= fileTag(f.dev, f.ino, f.birthMs, f.gen, f.head))}:${end}`;
    try {
      this.#onLine(l);
    } catch (err) {
      this.#log.error({ err, path: f.path }, 'line consumer threw; line dropped');
    }
  }

  #markNamed(now: number): void {
    for (const f of this.#files.values()) f.named = false;
    for (const w of this.#watches.values()) {
      const f = w.key === null ? undefined : this.#files.get(w.key);
      if (f) {
        f.named = true;
        f.lastActiveMs = now;
      }
    }
  }

  /** {@link read}, with an I/O error logged once per episode and retried next turn. */
  async #readSafely(f: OpenFile, budget: number): Promise<boolean> {
    try {
      const behind = await this.#read(f, budget);
      f.failing = false;
      return behind;
    } catch (err) {
      if (!f.failing) this.#log.warn({ err, path: f.path }, 'cannot read log file; retrying');
      f.failing = true;
      return false;
    }
  }

  /**
   * Checks for truncation, then reads up to `budget` bytes. Returns true when bytes remain.
   * After every chunk the file's first bytes are checked again: a copytruncate while reading
   * (truncated and rewritten past the position) throws the chunk away and goes to the copy.
   */
  async #read(f: OpenFile, budget: number): Promise<boolean> {
    const st = await f.fh.stat();
    if (st.size < f.pos || (st.size !== f.size && f.pos > 0 && !(await this.#sameHead(f)))) await this.#truncated(f, st.size);
    f.size = st.size;
    if (f.size - f.pos > CHUNK_BYTES && this.#buf.length < BIG_CHUNK_BYTES) this.#buf = Buffer.allocUnsafe(BIG_CHUNK_BYTES);
    for (let done = 0; done < budget; ) {
      if (this.#o.gate?.blocked) return true;
      const buf = this.#buf;
      const { bytesRead } = await f.fh.read(buf, 0, buf.length, f.pos);
      if (bytesRead === 0 || !this.#running) return false;
      done += bytesRead;
      if (f.pos === 0) f.head = Buffer.from(buf.subarray(0, Math.min(HEAD_BYTES, bytesRead)));
      else if (!(await this.#sameHead(f))) {
        await this.#truncated(f, f.size);
        continue;
      }
      const at = f.pos;
      f.pos += bytesRead;
      if (f.pos > f.size) f.size = f.pos;
      f.lastActiveMs = this.#line.readMs = this.#o.clock();
      f.splitter.push(buf, bytesRead, at);
      if (bytesRead < buf.length && f.pos >= f.size) return false; // at the end as of the last stat
    }
    return true;
  }

  /**
   * copytruncate: the file was copied, then truncated. What was not read yet is in the copy
   * (`app.log.1`, found by name and first bytes): read it from there, then the file from 0.
   */
  async #truncated(f: OpenFile, size: number): Promise<void> {
    const copy = await findCopy(f.path, f.head, f.pos);
    let fromCopy = 0;
    if (copy) {
      const fh = await open(copy, 'r').catch(() => null);
      for (let n = 1; fh && n > 0; ) {
        const at = f.pos + fromCopy; // the copy's offsets are the file's: its lines keep their ids
        ({ bytesRead: n } = await fh.read(this.#buf, 0, this.#buf.length, at));
        fromCopy += n;
        this.#line.readMs = this.#o.clock();
        if (n > 0) f.splitter.push(this.#buf, n, at);
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

  /** A file new to the tail that is the rotated copy of a followed file: its lines are read (or being read) there. */
  #isCopy(path: string, head: Buffer): boolean {
    if (head.length === 0) return false;
    const name = basename(path);
    for (const g of this.#files.values()) {
      if (rotatedName(basename(g.path), name) && g.head.length > 0 && sameHead(g.head, head)) return true;
    }
    return this.#copiedHeads.some((h) => h.length <= head.length && sameHead(h, head));
  }

  /** Reads the file's first bytes again: false when they differ from those seen (truncated, maybe rewritten). */
  async #sameHead(f: OpenFile): Promise<boolean> {
    const { bytesRead } = await f.fh.read(this.#headBuf, 0, HEAD_BYTES, 0);
    if (bytesRead < f.head.length) return false;
    const head = this.#headBuf.subarray(0, bytesRead);
    if (!sameHead(f.head, head)) return false;
    if (bytesRead > f.head.length) f.head = Buffer.from(head);
    return true;
  }

  /** Closes files no path names any more, once read to their end and quiet for the grace period. */
  async #closeIdle(now: number): Promise<void> {
    for (const f of this.#files.values()) {
      if (f.named || f.pos < f.size || now - f.lastActiveMs < this.#o.rotateGraceMs) continue;
      if (await this.#readSafely(f, TURN_BYTES)) continue;
      f.splitter.flush(); // the writer is gone: an unterminated last line is complete
      this.#files.delete(f.key);
      await f.fh.close().catch(() => {});
      this.#log.debug({ path: f.path }, 'finished a rotated file');
    }
  }

  async #refreshSizes(): Promise<void> {
    for (const f of this.#files.values()) {
      try {
        f.size = (await f.fh.stat()).size;
      } catch {
        // reported by the next read
      }
    }
  }

  async #checkpoint(): Promise<void> {
    if (!this.#store) return;
    const paths: string[] = [];
    for (const w of this.#watches.values()) if (w.key !== null) paths.push(w.path);
    const files: SavedFile[] = [];
    for (const f of this.#files.values()) {
      files.push({ path: f.path, dev: f.dev, ino: f.ino, pos: f.pos - f.splitter.partialBytes, head: f.head.toString('hex'), gen: f.gen });
    }
    await this.#store.save({ v: 1, savedMs: this.#o.clock(), paths, files });
  }
}

/** Whether the file was created after `ms` (birth time where the filesystem keeps it, else change time). */
function bornAfter(st: Stats, ms: number): boolean {
  return (st.birthtimeMs > 0 ? st.birthtimeMs : st.ctimeMs) > ms;
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}
