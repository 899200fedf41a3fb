import type { Logger } from '@fleetban/shared';
import type { FileTailOptions } from './file-tail-options.js';
import { expandGlob, hasWildcard } from './glob.js';
import type { StartAt } from './source-spec.js';

/** One followed name and the file it named at the last look. */
export interface PathWatch {
  readonly path: string;
  /** From a pattern without wildcards: followed even while it does not exist. */
  readonly literal: boolean;
  key: string | null;
  /** Found by the first scan: its first file starts per `startAt` (or the saved position). */
  initial: boolean;
  readonly startAt: StartAt;
  noticed: boolean;
}

/** What {@link PathWatches} needs of a tail's options (defaults applied). */
export type PathWatchOptions = Pick<FileTailOptions, 'globs' | 'resolve' | 'startAt'> & { readonly initial: StartAt };

/** The names a file tail follows: the paths its globs (or its resolver) match, kept up to date by {@link PathWatches.rescan}. */
export class PathWatches {
  readonly #o: PathWatchOptions;
  readonly #log: Logger;
  readonly #watches = new Map<string, PathWatch>();
  readonly #quietGlobs = new Set<string>();

  constructor(o: PathWatchOptions, log: Logger) {
    this.#o = o;
    this.#log = log;
  }

  /** Every followed name, in the order first matched. */
  values(): IterableIterator<PathWatch> {
    return this.#watches.values();
  }

  /**
   * Expands the globs (or asks the resolver): adds new paths, forgets paths no longer matched.
   * `scanned`: the first look is done, so new paths are not `initial`.
   */
  async rescan(scanned: boolean): Promise<void> {
    const seen = new Set<string>();
    const add = (path: string, literal: boolean, startAt: StartAt) => {
      seen.add(path);
      if (!this.#watches.has(path)) this.#watches.set(path, { path, literal, key: null, initial: !scanned, startAt, noticed: false });
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
}
