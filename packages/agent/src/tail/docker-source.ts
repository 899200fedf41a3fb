import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Logger } from '@fleetban/shared';
import { FileTail } from './file-tail.js';
import type { LogLine, LogSource, ReadGate, SourceCounters } from './log-source.js';
import type { DockerSpec } from './source-spec.js';

/** Options of {@link DockerSource}. */
export interface DockerSourceOptions {
  readonly spec: DockerSpec;
  readonly stateDir: string;
  readonly name: string;
  readonly maxLineBytes: number;
  readonly pollMs: number;
  /** How often the container is looked up again (a recreated container has a new id), in ms. Default 5000. */
  readonly rescanMs?: number;
  readonly rotateGraceMs?: number;
  readonly gate?: ReadGate;
  readonly logger: Logger;
  readonly clock: Clock;
}

/** Docker's json-file driver writes a line longer than this in pieces; only the last ends with `\n`. */
interface Partial {
  stdout: string;
  stderr: string;
}

/**
 * Docker backend: follows a container's json-file log,
 * `<root>/containers/<id>/<id>-json.log`, one JSON object per line (`{"log":"...\n","stream":
 * "stderr","time":"2024-...Z"}`), and delivers each `log` as a line (pieces of a long line joined,
 * the newline removed). The container is named by id (or an id prefix of 12+ hex digits) or by
 * name, looked up in each container's `config.v2.json`; it is looked up again every rescan, so a
 * container recreated under the same name is followed into its new log. Restarts append to the
 * same file and rotation (`-json.log` → `-json.log.1`) is a rename: the file tail handles both, and
 * keeps positions across agent restarts like the file backend.
 */
export class DockerSource implements LogSource {
  readonly #o: DockerSourceOptions;
  readonly #log: Logger;
  readonly #tail: FileTail;
  readonly #partial = new Map<string, Partial>();
  readonly #c = { lines: 0, skipped: 0 };
  readonly #line: LogLine = { path: '', text: '', readMs: 0, timeMs: 0, id: '' };
  #onLine: (l: LogLine) => void = () => {};
  #lastId = '';

  constructor(o: DockerSourceOptions) {
    this.#o = o;
    this.#log = o.logger.child({ stage: 'tail', backend: 'docker', container: o.spec.container });
    this.#tail = new FileTail({
      globs: [], resolve: () => this.#resolve(), pollMs: o.pollMs, rescanMs: o.rescanMs ?? 5000,
      // JSON escapes make the file's line longer than the log line: the log line is checked after decoding
      maxLineBytes: o.maxLineBytes * 7 + 1024,
      stateDir: o.stateDir, stateName: o.name, gate: o.gate, logger: o.logger, clock: o.clock,
      ...(o.rotateGraceMs ? { rotateGraceMs: o.rotateGraceMs } : {}),
    });
  }

  start(onLine: (l: LogLine) => void): Promise<void> {
    this.#onLine = onLine;
    return this.#tail.start((l) => this.#entry(l));
  }

  stop(): Promise<void> {
    return this.#tail.stop();
  }

  counters(): SourceCounters {
    const t = this.#tail.counters();
    return { ...t, lines: this.#c.lines, skipped: t.skipped + this.#c.skipped };
  }

  /** The container's log file now ([] when no container matches). */
  async #resolve(): Promise<string[]> {
    const id = await findContainer(this.#o.spec.root, this.#o.spec.container);
    if (id !== this.#lastId) {
      if (id) this.#log.info({ id }, 'following the container log');
      else this.#log.info('no such container yet; still watching');
      this.#lastId = id;
    }
    return id ? [join(this.#o.spec.root, 'containers', id, `${id}-json.log`)] : [];
  }

  #entry(raw: LogLine): void {
    let log: string;
    let stream: string;
    let time: string;
    try {
      const e = JSON.parse(raw.text) as { log?: unknown; stream?: unknown; time?: unknown };
      if (typeof e.log !== 'string') throw new Error('no log field');
      log = e.log;
      stream = e.stream === 'stderr' ? 'stderr' : 'stdout';
      time = typeof e.time === 'string' ? e.time : '';
    } catch {
      this.#c.skipped++;
      return;
    }
    let p = this.#partial.get(raw.path);
    if (!log.endsWith('\n')) { // a piece of a long line
      if (!p) this.#partial.set(raw.path, (p = { stdout: '', stderr: '' }));
      const joined = p[stream as keyof Partial] + log;
      p[stream as keyof Partial] = joined.length > this.#o.maxLineBytes ? '\0' : joined; // '\0': skip when complete
      return;
    }
    let text = log.slice(0, log.endsWith('\r\n') ? -2 : -1);
    if (p && p[stream as keyof Partial] !== '') {
      text = p[stream as keyof Partial] + text;
      p[stream as keyof Partial] = '';
    }
    if (text.startsWith('\0') || (text.length > this.#o.maxLineBytes && Buffer.byteLength(text) > this.#o.maxLineBytes)) {
      this.#c.skipped++;
      return;
    }
    if (text === '') return;
    this.#c.lines++;
    const l = this.#line;
    l.path = raw.path;
    l.text = text;
    l.readMs = raw.readMs;
    l.timeMs = time ? Date.parse(time) || 0 : 0;
    l.id = raw.id; // the position of the entry that ends the line
    this.#onLine(l); // FileTail catches and logs a throw
  }
}

/**
 * The id of the container named `ref` under `<root>/containers`: a full id, an id prefix of 12 or
 * more hex digits, or a name. Of several containers with one name (a stale one left behind), the
 * running one, else the newest. '' when none.
 */
export async function findContainer(root: string, ref: string): Promise<string> {
  const dir = join(root, 'containers');
  let ids: string[];
  try {
    ids = await readdir(dir);
  } catch {
    return '';
  }
  if (/^[0-9a-f]{12,64}$/.test(ref)) {
    const hits = ids.filter((id) => id.startsWith(ref));
    if (hits.length === 1) return hits[0] as string;
  }
  let best = { id: '', running: false, created: '' };
  for (const id of ids) {
    let c: { Name?: unknown; State?: { Running?: unknown }; Created?: unknown };
    try {
      c = JSON.parse(await readFile(join(dir, id, 'config.v2.json'), 'utf8')) as typeof c;
    } catch {
      continue;
    }
    if (c.Name !== `/${ref}`) continue;
    const cand = { id, running: c.State?.Running === true, created: typeof c.Created === 'string' ? c.Created : '' };
    if (!best.id || (cand.running && !best.running) || (cand.running === best.running && cand.created > best.created)) best = cand;
  }
  return best.id;
}
