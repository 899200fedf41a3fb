/**
 * fail2ban compatibility: Debian's fail2ban package is fetched (apt-get download, cached under
 * os.tmpdir() by version) and every annotated sample log of its test suite (tests/files/logs,
 * `# failJSON:` lines, `# filterOptions:` sets, `# addFILE:`) is run through fleetban's engine with
 * the package's own filter.d, the way fail2ban's samplestestcase.py runs them: time frozen at
 * 2005-08-14 12:00 CEST, time zone CET-01CEST-02,M3.5.0,M10.5.0, every failregex checked per line.
 * A line agrees when the verdict, the address (`host`), the time and every other field the
 * annotation names (user, users, attempts, ...) agree. Totals are printed and written to
 * test/artifacts/compatibility-<version>.md (into docs/compatibility.md, as that version's block,
 * only with FLEETBAN_UPDATE_DOCS=1: a test run leaves the checkout as it was). A disagreement not
 * listed in docs/compatibility.md fails the test. FLEETBAN_FAIL2BAN_DEB=<.deb> checks another
 * release than the machine's own (test/fixtures/fail2ban-package.ts).
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { posixTimeZone } from '../packages/agent/src/filter/date/time-zone.js';
import { type Fail2banPackage, fail2banPackage } from './fixtures/fail2ban-package.js';
import { runSamples, type SampleResult } from './fixtures/fail2ban-samples.js';

const TEST_NOW = 1124013600;
const ZONE = posixTimeZone('CET-01CEST-02,M3.5.0,M10.5.0');
const CLOCK = { nowS: TEST_NOW, zone: ZONE };
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = join(ROOT, 'docs', 'compatibility.md');

/** Per filter: lines checked, lines agreeing, disagreements. */
type FilterResult = Pick<SampleResult, 'checked' | 'agree' | 'disagreements'>;

/** Disagreements explained in docs/compatibility.md: lines `- \`file:line\` ...`. */
function knownDisagreements(): Set<string> {
  const known = new Set<string>();
  if (!existsSync(DOC)) return known;
  for (const m of readFileSync(DOC, 'utf8').matchAll(/^- `([^`]+:\d+)`(?: `(\{[^`]*\})`)?/gm)) known.add(`${m[1]} ${m[2] ?? '{}'}`);
  return known;
}

/** Writes the totals of one release; returns the file written. */
function writeTotals(version: string, results: Map<string, FilterResult>, first: Map<string, FilterResult>): string {
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
  const begin = `<!-- compat:begin ${version} (written by test/fail2ban-compat.test.ts) -->`;
  const block = [
    begin,
    `fail2ban ${version} (Debian), ${results.size} filters: **${agree} / ${checked}** checked lines agree`,
    `(every failregex tried, as fail2ban's tests run them); ${firstAgree} / ${checked} with the first`,
    'matching failregex winning (as fail2ban runs in production).',
    '',
    '| filter | agreeing / checked | first match |',
    '|---|---|---|',
    ...rows,
    '<!-- compat:end -->',
  ].join('\n');
  const artifacts = join(ROOT, 'test', 'artifacts');
  mkdirSync(artifacts, { recursive: true });
  const artifact = join(artifacts, `compatibility-${version}.md`);
  writeFileSync(artifact, `${block}\n`);
  if (process.env.FLEETBAN_UPDATE_DOCS !== '1') return artifact;
  const old = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
  const mine = new RegExp(`<!-- compat:begin ${version.replace(/[.+]/g, '\\$&')} [^]*?<!-- compat:end -->`);
  const next = mine.test(old) ? old.replace(mine, block) : old.replace(/(<!-- compat:end -->)(?![^]*<!-- compat:end -->)/, `$1\n\n${block}`);
  if (next !== old) writeFileSync(DOC, next);
  return DOC;
}

const isTestFilter = (f: string): boolean => f.startsWith('zzz-') && f.endsWith('.conf');

/**
 * fail2ban's own test filters (zzz-*) include common.conf by a path of fail2ban's source tree,
 * `before = ../../…/config/filter.d/common.conf`: seven levels up in 1.0.2, four in 1.1.0. Rebuilds
 * that layout under os.tmpdir() with links to the package's files, as deep as the filters ask,
 * and returns the directory whose `filter.d` holds the test filters.
 */
function testFilterTree(version: string, stock: string, testFilters: string): string {
  let ups = 1;
  for (const f of readdirSync(testFilters).filter(isTestFilter)) {
    const m = /^before\s*=\s*((?:\.\.\/)+)config\/filter\.d\/common\.conf/m.exec(readFileSync(join(testFilters, f), 'utf8'));
    if (m?.[1] !== undefined) ups = Math.max(ups, m[1].length / 3);
  }
  const tree = join(tmpdir(), 'fleetban-fail2ban-deb', `${version}-testtree-${ups}`);
  // <deep>/filter.d/<file> goes `ups` levels up to <tree>: <deep> is ups - 1 levels below it
  const deep = join(tree, ...Array.from({ length: ups - 1 }, (_, i) => `d${i}`));
  if (!existsSync(join(deep, 'filter.d'))) {
    mkdirSync(join(tree, 'config'), { recursive: true });
    mkdirSync(deep, { recursive: true });
    if (!existsSync(join(tree, 'config', 'filter.d'))) symlinkSync(stock, join(tree, 'config', 'filter.d'));
    symlinkSync(testFilters, join(deep, 'filter.d'));
  }
  return deep;
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
  const testFilters = join(pkg.tests, 'config', 'filter.d');
  const deep = testFilterTree(pkg.version, stock, testFilters);
  const filters: Array<[string, string]> = [
    ...readdirSync(stock).filter((f) => f.endsWith('.conf') && !f.endsWith('common.conf')).map((f) => [f.slice(0, -5), stock] as [string, string]),
    ...readdirSync(testFilters).filter(isTestFilter).map((f) => [f.slice(0, -5), join(deep, 'filter.d')] as [string, string]),
  ];
  const known = knownDisagreements();
  const run = (mode: string, checkAllRegex: boolean, split = false): Map<string, FilterResult> => {
    const results = new Map<string, FilterResult>();
    const started = performance.now();
    for (const [name, dir] of filters) {
      if (!existsSync(join(logs, name))) {
        tt.comment(`${name}: no sample log`);
        continue;
      }
      let r: FilterResult;
      try {
        r = runSamples(name, dir, logs, checkAllRegex, CLOCK, split);
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
      if (checkAllRegex && !split) tt.comment(`${name}: ${r.agree} / ${r.checked}`);
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
  // ... and with each line's date and prefregex found by a second engine, as `fleetban regex --threads 2` does
  const split = run('front apart', true, true);
  tt.same([...split].map(([n, r]) => [n, r.agree, r.checked]), [...results].map(([n, r]) => [n, r.agree, r.checked]), 'front apart: the same figures per filter');
  tt.comment(`totals of fail2ban ${pkg.version} written to ${writeTotals(pkg.version, results, first)}`);
});
