import type { Stats } from 'node:fs';
import type { Clock, Logger } from '@fleetban/shared';
import { fileKey, findRenamed, isSavedFiles, statOrNull, type SavedFile, type SavedFiles } from './file-state.js';
import type { OpenFile } from './open-file.js';
import type { PathWatch } from './path-watch.js';
import type { PositionStore } from './position-store.js';

/** A saved file found under another name at start (see {@link SavedPositions.renamed}). */
export interface RenamedFile {
  /** The name it was followed under. */
  readonly path: string;
  /** The name it has now. */
  readonly found: string;
  readonly st: Stats;
}

/** How long unchanged positions go without being written again, in ms. */
const REFRESH_MS = 60_000;

/**
 * A file tail's saved positions (`<stateDir>/tail/<stateName>.json`): loaded at start, each one
 * taken once, when its file is opened again, and written at a checkpoint when they changed (or
 * a minute went by), and at the stop.
 */
export class SavedPositions {
  readonly #store: PositionStore<SavedFiles> | null;
  readonly #log: Logger;
  readonly #clock: Clock;
  /** Saved files not opened again yet, by `dev:ino`. */
  readonly #restored = new Map<string, SavedFile>();
  #saved: SavedFiles | null = null;
  /** What the last write held (paths and files), and when it was made. */
  #lastBody = '';
  #lastSavedMs = 0;

  /** `store`: null when positions are not saved. */
  constructor(store: PositionStore<SavedFiles> | null, log: Logger, clock: Clock) {
    this.#store = store;
    this.#log = log;
    this.#clock = clock;
  }

  /** Whether positions are saved at all (a state directory was given). */
  get enabled(): boolean {
    return this.#store !== null;
  }

  /** The save loaded at start, or null. */
  get lastSave(): SavedFiles | null {
    return this.#saved;
  }

  /** Loads the last save, if any. */
  async load(): Promise<void> {
    this.#saved = (await this.#store?.load(isSavedFiles)) ?? null;
    for (const f of this.#saved?.files ?? []) this.#restored.set(fileKey(f.dev, f.ino), f);
  }

  /** The saved entry of the file `key` (`dev:ino`), once: a later call gets undefined. */
  take(key: string): SavedFile | undefined {
    const saved = this.#restored.get(key);
    this.#restored.delete(key);
    return saved;
  }

  /**
   * At start: saved files whose path now names another file were rotated while the agent was
   * down. Yields those found next to their old name (`auth.log.1`), one at a time: the caller opens
   * each first, at its saved position (before the next is looked for), so its last lines come
   * before its successor's.
   */
  async *renamed(): AsyncGenerator<RenamedFile> {
    for (const s of this.#restored.values()) {
      const st = await statOrNull(s.path);
      if (st && st.dev === s.dev && st.ino === s.ino) continue; // still under its name: opened by the tail's look
      const found = await findRenamed(s.path, s.dev, s.ino);
      if (!found) {
        this.#log.warn({ path: s.path }, 'a file being read when the agent stopped is gone; lines written to it since are lost');
        continue;
      }
      const fst = await statOrNull(found);
      if (fst) yield { path: s.path, found, st: fst };
    }
  }

  /**
   * Saves the position of every open file (the start of its first undelivered line) and the names
   * that name one; not when they are as last written less than {@link REFRESH_MS} ago, unless `final`.
   */
  async save(watches: Iterable<PathWatch>, files: Iterable<OpenFile>, final = false): Promise<void> {
    if (!this.#store) return;
    const paths: string[] = [];
    for (const w of watches) if (w.key !== null) paths.push(w.path);
    const saved: SavedFile[] = [];
    for (const f of files) {
      saved.push({ path: f.path, dev: f.dev, ino: f.ino, pos: f.pos - f.splitter.partialBytes, head: f.head.toString('hex'), gen: f.gen });
    }
    const body = JSON.stringify([paths, saved]);
    const now = this.#clock();
    // unchanged: written again only now and then, to move savedMs (files born after it are new at a restart)
    if (!final && body === this.#lastBody && now - this.#lastSavedMs < REFRESH_MS) return;
    await this.#store.save({ v: 1, savedMs: now, paths, files: saved });
    this.#lastBody = body;
    this.#lastSavedMs = now;
  }
}
