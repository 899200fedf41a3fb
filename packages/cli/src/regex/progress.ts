/**
 * `fleetban regex`'s progress line for long logs: lines read, bytes of the file and the rate,
 * redrawn in place on stderr a few times a second, and only when stderr is a terminal (nothing
 * when it is piped or redirected, so scripts and `2>file` see only what they asked for). The
 * line is erased when the run ends, before the summary.
 */

/** What a progress line reports. */
export interface ProgressFigures {
  readonly lines: number;
  /** Bytes read so far (approximately: characters of the lines read, "\n" included). */
  readonly bytes: number;
  /** The file's size. */
  readonly totalBytes: number;
  readonly seconds: number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1.5 MiB`, `512 B`. */
export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

/** `1,234,567` (digits grouped by three, whatever the locale). */
function grouped(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The progress line: `1,234,567 lines, 120.5 MiB of 1.2 GiB (10%), 250,000 lines/s`. */
export function formatProgress(p: ProgressFigures): string {
  const pct = p.totalBytes > 0 ? Math.min(100, Math.floor((p.bytes / p.totalBytes) * 100)) : 100;
  const rate = p.seconds > 0 ? grouped(p.lines / p.seconds) : '-';
  return `${grouped(p.lines)} lines, ${formatBytes(Math.min(p.bytes, p.totalBytes))} of ${formatBytes(p.totalBytes)} (${pct}%), ${rate} lines/s`;
}

/** Where the progress line goes: stderr, or a test's stand-in. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(s: string): unknown;
}

/** Lines between two looks at the clock (a clock read per line would cost more than the counting). */
const CHECK_EVERY = 4096;

/**
 * Counts the lines of a run and redraws the progress line every `intervalMs` (the first after
 * one interval: a short log shows none). Use {@link progressOn} to get one only on a terminal.
 */
export class RegexProgress {
  #lines = 0;
  #bytes = 0;
  #next: number;
  #drawn = false;
  readonly #start: number;

  constructor(
    private readonly stream: ProgressStream,
    private readonly totalBytes: number,
    private readonly now: () => number = () => performance.now(),
    /** How often the line is redrawn (see {@link progressIntervalMs}). */
    private readonly intervalMs = 250,
  ) {
    this.#start = now();
    this.#next = this.#start + intervalMs;
  }

  /** Counts one line of `chars` characters (its "\n" included). */
  line(chars: number): void {
    this.#lines++;
    this.#bytes += chars;
    if ((this.#lines & (CHECK_EVERY - 1)) !== 0) return;
    const t = this.now();
    if (t < this.#next) return;
    this.#next = t + this.intervalMs;
    this.stream.write(`\r${formatProgress({ lines: this.#lines, bytes: this.#bytes, totalBytes: this.totalBytes, seconds: (t - this.#start) / 1000 })}\x1b[K`);
    this.#drawn = true;
  }

  /** Erases the progress line (when one was drawn). */
  done(): void {
    if (this.#drawn) this.stream.write('\r\x1b[K');
    this.#drawn = false;
  }
}

/** How often the line is redrawn, in ms: `$FLEETBAN_REGEX_PROGRESS_MS`, default 250 (0: at every check). */
export function progressIntervalMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.FLEETBAN_REGEX_PROGRESS_MS ?? '');
  return env.FLEETBAN_REGEX_PROGRESS_MS !== undefined && Number.isFinite(v) && v >= 0 ? v : 250;
}

/** A progress line for a file of `totalBytes` on `stream` when it is a terminal; undefined otherwise. */
export function progressOn(stream: ProgressStream, totalBytes: number, intervalMs = progressIntervalMs()): RegexProgress | undefined {
  return stream.isTTY === true ? new RegexProgress(stream, totalBytes, undefined, intervalMs) : undefined;
}
