/**
 * fleetban's own filters (packages/agent/filter.d) against their annotated samples
 * (packages/agent/test/samples/<filter name>, fail2ban's `# failJSON:` format, one file per
 * filter), run by the same runner as fail2ban's own samples (test/fixtures/fail2ban-samples.ts):
 * time frozen at 2026-11-21 12:00 UTC (annotation times are UTC), every failregex tried on
 * every line as fail2ban's tests do, then the first match winning as in production. Every
 * annotated line must agree, every failregex of every filter-options set must match at least
 * one line, every filter must have a sample file and every sample file a filter.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { fixedTimeZone } from '../src/filter/date/time-zone.js';
import { PROJECT_FILTER_DIR } from '../src/filter/filter-file.js';
import { loadFilter } from '../src/filter/filter-file.js';
import { FilterRegex } from '../src/filter/fail-regex.js';
import { runSamples, type SampleClock } from '../../../test/fixtures/fail2ban-samples.js';

const SAMPLES = join(dirname(fileURLToPath(import.meta.url)), 'samples');
const CLOCK: SampleClock = { nowS: Date.UTC(2026, 10, 21, 12, 0, 0) / 1000, zone: fixedTimeZone(0) };

/** Filter files of the project directory; include-only files (no failregex) are not filters. */
function ownFilters(): string[] {
  return readdirSync(PROJECT_FILTER_DIR)
    .filter((f) => f.endsWith('.conf') && /^failregex\s*=/m.test(readFileSync(join(PROJECT_FILTER_DIR, f), 'utf8')))
    .map((f) => f.slice(0, -'.conf'.length))
    .sort();
}

const filters = ownFilters();

t.test('every filter has a sample file and every sample file a filter', async (tt) => {
  const samples = readdirSync(SAMPLES).sort();
  tt.same(samples, filters);
  tt.ok(filters.length >= 17, `${filters.length} filters`);
});

for (const name of filters) {
  t.test(`${name}: annotated samples`, async (tt) => {
    for (const [mode, checkAll] of [['every failregex', true], ['first match', false]] as const) {
      const r = runSamples(name, PROJECT_FILTER_DIR, SAMPLES, checkAll, CLOCK);
      for (const d of r.disagreements) tt.fail(`${mode}: ${d.where} ${d.options}: ${d.problem}`);
      tt.equal(r.agree, r.checked, `${mode}: ${r.agree} / ${r.checked} lines agree`);
      tt.ok(r.checked > 0, `${mode}: lines checked`);
      if (!checkAll) continue;
      // fail2ban's rule: every failregex of every filter-options set has a sample
      for (const u of r.usage) {
        const missing = u.regexes.map((_r, i) => i).filter((i) => !u.used.has(i));
        tt.same(missing, [], `${u.fltName}: every failregex (${u.regexes.length}) matched a sample line`);
      }
    }
  });
}

t.test('sample annotations report documentation addresses only', async (tt) => {
  const doc = /^(?:192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|2001:db8:)/i;
  for (const name of filters) {
    const text = readFileSync(join(SAMPLES, name), 'utf8');
    for (const m of text.matchAll(/^#+ ?failJSON:(.+)$/gm)) {
      const host = (JSON.parse(m[1] as string) as { host?: string }).host;
      if (host !== undefined && !doc.test(host)) tt.fail(`${name}: ${host} is not a documentation address`);
    }
  }
  tt.pass('checked');
});

t.test("http-patterns: the default cdn option is Cloudflare's published ranges, nothing more", async (tt) => {
  // Cloudflare's ranges (https://www.cloudflare.com/ips/): the data the `cdn` regex encodes.
  const v4 = ['173.245.48.0/20', '103.21.244.0/22', '103.22.200.0/22', '103.31.4.0/22', '141.101.64.0/18', '108.162.192.0/18', '190.93.240.0/20',
    '188.114.96.0/20', '197.234.240.0/22', '198.41.128.0/17', '162.158.0.0/15', '104.16.0.0/13', '104.24.0.0/14', '172.64.0.0/13', '131.0.72.0/22'];
  const v6 = ['2400:cb00::/32', '2606:4700::/32', '2803:f800::/32', '2405:b500::/32', '2405:8100::/32', '2a06:98c0::/29', '2c0f:f248::/32'];
  const f = loadFilter('npm-access', { searchPath: [PROJECT_FILTER_DIR] });
  const cdnSource = readFileSync(join(PROJECT_FILTER_DIR, 'http-patterns.conf'), 'utf8').match(/^cdn = (.+)$/m)?.[1];
  tt.ok(cdnSource && f.spec.failregex[0]?.includes(cdnSource), 'npm-access uses the default cdn');
  const re = new FilterRegex(`^(?:${cdnSource}) <ADDR>$`, { multiline: false, useDns: 'no' });
  const isCdn = (ip: string): boolean => re.search(`${ip} 192.0.2.1\n`, [['', '', `${ip} 192.0.2.1`]]) !== null;
  const toInt = (s: string): number => s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
  const inV4 = (ip: string): boolean => v4.some((c) => {
    const [n, b] = c.split('/') as [string, string];
    const mask = (0xffffffff << (32 - Number(b))) >>> 0;
    return ((toInt(ip) & mask) >>> 0) === ((toInt(n) & mask) >>> 0);
  });
  let wrong = 0;
  let checked = 0;
  for (let a = 96; a < 200; a++) {
    for (let b = 0; b < 256; b++) {
      for (const c of [0, 3, 4, 7, 8, 47, 48, 63, 64, 95, 96, 111, 112, 127, 128, 191, 192, 199, 200, 203, 204, 239, 240, 243, 244, 247, 248, 255]) {
        const ip = `${a}.${b}.${c}.${(a * b + c) % 256}`;
        checked++;
        if (isCdn(ip) !== inV4(ip) && wrong++ < 5) tt.fail(`${ip}: cdn says ${isCdn(ip)}, ranges say ${inV4(ip)}`);
      }
    }
  }
  tt.equal(wrong, 0, `${checked} IPv4 addresses agree with the ranges`);
  for (const c of v6) {
    const [n, b] = c.split('/') as [string, string];
    const hex = n.split(':');
    const second = parseInt(hex[1] as string, 16);
    const span = 1 << (32 - Number(b));
    tt.ok(isCdn(`${hex[0]}:${(second + span - 1).toString(16)}::1`), `${c}: last /32 inside`);
    tt.ok(isCdn(`${hex[0]}:${hex[1]}:1::2`), `${c}: first inside`);
    tt.notOk(isCdn(`${hex[0]}:${(second + span).toString(16)}::1`), `${c}: next block outside`);
  }
  tt.notOk(isCdn('2001:db8::1'), 'documentation IPv6 is not the CDN');
  tt.notOk(isCdn('104.16.0.1.5'), 'a longer dotted string is not an address of the CDN');
});
