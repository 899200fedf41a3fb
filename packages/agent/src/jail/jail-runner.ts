import { randomBytes } from 'node:crypto';
import { Allowlist, type FailureEvent, type JailConfig, type Logger, WIRE_LIMITS } from '@fleetban/shared';
import { createJailFilter, type JailFilter } from '../filter/jail-filter.js';
import {
  chooseSource, createSource, JournalUnavailableError, type LogLine, type LogSource, type SourceCounters, type SourceDeps,
} from '../tail/source.js';

/** Counters of one jail on this host. */
export interface JailCounters {
  matched: number;
  allowlisted: number;
}

/**
 * One jail on this host: source → filter → ignoreip → report. Which source is decided at start
 * (tail/source-choice.ts: `backend = auto` with no logpath file reads the journal when the filter
 * has a journalmatch) and said in the jail's log. A journal that cannot be read here is an error
 * in the log, and the jail reads nothing; the agent goes on. A failure's id is
 * `<host>:<jail>:<line id>`: the line's position in its source (tail/log-source.ts), so a line read
 * again after a crash yields the same id, which the stream (within its duplicate window) and the
 * controller drop.
 */
export class JailRunner {
  readonly counters: JailCounters = { matched: 0, allowlisted: 0 };
  #filter: JailFilter;
  readonly #allow: Allowlist;
  #source: LogSource;
  readonly #deps: SourceDeps;
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
    this.#deps = { ...deps, logger };
    this.#filter = createJailFilter(jail, { logger, clock: deps.clock });
    this.#allow = new Allowlist(jail.ignoreip);
    this.#source = createSource(jail, this.#deps, this.#filter.journalmatch);
  }

  /**
   * Chooses the source, then starts reading; resolves once the source is positioned (or, when the
   * journal cannot be read here, once that is logged). Rejects on a configuration error only.
   */
  async start(): Promise<void> {
    const choice = await chooseSource(this.jail, this.#filter.journalmatch, this.#deps.journal);
    if (choice.backend !== this.jail.backend) {
      // auto fell back to the journal: the filter's logtype is `journal` there (fail2ban's systemd backend)
      const jail = { ...this.jail, backend: choice.backend };
      this.#filter = createJailFilter(jail, { logger: this.logger, clock: this.#deps.clock });
      this.#source = createSource(jail, this.#deps, this.#filter.journalmatch);
    }
    const source = choice.backend.kind === 'systemd' ? 'journal' : choice.backend.kind === 'docker' ? 'docker' : 'files';
    if (choice.waiting) this.logger.warn({ source, backend: this.jail.backend.kind }, choice.why);
    else this.logger.info({ source, backend: this.jail.backend.kind }, choice.why);
    try {
      await this.#source.start((l) => this.line(l));
    } catch (err) {
      if (!(err instanceof JournalUnavailableError)) throw err;
      this.logger.error({ err, source }, `${err.message}; jail ${this.jail.name} reads nothing (the agent goes on)`);
    }
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
