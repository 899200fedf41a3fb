/** One address's failures inside a jail's window. */
export interface Tracked {
  /** Failure times (ms), oldest first, only those inside findtime of the newest. */
  readonly times: number[];
  /** The host that reported each failure, parallel to `times`. */
  readonly sources: string[];
  /**
   * The newest matched lines, at most maxmatches and at most {@link MAX_MATCH_BYTES} bytes of
   * UTF-8 (oldest dropped first; kept across the window, as fail2ban does).
   */
  readonly matches: string[];
}

/**
 * Matched lines kept per address in bytes (UTF-8, all lines together), on top of maxmatches, so a
 * ban's value in the KV bucket stays small whatever maxmatches says. The newest line is always
 * kept (a log line is at most `WIRE_LIMITS.lineChars` characters).
 */
export const MAX_MATCH_BYTES = 16 * 1024;

/** One address's window as {@link FailureWindow.capture} returns it and {@link FailureWindow.restore} takes it. */
export interface CapturedAddress {
  readonly ip: string;
  readonly times: readonly number[];
  readonly sources: readonly string[];
  readonly matches: readonly string[];
}

/** The distinct hosts whose failures are inside the window, sorted. */
export function hostsOf(t: Tracked): string[] {
  return [...new Set(t.sources)].sort();
}

/** Options of {@link FailureWindow}. */
export interface WindowOptions {
  readonly findtimeMs: number;
  readonly maxmatches: number;
  /** Addresses tracked at most; the least recently failing is dropped first. */
  readonly maxTracked: number;
}

/**
 * Failures per address within findtime, for one jail: fail2ban's failmanager. Pure and synchronous;
 * windows use the events' own times. Memory is bounded by `maxTracked` addresses, each holding at
 * most `maxTimes` failure times; when full, the least recently failing sixteenth is dropped.
 */
export class FailureWindow {
  readonly #byIp = new Map<string, Tracked>();
  #dropped = 0;
  #opts: WindowOptions;
  constructor(
    opts: WindowOptions,
    private readonly maxTimes = 1000,
    private readonly maxMatchBytes = MAX_MATCH_BYTES,
  ) {
    this.#opts = opts;
  }

  /**
   * Takes a jail's new findtime and maxmatches (`fleetban set`, a reload) keeping every address's
   * failures: a shorter findtime drops older failures at the next add or prune, a longer one lets
   * those still held count longer; fewer maxmatches trims the evidence at the next add.
   */
  retune(o: Pick<WindowOptions, 'findtimeMs' | 'maxmatches'>): void {
    this.#opts = { ...this.#opts, findtimeMs: o.findtimeMs, maxmatches: o.maxmatches };
  }

  /** Adds a failure and returns the address's failures inside the window, including this one. */
  add(ip: string, timeMs: number, host: string, line: string): Tracked {
    let t = this.#byIp.get(ip);
    if (t) this.#byIp.delete(ip);
    else t = { times: [], sources: [], matches: [] };
    this.#byIp.set(ip, t); // re-insert: Map order = least recently failing first
    insertSorted(t, timeMs, host);
    const newest = t.times[t.times.length - 1] as number;
    let cut = 0;
    while (cut < t.times.length && (t.times[cut] as number) <= newest - this.#opts.findtimeMs) cut++;
    if (t.times.length - cut > this.maxTimes) cut = t.times.length - this.maxTimes;
    if (cut > 0) {
      t.times.splice(0, cut);
      t.sources.splice(0, cut);
    }
    if (this.#opts.maxmatches > 0) keepMatch(t.matches, line, this.#opts.maxmatches, this.maxMatchBytes);
    this.#evictOverCap();
    return t;
  }

  /** When more than maxTracked addresses are held, drops the least recently failing sixteenth. */
  #evictOverCap(): void {
    if (this.#byIp.size > this.#opts.maxTracked) {
      // evict a sixteenth at once, in one pass: a Map keeps deleted slots at its front until it
      // rehashes, so looking for the oldest key once per insert would walk thousands of them
      let excess = this.#byIp.size - (this.#opts.maxTracked - Math.floor(this.#opts.maxTracked / 16));
      for (const oldest of this.#byIp.keys()) {
        if (excess-- <= 0) break;
        this.#byIp.delete(oldest);
        this.#dropped++;
      }
    }
  }

  /**
   * Every address's window as it is now, least recently failing first (the eviction order): a copy
   * later failures do not change. A controller's snapshot is made of these.
   */
  capture(): CapturedAddress[] {
    const out: CapturedAddress[] = [];
    for (const [ip, t] of this.#byIp) out.push({ ip, times: t.times.slice(), sources: t.sources.slice(), matches: t.matches.slice() });
    return out;
  }

  /**
   * Takes back what {@link capture} returned (after a restart), in its order, after what is held
   * already: each address's failures as they were, without re-deciding them. The cap holds:
   * the least recently failing are dropped first (counted as {@link dropped}).
   */
  restore(captured: Iterable<CapturedAddress>): void {
    for (const c of captured) {
      const times = c.times.slice(-this.maxTimes);
      if (times.length === 0) continue;
      this.#byIp.delete(c.ip);
      this.#byIp.set(c.ip, { times, sources: c.sources.slice(-times.length), matches: c.matches.slice() });
    }
    this.#evictOverCap();
  }

  /** Forgets an address (after a ban, or an unban). */
  reset(ip: string): void {
    this.#byIp.delete(ip);
  }

  /** Drops addresses whose newest failure is older than findtime before `nowMs`. */
  prune(nowMs: number): void {
    for (const [ip, t] of this.#byIp) {
      const newest = t.times[t.times.length - 1] ?? 0;
      if (newest <= nowMs - this.#opts.findtimeMs) this.#byIp.delete(ip);
    }
  }

  /** Addresses currently tracked (fail2ban's "currently failed"). */
  get size(): number {
    return this.#byIp.size;
  }

  /** Addresses dropped because the table was full. */
  get dropped(): number {
    return this.#dropped;
  }
}

/** Appends `line`, then drops the oldest lines beyond `max` lines or `maxBytes` bytes (never the newest). */
function keepMatch(matches: string[], line: string, max: number, maxBytes: number): void {
  matches.push(line);
  while (matches.length > max) matches.shift();
  let bytes = 0;
  for (const m of matches) bytes += Buffer.byteLength(m, 'utf8');
  while (bytes > maxBytes && matches.length > 1) bytes -= Buffer.byteLength(matches.shift() as string, 'utf8');
}

function insertSorted(t: Tracked, time: number, host: string): void {
  let i = t.times.length;
  while (i > 0 && (t.times[i - 1] as number) > time) i--;
  t.times.splice(i, 0, time);
  t.sources.splice(i, 0, host);
}
