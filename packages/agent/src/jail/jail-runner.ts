import { randomBytes } from 'node:crypto';
import { Allowlist, type FailureEvent, type JailConfig, type Logger, WIRE_LIMITS } from '@fleetban/shared';
import { createJailFilter, type JailFilter } from '../filter/jail-filter.js';
import { createSource, type LogLine, type LogSource, type SourceCounters, type SourceDeps } from '../tail/source.js';

/** Counters of one jail on this host. */
export interface JailCounters {
  matched: number;
  allowlisted: number;
}

/**
 * One jail on this host: source → filter → ignoreip → report. A failure's id is
 * `<host>:<jail>:<line id>`: the line's position in its source (tail/log-source.ts), so a line read
 * again after a crash yields the same id, which the stream (within its duplicate window) and the
 * controller drop.
 */
export class JailRunner {
  readonly counters: JailCounters = { matched: 0, allowlisted: 0 };
  readonly #filter: JailFilter;
  readonly #allow: Allowlist;
  readonly #source: LogSource;
  /** For a line without an id (none of the sources delivers one): unique, not stable. */
  readonly #run = randomBytes(6).toString('base64url');
  #seq = 0;

  constructor(
    readonly jail: JailConfig,
    private readonly host: string,
    private readonly emit: (e: FailureEvent) => void,
    private readonly logger: Logger,
    deps: SourceDeps,
  ) {
    this.#filter = createJailFilter(jail, { logger, clock: deps.clock });
    this.#allow = new Allowlist(jail.ignoreip);
    this.#source = createSource(jail, { ...deps, logger }, this.#filter.journalmatch);
  }

  /** Starts reading; resolves once the source is positioned. */
  async start(): Promise<void> {
    const reads = this.jail.backend.kind;
    if (this.jail.logpath.length === 0 && reads !== 'systemd' && reads !== 'docker') this.logger.warn('jail has no logpath: nothing to read');
    await this.#source.start((l) => this.line(l));
  }

  private line(l: LogLine): void {
    const m = this.#filter.match(l);
    if (!m) return;
    if (this.#allow.has(m.ip)) {
      this.counters.allowlisted++;
      return;
    }
    this.counters.matched++;
    const e: FailureEvent = {
      id: `${this.host}:${this.jail.name}:${l.id || `${this.#run}:${++this.#seq}`}`,
      host: this.host,
      jail: this.jail.name,
      ip: m.ip,
      timeMs: m.timeMs,
      user: m.user.slice(0, WIRE_LIMITS.textChars),
      line: l.text.slice(0, WIRE_LIMITS.lineChars),
    };
    this.logger.info({ ip: m.ip, user: m.user, path: l.path }, 'failure');
    this.emit(e);
  }

  /** The counters of this jail's source (lines read, skipped, undecodable, bytes behind). */
  sourceCounters(): SourceCounters {
    return this.#source.counters();
  }

  /** Stops reading. */
  stop(): Promise<void> {
    return this.#source.stop();
  }
}
