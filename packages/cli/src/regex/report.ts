/**
 * What `fleetban regex` prints: fail2ban-regex's summary (prefregex, failregex and ignoreregex
 * hits, date template hits, line counts, the lines asked for), or with `--json` one object per
 * failure: `{"ip", "time", "regex", <F-* fields>}`.
 */

import type { EngineFailure, FilterEngine } from '@fleetban/agent';
import { tryParseAddress } from '@fleetban/shared';
import type { RegexTester } from './tester.js';

function list(lines: readonly string[], header?: string): string {
  if (lines.length === 0) return '';
  return `${header === undefined ? '' : `|- ${header}\n`}|  ${lines.join('\n|  ')}\n\`-\n`;
}

function regexHits(title: string, sources: readonly string[], hits: readonly number[]): string {
  let total = 0;
  const rows: string[] = [];
  sources.forEach((s, i) => {
    const n = hits[i] ?? 0;
    total += n;
    if (n > 0) rows.push(`${String(i + 1).padStart(2)}) [${n}] ${s}`);
  });
  return `\n${title}: ${total} total\n${list(rows, ' #) [# of hits] regular expression')}`;
}

/** What the summary shows besides the tester's figures. */
export interface SummaryInput {
  readonly engine: FilterEngine;
  readonly tester: RegexTester;
  readonly seconds: number;
  /** The `--print-all-*` switches, and `--print-no-*`. */
  readonly print: { readonly matched: boolean; readonly missed: boolean; readonly ignored: boolean; readonly noMissed: boolean; readonly noIgnored: boolean };
  /** Lines of a kind are printed when fewer than this (fail2ban-regex: --maxlines or 20). */
  readonly limit: number;
  /** Hits per date template, in the date detector's order. */
  readonly dateHits: ReadonlyArray<{ readonly name: string; readonly hits: number }>;
}

function printLines(kind: 'matched' | 'missed' | 'ignored', count: number, lines: readonly string[], all: boolean, limit: number): string {
  if (count === 0) return '';
  const header = `${kind[0]?.toUpperCase()}${kind.slice(1)} line(s):`;
  if (count < limit || all) return list(lines.map((l) => l.trimEnd()), header);
  return `${header} too many to print.  Use --print-all-${kind} to print all ${count} lines\n`;
}

/** fail2ban-regex's "Results" section. */
export function formatSummary(s: SummaryInput): string {
  const { engine, tester: t } = s;
  let out = '\nResults\n=======\n';
  if (engine.pref) out += `\nPrefregex: ${engine.prefHits} total\n${list([engine.pref.source])}`;
  out += regexHits('Failregex', engine.fail.map((r) => r.source), t.failHits);
  out += regexHits('Ignoreregex', engine.ignore.map((r) => r.source), t.ignoreHits);
  const dates = s.dateHits.filter((h) => h.hits > 0).map((h) => `[${h.hits}] ${h.name}`);
  out += `\nDate template hits:\n${list(dates, '[# of hits] date format')}`;
  out += `\nLines: ${t.tested} lines, ${t.ignored} ignored, ${t.matched} matched, ${t.missed} missed\n`;
  out += `[processed in ${s.seconds.toFixed(2)} sec]\n\n`;
  if (s.print.matched) out += printLines('matched', t.matched, t.matchedLines, true, s.limit);
  if (!s.print.noIgnored) out += printLines('ignored', t.ignored, t.ignoredLines, s.print.ignored, s.limit);
  if (!s.print.noMissed) out += printLines('missed', t.missed, t.missedLines, s.print.missed, s.limit);
  return out;
}

/** fail2ban's internal group names, never printed as fields. */
const INTERNAL = new Set(['ip4', 'ip6', 'dns', 'mlfid', 'content', 'nofail', 'mlfforget', 'mlfgained', 'mlfpending', 'matches', 'users']);
const F_TAG = /<F-([A-Za-z0-9_-]+)\/?>/g;
const COMPLEX = /^(?:alt|tuple)_(.*?)(?:_\d+)?$/;

function groupName(tag: string): string {
  const n = tag.toLowerCase();
  const merged = COMPLEX.exec(n)?.[1];
  const base = merged ?? n;
  return base === 'id' ? 'fid' : base === 'port' ? 'fport' : base;
}

/**
 * Builds `--json` objects: per failregex, the fields its `<F-*>` tags (and the prefregex's)
 * capture, in the order written.
 */
export class FailureJson {
  private readonly fields: string[][];
  private readonly canonical = new Map<string, string>();

  constructor(engine: FilterEngine) {
    const pref = engine.pref ? [...engine.pref.source.matchAll(F_TAG)].map((m) => groupName(m[1] as string)) : [];
    this.fields = engine.fail.map((r) => {
      const names = [...pref, ...[...r.source.matchAll(F_TAG)].map((m) => groupName(m[1] as string))];
      return [...new Set(names)].filter((n) => !INTERNAL.has(n));
    });
  }

  private address(text: string): string {
    let c = this.canonical.get(text);
    if (c === undefined) {
      c = tryParseAddress(text)?.text ?? text;
      if (this.canonical.size > 100_000) this.canonical.clear();
      this.canonical.set(text, c);
    }
    return c;
  }

  /** The JSON text (one line) of a failure; `nowS` is its time when the line has no date. */
  format(f: EngineFailure, nowS: number): string {
    const fid = f.fid as string;
    const o: Record<string, unknown> = {
      ip: this.address(f.ip ?? fid),
      time: f.time ?? nowS,
      regex: f.regex + 1,
    };
    if (f.ip !== undefined || f.kind === 'id') o.fid = fid;
    for (const n of this.fields[f.regex] ?? []) {
      const v = f.fields[n];
      if (v !== undefined && v !== null && !(n in o)) o[n] = v;
    }
    return JSON.stringify(o);
  }
}
