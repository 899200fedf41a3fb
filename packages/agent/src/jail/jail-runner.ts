import { Allowlist, type Clock, type FailureEvent, type JailConfig, type Logger } from '@fleetban/shared';
import { builtinFilter } from '../filter/builtin.js';
import { FilterError } from '../filter/filter-error.js';
import { LineFilter } from '../filter/line-filter.js';
import { FileTail, type LogLine } from '../tail/file-tail.js';

/** Counters of one jail on this host. */
export interface JailCounters {
  lines: number;
  matched: number;
  ignored: number;
  allowlisted: number;
}

/**
 * One jail on this host: tail → filter → ignoreip → report. The failure's time is the time the line
 * was read (date detection is the filter stage's next step).
 */
export class JailRunner {
  readonly counters: JailCounters = { lines: 0, matched: 0, ignored: 0, allowlisted: 0 };
  readonly #filter: LineFilter;
  readonly #allow: Allowlist;
  readonly #tail: FileTail;
  #seq = 0;

  constructor(
    readonly jail: JailConfig,
    private readonly host: string,
    private readonly bootId: string,
    private readonly emit: (e: FailureEvent) => void,
    private readonly clock: Clock,
    private readonly logger: Logger,
    pollMs: number,
  ) {
    this.#filter = LineFilter.compile(filterOf(jail));
    this.#allow = new Allowlist(jail.ignoreip);
    this.#tail = new FileTail({ globs: [...jail.logpath], pollMs, logger, clock });
  }

  /** Starts reading. */
  start(): void {
    if (this.jail.logpath.length === 0) this.logger.warn('jail has no logpath: nothing to read');
    this.#tail.start((l) => this.line(l));
  }

  private line(l: LogLine): void {
    this.counters.lines++;
    const m = this.#filter.match(l.text);
    if (!m) return;
    if (this.#allow.has(m.ip)) {
      this.counters.allowlisted++;
      return;
    }
    this.counters.matched++;
    const e: FailureEvent = {
      id: `${this.host}:${this.bootId}:${this.jail.name}:${++this.#seq}`,
      host: this.host,
      jail: this.jail.name,
      ip: m.ip,
      timeMs: l.readMs,
      user: m.user,
      line: l.text,
    };
    this.logger.info({ ip: m.ip, user: m.user, path: l.path }, 'failure');
    this.emit(e);
  }

  /** Lines read by this jail's tail. */
  get linesRead(): number {
    return this.#tail.counters().lines;
  }

  /** Stops reading. */
  stop(): Promise<void> {
    return this.#tail.stop();
  }
}

function filterOf(jail: JailConfig): { name: string; failregex: string[]; ignoreregex: string[] } {
  const builtin = builtinFilter(jail.filter);
  if (jail.failregex.length > 0) {
    return { name: jail.filter, failregex: [...jail.failregex], ignoreregex: [...(builtin?.ignoreregex ?? []), ...jail.ignoreregex] };
  }
  if (!builtin) throw new FilterError(`jail ${jail.name}: no filter named '${jail.filter}' and no failregex`);
  return { name: builtin.name, failregex: [...builtin.failregex], ignoreregex: [...builtin.ignoreregex, ...jail.ignoreregex] };
}
