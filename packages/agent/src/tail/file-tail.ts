import { open, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { FleetbanError, type Logger } from '@fleetban/shared';
import { utf8Decoder } from './line-decoder.js';
import { type LineCounters, LineSplitter } from './line-splitter.js';
import { PositionStore } from './position-store.js';
import type { LogLine, LogSource, SourceCounters } from './log-source.js';
import { fileKey, fileTag, HEAD_BYTES, type SavedFiles, statOrNull } from './file-state.js';
import { ChangeWatch } from './change-watch.js';
import type { FileTailOptions } from './file-tail-options.js';
import { type OpenFile, type OpenReason, startPosition } from './open-file.js';
import { type PathWatch, PathWatches } from './path-watch.js';
import { SavedPositions } from './saved-positions.js';
import { Truncations } from './truncation.js';

/** Re-exported: the options are imported with the tail (see file-tail-options.ts). */
export type { FileTailOptions } from './file-tail-options.js';

/** Snapshot of a {@link FileTail}'s progress. */
export type FileTailCounters = SourceCounters;

/** Bytes read at once while every file keeps up. */
const CHUNK_BYTES = 64 * 1024;
/**
 * Bytes read at once once a file has had a backlog: fewer reads (each a trip to libuv's thread
 * pool). Every line of a chunk is delivered before the gate is looked at again, so this bounds
 * what a consumer that holds reading back receives past its limit: 256 KiB is about 2,500 sshd
 * lines (1 MiB, 10,000 of them, overran the reporter's memory buffer in one go and held the
 * strings of a whole chunk at once); at 200,000 lines/s it is still fewer than 100 reads a second.
 */
const BIG_CHUNK_BYTES = 256 * 1024;
/** Bytes read from one file per turn before the others get theirs. */
const TURN_BYTES = 1024 * 1024;

/**
 * The longest wait between two looks at files whose directories are watched (inotify reports
 * what changes; fail2ban's polling backend looks once a second too).
 */
const WATCHED_POLL_MS = 1_000;

/**
 * Follows the files matched by a list of globs and delivers each new complete line exactly once,
 * through rotation (rename and create, copytruncate, delete and recreate, symlink changes) and
 * agent restarts (positions saved with the file's identity). Polling (stat, then positional reads)
 * is the guarantee; a change reported by inotify in a followed file's directory starts a round at
 * once, so a line is read within milliseconds of being written. See README.md for the rules.
 */
export class FileTail implements LogSource {
  readonly #o: Required<Omit<FileTailOptions, 'resolve' | 'stateDir' | 'stateName' | 'gate' | 'startAt'>> & Pick<FileTailOptions, 'resolve' | 'gate' | 'startAt'>;
  readonly #log: Logger;
  readonly #positions: SavedPositions;
  readonly #files = new Map<string, OpenFile>();
  readonly #watches: PathWatches;
  #buf = Buffer.allocUnsafe(CHUNK_BYTES);
  readonly #headBuf = Buffer.allocUnsafe(HEAD_BYTES);
  readonly #c: LineCounters = { lines: 0, skipped: 0, undecodable: 0 };
  readonly #line: LogLine = { path: '', text: '', readMs: 0, timeMs: 0, id: '' };
  readonly #truncations: Truncations;
  #onLine: (line: LogLine) => void = () => {};
  #started = false;
  #running = false;
  #scanned = false;
  #timer: NodeJS.Timeout | null = null;
  #nextRescanMs = 0;
  #nextCheckpointMs = 0;
  #inflight: Promise<void> = Promise.resolve();
  /** A change was reported while a round ran: run another at once. */
  #woken = false;
  /** Given to the gate while it holds reading back: a round as soon as it opens. */
  readonly #wakeOnOpen = (): void => this.#wake();
  readonly #changes: ChangeWatch;

  constructor(opts: FileTailOptions) {
    this.#o = {
      pollMs: 100, rescanMs: 5000, maxLineBytes: 64 * 1024, decoder: utf8Decoder, initial: 'end',
      checkpointMs: 1000, rotateGraceMs: 5000, ...opts, globs: [...opts.globs],
    };
    this.#log = opts.logger.child({ stage: 'tail' });
    const store = opts.stateDir && opts.stateName ? new PositionStore<SavedFiles>(opts.stateDir, opts.stateName, this.#log) : null;
    this.#positions = new SavedPositions(store, this.#log, this.#o.clock);
    this.#watches = new PathWatches(this.#o, this.#log);
    this.#truncations = new Truncations(this.#log, this.#o.clock, this.#line);
    this.#changes = new ChangeWatch(() => this.#wake(), this.#log);
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
    await this.#positions.load();
    this.#inflight = this.#turn(true);
    return this.#inflight;
  }

  /** Stops reading, saves positions, closes every file. No line is delivered after it resolves. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#changes.stop();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#inflight.catch(() => {});
    await this.#positions.save(this.#watches.values(), this.#files.values(), true);
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
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#inflight = this.#turn(false);
    }, delayMs);
  }

  /** A change was reported: a round now, or right after the one running. */
  #wake(): void {
    if (!this.#running) return;
    if (this.#timer === null) {
      this.#woken = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#inflight = this.#turn(false);
  }

  /** One round: rescan when due, look at every path, read every file, close idle ones, save. */
  async #turn(initial: boolean): Promise<void> {
    let behind = false;
    this.#woken = false;
    try {
      const now = this.#o.clock();
      if (this.#o.gate?.blocked) {
        await this.#refreshSizes();
      } else {
        if (initial || now >= this.#nextRescanMs) {
          this.#nextRescanMs = now + this.#o.rescanMs;
          await this.#watches.rescan(this.#scanned);
          this.#changes.follow([...this.#watches.values()].map((w) => w.path));
        }
        if (initial) {
          // saved files rotated away while the agent was down: their last lines come before their successor's
          for await (const r of this.#positions.renamed()) await this.#open(r.path, r.found, r.st, 'restore-only');
        }
        for (const w of this.#watches.values()) if (this.#running) await this.#look(w);
        this.#scanned = true;
        this.#markNamed(now);
        for (const f of this.#files.values()) {
          if (!this.#running || this.#o.gate?.blocked) break;
          if (await this.#readSafely(f, TURN_BYTES)) behind = true;
        }
        await this.#closeIdle(now);
      }
      if (this.#positions.enabled && now >= this.#nextCheckpointMs && this.#running) {
        this.#nextCheckpointMs = now + this.#o.checkpointMs;
        await this.#positions.save(this.#watches.values(), this.#files.values());
      }
    } catch (err) {
      this.#log.error({ err }, 'tail round failed; retrying');
    }
    const held = this.#o.gate?.blocked === true;
    this.#schedule(!held && (behind || this.#woken) ? 0 : this.#pollDelay());
    if (held) this.#o.gate?.whenOpen?.(this.#wakeOnOpen);
  }

  /**
   * How long until the next look when nothing is pending: `pollMs` while some followed path's
   * directory is not watched; else at least {@link WATCHED_POLL_MS}, since inotify wakes the tail
   * at each change and the look is then only the safety net (an idle agent made 10 rounds of file
   * system calls a second for nothing).
   */
  #pollDelay(): number {
    for (const w of this.#watches.values()) if (!this.#changes.covers(w.path)) return this.#o.pollMs;
    return Math.max(this.#o.pollMs, WATCHED_POLL_MS);
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
  async #open(path: string, openPath: string, st: Stats, how: OpenReason): Promise<string | null> {
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
    const saved = this.#positions.take(key);
    const isCopy = () => this.#truncations.isCopy(path, head, this.#files.values());
    const start = startPosition({ path, st: real, head, how, saved, lastSave: this.#positions.lastSave, isCopy });
    if (start === null) {
      await fh.close();
      return null;
    }
    const { pos, gen, why } = start;
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
    if (st.size < f.pos || (st.size !== f.size && f.pos > 0 && !(await this.#truncations.sameHead(f)))) {
      await this.#truncations.readThrough(f, st.size, this.#buf);
    }
    f.size = st.size;
    if (f.size - f.pos > CHUNK_BYTES && this.#buf.length < BIG_CHUNK_BYTES) this.#buf = Buffer.allocUnsafe(BIG_CHUNK_BYTES);
    for (let done = 0; done < budget; ) {
      if (this.#o.gate?.blocked) return true;
      const buf = this.#buf;
      const { bytesRead } = await f.fh.read(buf, 0, buf.length, f.pos);
      if (bytesRead === 0 || !this.#running) return false;
      done += bytesRead;
      if (f.pos === 0) f.head = Buffer.from(buf.subarray(0, Math.min(HEAD_BYTES, bytesRead)));
      else if (!(await this.#truncations.sameHead(f))) {
        await this.#truncations.readThrough(f, f.size, this.#buf);
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
}
