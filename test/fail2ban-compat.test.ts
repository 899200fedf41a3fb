/**
 * fail2ban compatibility: Debian's fail2ban package is fetched (apt-get download, cached under
 * os.tmpdir() by version) and every annotated sample log of its test suite (tests/files/logs,
 * `# failJSON:` lines, `# filterOptions:` sets, `# addFILE:`) is run through fleetban's engine with
 * the package's own filter.d, the way fail2ban's samplestestcase.py runs them: time frozen at
 * 2005-08-14 12:00 CEST, time zone CET-01CEST-02,M3.5.0,M10.5.0, every failregex checked per line.
 * A line agrees when the verdict, the address (`host`), the time and every other field the
 * annotation names (user, users, attempts, ...) agree. Totals are printed and written to
 * docs/compatibility.md; a disagreement not listed there fails the test.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { posixTimeZone } from '../packages/agent/src/filter/date/time-zone.js';
import type { EngineFailure, FilterEngine } from '../packages/agent/src/filter/filter-engine.js';
import { loadFilter } from '../packages/agent/src/filter/filter-file.js';
import { compileFilter } from '../packages/agent/src/filter/jail-filter.js';

/** Debian's fail2ban package, unpacked. */
interface Fail2banPackage {
  readonly version: string;
  /** The unpacked tree. */
  readonly root: string;
  /** etc/fail2ban (filter.d, jail.conf, paths-*.conf). */
  readonly etc: string;
  /** fail2ban's tests directory (files/logs, config/filter.d). */
  readonly tests: string;
}

/**
 * Fetches Debian's fail2ban package with apt-get and unpacks it with dpkg-deb, cached under
 * os.tmpdir() by version, so reruns reuse it. Throws with a clear message when apt cannot
 * provide it (no network, no apt).
 */
