import { type FSWatcher, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '@fleetban/shared';

/**
 * Wakes the file tail when something changes in the directories of the files it follows (inotify
 * through `fs.watch`): a line appended, a file created, renamed or removed. One watch per
 * directory. A directory that cannot be watched (no inotify, a filesystem that does not report,
 * the watch limit reached) is left to polling, which stays the guarantee; this only cuts the wait.
 */
export class ChangeWatch {
  readonly #byDir = new Map<string, FSWatcher | null>();
  #stopped = false;

  constructor(private readonly onChange: () => void, private readonly logger: Logger) {}

  /** Watches the directories of `paths` not watched yet. */
  follow(paths: Iterable<string>): void {
    if (this.#stopped) return;
    for (const p of paths) {
      const dir = dirname(p);
      if (this.#byDir.has(dir)) continue;
      let w: FSWatcher | null = null;
      try {
        w = watch(dir, { persistent: false }, () => this.onChange());
        w.on('error', (err) => {
          this.logger.debug({ err, dir }, 'directory watch ended; polling still reads it');
          w?.close();
          this.#byDir.delete(dir); // watched again at the next rescan (a directory that comes back)
        });
      } catch (err) {
        this.logger.debug({ err, dir }, 'directory cannot be watched; polling reads it');
      }
      this.#byDir.set(dir, w);
    }
  }

  /** True when a change in the directory of `path` wakes the tail (its watch is live). */
  covers(path: string): boolean {
    return (this.#byDir.get(dirname(path)) ?? null) !== null;
  }

  /** Closes every watch. */
  stop(): void {
    this.#stopped = true;
    for (const w of this.#byDir.values()) w?.close();
    this.#byDir.clear();
  }
}
