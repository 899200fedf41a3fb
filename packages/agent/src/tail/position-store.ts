import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@fleetban/shared';

/**
 * Where a source stopped reading, kept under `<state_dir>/tail/<name>.json` so a restarted agent
 * resumes exactly there. Written whole to a temporary file, then renamed over the old one, so a
 * crash leaves either the previous or the new state, never a torn one. An unreadable or corrupt
 * file is logged and treated as absent: never fatal.
 */
export class PositionStore<T extends object> {
  readonly path: string;
  readonly #dir: string;
  readonly #log: Logger;
  #last = '';

  constructor(stateDir: string, name: string, logger: Logger) {
    this.#dir = join(stateDir, 'tail');
    this.path = join(this.#dir, `${name}.json`);
    this.#log = logger;
  }

  /** The saved state, or null when there is none (or it cannot be read). */
  async load(check: (v: unknown) => v is T): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#log.warn({ err, file: this.path }, 'cannot read saved positions; starting without them');
      return null;
    }
    try {
      const v: unknown = JSON.parse(text);
      if (check(v)) {
        this.#last = text;
        return v;
      }
    } catch {
      // fall through
    }
    this.#log.warn({ file: this.path }, 'saved positions are corrupt; starting without them');
    return null;
  }

  /** Saves `state` (skipped when unchanged since the last save). Failures are logged, not thrown. */
  async save(state: T): Promise<void> {
    const text = JSON.stringify(state);
    if (text === this.#last) return;
    const tmp = `${this.path}.tmp`;
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeFile(tmp, text);
      await rename(tmp, this.path);
      this.#last = text;
    } catch (err) {
      this.#log.warn({ err, file: this.path }, 'cannot save positions');
    }
  }
}