function fail2banPackage(): Fail2banPackage {
  let version: string;
  try {
    const policy = execFileSync('apt-cache', ['policy', 'fail2ban'], { encoding: 'utf8' });
    version = /Candidate:\s*(\S+)/.exec(policy)?.[1] ?? '';
    if (version === '' || version === '(none)') throw new Error('apt-cache policy shows no candidate version (run apt-get update?)');
  } catch (err) {
    throw new Error(`cannot find Debian's fail2ban package with apt-cache: ${(err as Error).message}`, { cause: err });
  }
  const cache = join(tmpdir(), 'fleetban-fail2ban-deb', version.replace(/[^\w.+~-]/g, '_'));
  const root = join(cache, 'root');
  const etc = join(root, 'etc', 'fail2ban');
  const tests = join(root, 'usr', 'lib', 'python3', 'dist-packages', 'fail2ban', 'tests');
  if (!existsSync(join(tests, 'files', 'logs'))) {
    const work = `${cache}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    try {
      execFileSync('apt-get', ['download', `fail2ban=${version}`], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
      const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
      if (!deb) throw new Error('apt-get download produced no .deb');
      execFileSync('dpkg-deb', ['-x', join(work, deb), join(work, 'root')], { stdio: ['ignore', 'pipe', 'pipe'] });
      rmSync(cache, { recursive: true, force: true });
      mkdirSync(join(cache, '..'), { recursive: true });
      renameSync(work, cache);
    } catch (err) {
      rmSync(work, { recursive: true, force: true });
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
      throw new Error(`cannot download fail2ban ${version} with apt-get (network or apt sources unavailable?): ${stderr || (err as Error).message}`, { cause: err });
    }
  }
  return { version, root, etc, tests };
}


const TEST_NOW = 1124013600;
const TEST_NOW_STR = '2005-08-14T10:00:00';
const ZONE = posixTimeZone('CET-01CEST-02,M3.5.0,M10.5.0');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = join(ROOT, 'docs', 'compatibility.md');

type Json = Record<string, unknown>;

/** One checked line that disagrees. */
interface Disagreement {
  readonly filter: string;
  readonly where: string;
  readonly options: string;
  readonly problem: string;
}

/** fail2ban's test conditions: `name == 'x'`, `opts.get('k') == 'v'` / `!=`, joined by and/or. */
function evalCondition(expr: string, name: string, opts: Json): boolean {
  const js = expr.replace(/\bopts\.get\('([^']*)'\)/g, (_m, k: string) => JSON.stringify(opts[k] ?? null))
    .replace(/\bname\b/g, JSON.stringify(name))
    .replace(/\band\b/g, '&&').replace(/\bor\b/g, '||').replace(/\bnot\b/g, '!')
    .replace(/==/g, '===').replace(/!=/g, '!==').replace(/'/g, '"');
  if (!/^[\s"\w.\-=!&|()]*$/.test(js.replace(/"[^"]*"/g, '""'))) throw new Error(`unsupported condition: ${expr}`);
  return Boolean(new Function(`return (${js});`)());
}

function localTime(s: string): number {
  const m = /^(\d{4})-(\d\d?)-(\d\d?)T(\d\d?):(\d\d?):(\d\d?)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new Error(`bad time ${s}`);
  const wall = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return ZONE.fromLocal(wall) / 1000 + (m[7] ? Number(`0.${m[7]}`) : 0);
}

function ipEqual(a: string, b: string): boolean {
  if (a === b) return true;
  const v4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
  if (v4.test(a) || v4.test(b)) return false;
  if (isIPv6(a) && isIPv6(b)) return new URL(`http://[${a}]`).hostname === new URL(`http://[${b}]`).hostname;
  return false;
}

function sameSet(a: unknown, b: unknown): boolean {
  const x = [...((a as Iterable<unknown>) ?? [])].map(String).sort();
  const y = [...((b as Iterable<unknown>) ?? [])].map(String).sort();
  return JSON.stringify(x) === JSON.stringify(y);
}

/** Compares fleetban's result for one line with its annotation; returns the problem or ''. */
function compare(found: EngineFailure[], data: Json): string {
  if (found.length === 0) return data.match ? 'no match where fail2ban matches' : '';
  if (!data.match) return `matched (failregex ${found.map((f) => f.regex).join(',')}) where fail2ban does not`;
  if (found.length !== 1) return `several failregexes matched: ${found.map((f) => f.regex).join(',')}`;
  const f = found[0] as EngineFailure;
  for (const [k, v] of Object.entries(data)) {
    if (k === 'time' || k === 'match' || k === 'desc' || k === 'constraint') continue;
    let got: unknown = f.fields[k];
    if (got === undefined || got === null) {
      if (k === 'host') got = f.fid;
      if (k === 'attempts') got = (f.fields.matches as unknown[] | undefined)?.length ?? 0;
    }
    if (got instanceof Set || Array.isArray(v)) {
      if (!sameSet(got, v)) return `${k}: got ${JSON.stringify([...((got as Iterable<unknown>) ?? [])])}, want ${JSON.stringify(v)}`;
      continue;
    }
    const ok = k === 'host' && typeof got === 'string' && typeof v === 'string' ? ipEqual(got, v) : (got ?? null) === v;
    if (!ok) return `${k}: got ${JSON.stringify(got ?? null)}, want ${JSON.stringify(v)}`;
  }
  if (typeof data.time === 'string') {
    const want = localTime(data.time);
    if (f.time !== want) return `time: got ${f.time === null ? 'none' : new Date(f.time * 1000).toISOString()}, want ${data.time} local (${new Date(want * 1000).toISOString()})`;
  }
  return '';
}

/** Per filter: lines checked, lines agreeing, disagreements. */
interface FilterResult {
  checked: number;
  agree: number;
  disagreements: Disagreement[];
}

const FILE_LINE = /^#+ ?(failJSON|(?:file|filter)Options|addFILE):(.+)$/;

/** Runs the sample logs of filter `name` (read from `filterDir`) the way fail2ban's test does. */
function runSamples(name: string, filterDir: string, logsDir: string, checkAllRegex: boolean): FilterResult {
  const result: FilterResult = { checked: 0, agree: 0, disagreements: [] };
  const engines = new Map<string, FilterEngine>();
  const engineFor = (fltName: string, opts: Json): FilterEngine => {
    let e = engines.get(fltName);
    if (e) return e;
    const options = new Map<string, string>();
    for (const [k, v] of Object.entries(opts)) if (!k.startsWith('test.')) options.set(k, String(v));
    const loaded = loadFilter(name, { searchPath: [filterDir], options });
    e = compileFilter(loaded, { clock: () => TEST_NOW * 1000, zone: ZONE, checkAllRegex });
    engines.set(fltName, e);
    return e;
  };
  const files = [name];
  let common: Json = {};
  let tests: Array<{ fltName: string; engine: FilterEngine; opts: Json }> | null = null;
  for (let fi = 0; fi < files.length; fi++) {
    const file = files[fi] as string;
    const lines = readFileSync(join(logsDir, file), 'utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let ignoreBlock = false;
    let data: Json = {};
    for (let ln = 0; ln < lines.length; ln++) {
      let line = lines[ln] as string;
      const m = FILE_LINE.exec(line.replace(/\r$/, ''));
      let lineNo = ln + 1;
      if (m) {
        const parsed = JSON.parse(m[2] as string) as unknown;
        if (m[1] === 'fileOptions') {
          common = parsed as Json;
          continue;
        }
        if (m[1] === 'filterOptions') {
          tests = [];
          ignoreBlock = false;
          for (const fo of (Array.isArray(parsed) ? parsed : [parsed]) as Json[]) {
            const opts: Json = { ...common, ...fo };
            if (opts['test.condition']) ignoreBlock = !evalCondition(String(opts['test.condition']), name, opts);
            if (ignoreBlock) continue;
            const fltOpts = Object.fromEntries(Object.entries(opts).filter(([k]) => !k.startsWith('test.')));
            const fltName = name + String(opts['test.filter-name'] ?? (Object.keys(fltOpts).length ? JSON.stringify(fltOpts) : ''));
            tests.push({ fltName, engine: engineFor(fltName, opts), opts });
          }
          continue;
        }
        if (m[1] === 'addFILE') {
          files.push(parsed as string);
          continue;
        }
        data = parsed as Json;
        ln++;
        lineNo = ln + 1;
        line = lines[ln] ?? '';
      } else if (ignoreBlock || line.startsWith('#') || line.trim() === '') continue;
      else data = {};
      if (ignoreBlock) continue;
      if (!tests) tests = [{ fltName: name, engine: engineFor(name, {}), opts: {} }];
      line = line.replace(/\r?\n?$/, '').replace(/\r$/, '');
      for (const { engine, opts } of tests) {
        if (data.constraint && !evalCondition(String(data.constraint), name, opts)) continue;
        let found: EngineFailure[];
        let problem: string;
        try {
          found = opts.logtype !== 'journal'
            ? engine.processLine(line)
            : engine.processLine(String(opts['test.prefix-line'] ?? '') + line, { timeText: TEST_NOW_STR, time: TEST_NOW });
          problem = compare(found.filter((f) => f.fid !== null && !f.fields.nofail), data);
        } catch (err) {
          problem = `error: ${(err as Error).message}`;
        }
        result.checked++;
        if (problem === '') result.agree++;
        else {
          const o = Object.fromEntries(Object.entries(opts).filter(([k]) => !k.startsWith('test.')));
          result.disagreements.push({ filter: name, where: `${file}:${lineNo}`, options: JSON.stringify(o), problem });
        }
      }
    }
  }
  return result;
}

/** Disagreements explained in docs/compatibility.md: lines `- \`file:line\` ...`. */
function knownDisagreements(): Set<string> {
  const known = new Set<string>();
  if (!existsSync(DOC)) return known;
  for (const m of readFileSync(DOC, 'utf8').matchAll(/^- `([^`]+:\d+)`(?: `(\{[^`]*\})`)?/gm)) known.add(`${m[1]} ${m[2] ?? '{}'}`);
  return known;
}

function writeTotals(version: string, results: Map<string, FilterResult>, first: Map<string, FilterResult>): void {
  let checked = 0;
  let agree = 0;
  const rows: string[] = [];
  for (const [name, r] of [...results].sort(([a], [b]) => a.localeCompare(b))) {
    checked += r.checked;
    agree += r.agree;
    const f = first.get(name);
    rows.push(`| ${name} | ${r.agree} / ${r.checked} | ${f ? `${f.agree} / ${f.checked}` : '-'} |`);
  }
  let firstAgree = 0;
  for (const f of first.values()) firstAgree += f.agree;
  const block = [
    '<!-- compat:begin (written by test/fail2ban-compat.test.ts) -->',
    `fail2ban ${version} (Debian), ${results.size} filters: **${agree} / ${checked}** checked lines agree`,
    `(every failregex tried, as fail2ban's tests run them); ${firstAgree} / ${checked} with the first`,
    'matching failregex winning (as fail2ban runs in production).',
    '',
    '| filter | agreeing / checked | first match |',
    '|---|---|---|',
    ...rows,
    '<!-- compat:end -->',
  ].join('\n');
  const old = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
  const next = /<!-- compat:begin[^]*?<!-- compat:end -->/.test(old)
    ? old.replace(/<!-- compat:begin[^]*?<!-- compat:end -->/, block)
    : `${old}\n${block}\n`;
  if (next !== old) writeFileSync(DOC, next);
}

t.test('fail2ban sample logs against fail2ban filters', async (tt) => {
  let pkg: Fail2banPackage;
  try {
    pkg = fail2banPackage();
  } catch (err) {
    tt.fail((err as Error).message);
    return;
  }
  const logs = join(pkg.tests, 'files', 'logs');
  const stock = join(pkg.etc, 'filter.d');
  // fail2ban's own test filters (zzz-*) include ../../../../../../../config/filter.d/common.conf,
  // a path of fail2ban's source tree: rebuild that layout with links to the package's files.
  const tree = join(tmpdir(), 'fleetban-fail2ban-deb', `${pkg.version}-testtree`);
  const deep = join(tree, 'b', 'c', 'd', 'e', 'f', 'g');
  if (!existsSync(join(deep, 'filter.d'))) {
    mkdirSync(join(tree, 'config'), { recursive: true });
    mkdirSync(deep, { recursive: true });
    if (!existsSync(join(tree, 'config', 'filter.d'))) symlinkSync(stock, join(tree, 'config', 'filter.d'));
    symlinkSync(join(pkg.tests, 'config', 'filter.d'), join(deep, 'filter.d'));
  }
  const filters: Array<[string, string]> = [
    ...readdirSync(stock).filter((f) => f.endsWith('.conf') && !f.endsWith('common.conf')).map((f) => [f.slice(0, -5), stock] as [string, string]),
    ...readdirSync(join(pkg.tests, 'config', 'filter.d')).filter((f) => f.startsWith('zzz-') && f.endsWith('.conf')).map((f) => [f.slice(0, -5), join(deep, 'filter.d')] as [string, string]),
  ];
  const known = knownDisagreements();
  const run = (mode: string, checkAllRegex: boolean): Map<string, FilterResult> => {
    const results = new Map<string, FilterResult>();
    const started = performance.now();
    for (const [name, dir] of filters) {
      if (!existsSync(join(logs, name))) {
        tt.comment(`${name}: no sample log`);
        continue;
      }
      let r: FilterResult;
      try {
        r = runSamples(name, dir, logs, checkAllRegex);
      } catch (err) {
        r = { checked: 1, agree: 0, disagreements: [{ filter: name, where: `${name}:0`, options: '{}', problem: `load: ${(err as Error).message}` }] };
      }
      results.set(name, r);
    }
    let checked = 0;
    let agree = 0;
    for (const [name, r] of results) {
      checked += r.checked;
      agree += r.agree;
      if (checkAllRegex) tt.comment(`${name}: ${r.agree} / ${r.checked}`);
      for (const d of r.disagreements) {
        const listed = known.has(`${d.where} ${d.options}`);
        tt.comment(`  ${mode}: ${listed ? 'known' : 'NEW'}: ${d.where} ${d.options}: ${d.problem}`);
        if (!listed) tt.fail(`${mode}: ${d.where} ${d.options}: ${d.problem}`);
      }
    }
    tt.comment(`${mode}: ${agree} / ${checked} checked lines agree (${results.size} filters, ${Math.round(performance.now() - started)} ms)`);
    tt.ok(checked > 1000, `${mode}: more than a thousand lines checked (${checked})`);
    return results;
  };
  // as fail2ban's own test runs them (every failregex tried on every line) ...
  const results = run('every failregex', true);
  // ... and as fail2ban runs in production (first failregex that matches wins)
  const first = run('first match', false);
  writeTotals(pkg.version, results, first);
});
