import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '@fleetban/shared';

/**
 * Wakes the file tail when one of the files it follows changes (inotify through `fs.watch` on
 * their directories): a line appended, the name created, renamed or removed. One watch per
 * directory; a change to another file there (in /var/log, every line syslog writes) does not wake
 * it. A directory that cannot be watched (no inotify, a filesystem that does not report,
 * the watch limit reached) is left to polling, which stays the guarantee; this only cuts the wait.
 */
export class ChangeWatch {
  readonly #byDir = new Map<string, FSWatcher | null>();
  /** The names followed in each directory. */
  readonly #names = new Map<string, Set<string>>();
  #stopped = false;

  constructor(private readonly onChange: () => void, private readonly logger: Logger) {}

  /**
   * Follows exactly `paths` (all the tail follows now): their directories not watched yet are
   * watched; names no longer among them stop waking it, and a directory left with none is no
   * longer watched (date-named logs do not pile up names).
   */
  follow(paths: Iterable<string>): void {
    if (this.#stopped) return;
    const now = new Map<string, Set<string>>();
    for (const p of paths) {
      const dir = dirname(p);
      let names = now.get(dir);
      if (!names) now.set(dir, (names = new Set()));
      names.add(basename(p));
    }
    for (const [dir, w] of this.#byDir) {
      if (now.has(dir)) continue;
      w?.close();
      this.#byDir.delete(dir);
      this.#names.delete(dir);
    }
    for (const [dir, wanted] of now) {
      // the same Set, changed in place: the directory's watch reads it
      let names = this.#names.get(dir);
      if (!names) this.#names.set(dir, (names = new Set()));
      names.clear();
      for (const n of wanted) names.add(n);
      if (this.#byDir.has(dir)) continue;
      let w: FSWatcher | null = null;
      try {
        // a change without a name (the kernel's queue overflowed) may be anything: it wakes the tail too
        w = watch(dir, { persistent: false }, (_event, name) => (name === null || names.has(String(name))) && this.onChange());
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
    this.#names.clear();
  }
}
