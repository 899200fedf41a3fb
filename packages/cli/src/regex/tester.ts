/**
 * Runs a filter over lines the way fail2ban-regex does and keeps its figures: every failregex
 * tried on every line (`checkAllRegex`), hits per failregex (helper `<F-NOFAIL>` matches
 * included) and per ignoreregex, and each line counted once as
 *
 * - ignored: an ignoreregex vetoed a match, or a `<F-NOFAIL>` helper matched;
 * - matched: otherwise, a failregex matched;
 * - missed: nothing matched.
 *
 * Comment lines (`#...`) and empty lines are skipped, as fail2ban-regex skips them. With
 * `maxlines` > 1, buffered lines a later match used move from missed to matched. Lines come as
 * read, each ending with "\n" (see ../log-lines.ts).
 */

import type { EngineFailure, FilterEngine, LineFront, TupleLine } from '@fleetban/agent';

/** False for the lines fail2ban-regex skips: empty ones and comments (`#...`). */
export function isTestedLine(lineNl: string): boolean {
  return lineNl.length > 1 && lineNl.charCodeAt(0) !== 35;
}

/** Which lines to keep for printing. */
export interface KeepLines {
  readonly matched: boolean;
  readonly missed: boolean;
  readonly ignored: boolean;
}

/** fail2ban-regex's LineStats and RegexStat figures. */
export class RegexTester {
  tested = 0;
  matched = 0;
  ignored = 0;
  missed = 0;
  readonly matchedLines: string[] = [];
  readonly missedLines: string[] = [];
  readonly ignoredLines: string[] = [];
  /** Hits per failregex. */
  failHits: number[] = [];
  /** Hits per ignoreregex. */
  ignoreHits: number[] = [];
  private engine: FilterEngine | undefined;
  private lineIgnored = false;
  private maxLines = 1;

  /**
   * `keepAll`: keep every line of a kind (`--print-all-*`); otherwise the first `limit + 1`
   * missed and ignored lines are kept (fail2ban-regex prints them when fewer than `limit`).
   */
  constructor(private readonly keepAll: KeepLines, private readonly limit: number) {}

  /** Pass as the engine's `onIgnoreRegex`. */
  readonly onIgnoreRegex = (index: number): void => {
    this.lineIgnored = true;
    this.ignoreHits[index] = (this.ignoreHits[index] ?? 0) + 1;
  };

  /** The engine the lines go through (built with {@link onIgnoreRegex} and checkAllRegex). */
  use(engine: FilterEngine, maxLines: number): void {
    this.engine = engine;
    this.maxLines = maxLines;
    this.failHits = new Array<number>(engine.fail.length).fill(0);
    this.ignoreHits = new Array<number>(engine.ignore.length).fill(0);
  }

  /**
   * Tests one line, ending with "\n" (as read: comments and empty lines are skipped here);
   * `front`: the first half of the engine's work on it, when done beforehand (see reader-thread.ts).
   */
  test(lineNl: string, front?: LineFront): void {
    if (!isTestedLine(lineNl)) return;
    const engine = this.engine as FilterEngine;
    const before = this.maxLines > 1 ? [...engine.buffer] : undefined;
    this.lineIgnored = false;
    const found = front === undefined ? engine.processLineNl(lineNl) : engine.processLineNlFront(lineNl, front);
    let failures = 0;
    let isIgnored = false;
    for (let i = 0; i < found.length; i++) {
      const f = found[i] as EngineFailure;
      this.failHits[f.regex] = (this.failHits[f.regex] ?? 0) + 1;
      if (f.fields.nofail) isIgnored = true;
      else failures++;
    }
    if (before) this.creditBuffered(before, engine.buffer);
    if (isIgnored || this.lineIgnored) {
      this.ignored++;
      if (this.keepAll.ignored || this.ignored <= this.limit + 1) this.ignoredLines.push(lineNl.slice(0, -1));
    } else if (failures > 0) {
      this.matched++;
      if (this.keepAll.matched) this.matchedLines.push(lineNl.slice(0, -1));
    } else {
      this.missed++;
      if (this.keepAll.missed || this.missed <= this.limit + 1) this.missedLines.push(lineNl.slice(0, -1));
    }
    this.tested++;
  }

  /** Lines that left the buffer because a match used them count as matched, no longer missed. */
  private creditBuffered(before: readonly TupleLine[], after: readonly TupleLine[]): void {
    const full = before.length >= this.maxLines ? 1 : 0;
    const kept = new Set(after.map((l) => l.join('')));
    for (let i = full; i < before.length; i++) {
      const text = (before[i] as TupleLine).join('');
      if (kept.has(text)) continue;
      const at = this.missedLines.indexOf(text);
      if (at >= 0) this.missedLines.splice(at, 1);
      if (this.keepAll.matched) this.matchedLines.push(text);
      this.matched++;
      this.missed--;
    }
  }
}

/**
 * Runs lines through an engine built with first-match-wins (as fail2ban runs in production, and
 * as fail2ban-regex's `--out` does) and hands each failure to `each` (helper matches and lines an
 * ignoreregex vetoed are left out).
 */
export function failuresOf(engine: FilterEngine, each: (f: EngineFailure) => void): (lineNl: string, front?: LineFront) => void {
  return (lineNl, front) => {
    if (!isTestedLine(lineNl)) return;
    const found = front === undefined ? engine.processLineNl(lineNl) : engine.processLineNlFront(lineNl, front);
    for (let i = 0; i < found.length; i++) {
      const f = found[i] as EngineFailure;
      if (f.fid !== null && !f.fields.nofail) each(f);
    }
  };
}
