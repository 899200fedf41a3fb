/**
 * `fleetban regex` (the built CLI, spawned): fail2ban-regex's summary, --json, --print-all-missed,
 * literal failregexes, -c DIR, broken filters, and fail2ban's own sshd filter from Debian's
 * package. Needs `npm run build` first; no fleetban configuration, no NATS.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { fail2banPackage } from '../../../test/fixtures/fail2ban-package.js';

const CLI = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

function regex(...args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, 'regex', ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, timeout: 60_000, maxBuffer: 1 << 26 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function counts(out: string): { lines: number; ignored: number; matched: number; missed: number } | null {
  const m = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/.exec(out);
  return m ? { lines: Number(m[1]), ignored: Number(m[2]), matched: Number(m[3]), missed: Number(m[4]) } : null;
}

function json(out: string): Array<Record<string, unknown>> {
  return out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

const at = (iso: string): number => Date.parse(iso) / 1000;

const LOG = `2026-11-21T10:00:00.100000+00:00 web-1 sshd[100]: Failed password for root from 192.0.2.10 port 40000 ssh2
2026-11-21T10:00:01.000000+00:00 web-1 sshd[101]: Invalid user admin from 2001:db8::5 port 40001
2026-11-21T10:00:02.000000+00:00 web-1 CRON[200]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)
# a comment: skipped, as fail2ban-regex skips it

2026-11-21T10:00:03.000000+00:00 web-1 sshd[102]: Failed password for invalid user test from 198.51.100.7 port 40002 ssh2
2026-11-21T10:00:04.000000+00:00 web-1 sshd[103]: Failed password for root from 192.0.2.99 port 40003 ssh2
Nov 21 10:00:05 web-1 sshd[104]: Accepted publickey for deploy from 203.0.113.5 port 40004 ssh2: ED25519 SHA256:abc
`;

const DEMO = `[Definition]
prefregex = ^\\s*\\S+ sshd\\[\\d+\\]: <F-CONTENT>.+</F-CONTENT>$
failregex = ^Failed password for (?:invalid user )?<F-USER>\\S+</F-USER> from <HOST> port \\d+ ssh2$
            ^Invalid user <F-USER>\\S+</F-USER> from <HOST> port \\d+$
ignoreregex = from 192\\.0\\.2\\.99 port
`;

t.test('summary: lines matched, ignored and missed, hits per regex and per date template', async (t) => {
  const dir = t.testdir({ 'auth.log': LOG, 'demo.conf': DEMO });
  const r = regex(join(dir, 'auth.log'), join(dir, 'demo.conf'));
  t.equal(r.code, 0, r.err);
  t.same(counts(r.out), { lines: 6, ignored: 1, matched: 3, missed: 2 });
  t.match(r.out, /Failregex: 3 total\n\|- {2}#\) \[# of hits\] regular expression\n\| {3}1\) \[2\] \^Failed password/);
  t.match(r.out, /\| {3}2\) \[1\] \^Invalid user/);
  t.match(r.out, /Ignoreregex: 1 total/);
  t.match(r.out, /Prefregex: 5 total/);
  t.match(r.out, /\[5\] \{\^LN-BEG\}ExYear\(\?P<_sep>/, 'ISO dates counted under their template');
  t.match(r.out, /\[1\] \{\^LN-BEG\}\(\?:DAY \)\?MON Day/, 'the syslog date under its own');
  t.match(r.out, /Use {3}failregex filter file : demo, basedir: /);
  t.match(r.out, /\|- Ignored line\(s\):\n\| {2}.*192\.0\.2\.99/);
});

t.test('--json: one object per failure, in log order, with ip, time and the F-* fields', async (t) => {
  const dir = t.testdir({ 'auth.log': LOG, 'demo.conf': DEMO });
  const r = regex('--json', join(dir, 'auth.log'), join(dir, 'demo.conf'));
  t.equal(r.code, 0, r.err);
  t.same(json(r.out), [
    { ip: '192.0.2.10', time: at('2026-11-21T10:00:00Z'), regex: 1, user: 'root' },
    { ip: '2001:db8::5', time: at('2026-11-21T10:00:01Z'), regex: 2, user: 'admin' },
    { ip: '198.51.100.7', time: at('2026-11-21T10:00:03Z'), regex: 1, user: 'test' },
  ]);
});

t.test('--print-all-missed prints every missed line; a single line given as LOG', async (t) => {
  const dir = t.testdir({ 'auth.log': LOG, 'demo.conf': DEMO });
  const r = regex('--print-all-missed', join(dir, 'auth.log'), join(dir, 'demo.conf'));
  t.equal(r.code, 0, r.err);
  const missed = /\|- Missed line\(s\):\n((?:\| .*\n)+)`-/.exec(r.out)?.[1]?.split('\n').filter((l) => l !== '');
  t.same(missed, [
    '|  2026-11-21T10:00:02.000000+00:00 web-1 CRON[200]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)',
    '|  Nov 21 10:00:05 web-1 sshd[104]: Accepted publickey for deploy from 203.0.113.5 port 40004 ssh2: ED25519 SHA256:abc',
  ]);
  const one = regex('2026-11-21T10:00:01+00:00 web-1 sshd[101]: Invalid user admin from 192.0.2.7 port 40001', join(dir, 'demo.conf'));
  t.match(one.out, /Use {6}single line : /);
  t.same(counts(one.out), { lines: 1, ignored: 0, matched: 1, missed: 0 });
});

t.test('a literal failregex, and a literal ignoreregex', async (t) => {
  const dir = t.testdir({ 'auth.log': LOG });
  const r = regex(join(dir, 'auth.log'), 'sshd\\[\\d+\\]: Failed password for (?:invalid user )?<F-USER>\\S+</F-USER> from <HOST> port');
  t.equal(r.code, 0, r.err);
  t.match(r.out, /Use {3}failregex line : sshd/);
  t.same(counts(r.out), { lines: 6, ignored: 0, matched: 3, missed: 3 });
  const ig = regex('--json', join(dir, 'auth.log'), 'Failed password for \\S+ from <HOST> port', 'from 192\\.0\\.2\\.99 ');
  t.same(json(ig.out).map((o) => o.ip), ['192.0.2.10']);
});

t.test('-c DIR: DIR/filter.d is searched first, filter options in the name', async (t) => {
  const dir = t.testdir({
    'auth.log': LOG,
    conf: {
      'filter.d': {
        'sshd.conf': `[Definition]
mode = normal
ok-normal = Accepted
ok-extra = Accepted|Failed
failregex = ^\\s*\\S+ sshd\\[\\d+\\]: (?:<ok-<mode>>) \\S+ for (?:invalid user )?<F-USER>\\S+</F-USER> from <HOST> port
`,
      },
    },
  });
  const r = regex('-c', join(dir, 'conf'), '--json', join(dir, 'auth.log'), 'sshd');
  t.equal(r.code, 0, r.err);
  t.same(json(r.out).map((o) => [o.ip, o.user]), [['203.0.113.5', 'deploy']]);
  const extra = regex('-c', join(dir, 'conf'), join(dir, 'auth.log'), 'sshd[mode=extra]');
  t.same(counts(extra.out), { lines: 6, ignored: 0, matched: 4, missed: 2 });
  t.match(extra.out, /Use {3}filter options : \[mode=extra\]/);
});

t.test('a filter that cannot be read or translated fails with its path, exit code 1', async (t) => {
  const dir = t.testdir({
    'auth.log': LOG,
    'bad.conf': '[Definition]\nfailregex = ^ok <HOST>\n            ^bad (?<name>\\S+) <HOST>\n',
    'noclose.conf': '[Definition]\nfailregex = ^bad [unclosed <HOST>\n',
  });
  for (const f of ['bad.conf', 'noclose.conf']) {
    const path = join(dir, f);
    const r = regex(join(dir, 'auth.log'), path);
    t.equal(r.code, 1, `${f}: exit code`);
    t.match(r.err, `filter ${path}: failregex[`, `${f}: names the file and the regex`);
    t.equal(r.out, '', `${f}: nothing on stdout`);
  }
  const missing = join(dir, 'nope', 'missing.conf');
  const r = regex(join(dir, 'auth.log'), missing);
  t.equal(r.code, 1);
  t.match(r.err, missing);
  const usage = regex(join(dir, 'auth.log'));
  t.equal(usage.code, 2, 'a missing argument is a usage error');
});

t.test("fail2ban's own sshd filter from Debian's package (as fail2ban-regex 1.0.2 reads it)", async (t) => {
  let etc: string;
  try {
    etc = fail2banPackage().etc;
  } catch (err) {
    t.fail((err as Error).message);
    return;
  }
  const dir = t.testdir({
    'auth.log': `Nov 21 10:00:00 web-1 sshd[100]: Failed password for root from 192.0.2.10 port 40000 ssh2
Nov 21 10:00:01 web-1 sshd[101]: Invalid user admin from 198.51.100.7 port 40001
Nov 21 10:00:02 web-1 sshd[101]: Failed password for invalid user admin from 198.51.100.7 port 40001 ssh2
Nov 21 10:00:03 web-1 CRON[200]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)
Nov 21 10:00:04 web-1 sshd[102]: Connection closed by authenticating user root 203.0.113.5 port 40002 [preauth]
2026-11-21T10:00:05.123456+00:00 web-1 sshd[103]: Failed password for root from 2001:db8::5 port 40003 ssh2
2026-11-21T10:00:06.123456+00:00 web-1 sshd[104]: Accepted publickey for deploy from 192.0.2.20 port 40004 ssh2: ED25519 SHA256:abc
`,
  });
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'empty', 'README'), 'not a fail2ban configuration\n');
  // what fail2ban-regex -c /etc/fail2ban prints for this log (checked by hand against 1.0.2)
  const r = regex('-c', etc, join(dir, 'auth.log'), 'sshd');
  t.equal(r.code, 0, r.err);
  t.same(counts(r.out), { lines: 7, ignored: 2, matched: 4, missed: 1 });
  t.match(r.out, /Failregex: 6 total/);
  t.match(r.out, /\| {3}4\) \[3\] \^Failed /);
  const normal = json(regex('-c', etc, '--json', join(dir, 'auth.log'), 'sshd').out);
  t.same(normal.map((o) => [o.ip, o.user]), [['192.0.2.10', 'root'], ['198.51.100.7', 'admin'], ['198.51.100.7', 'admin'], ['2001:db8::5', 'root']]);
  t.equal(normal[3]?.time, at('2026-11-21T10:00:05Z'), 'microseconds dropped, as fail2ban drops them');
  const aggressive = json(regex('-c', etc, '--json', join(dir, 'auth.log'), 'sshd[mode=aggressive]').out);
  t.same(aggressive.map((o) => o.ip), ['192.0.2.10', '198.51.100.7', '198.51.100.7', '203.0.113.5', '2001:db8::5']);
  // -c naming a directory without filter.d: the name is looked up on the usual path
  const fallback = regex('-c', join(dir, 'empty'), join(dir, 'auth.log'), join(etc, 'filter.d', 'sshd.conf'));
  t.same(counts(fallback.out), { lines: 7, ignored: 2, matched: 4, missed: 1 }, 'a filter given by path');
});

t.test('--threads 2: a second thread reads the log, finds the dates and the prefregex, with the same output as one thread', async (t) => {
  // (a smaller log than the thread is used for by default) a very long line, date formats switching (the detector
  // reorders its templates), lines without a date, comments, empty lines, CRLF, UTF-8, and a last
  // line without its newline
  const kinds = [
    (i: number) => `Nov 21 10:${String(i % 60).padStart(2, '0')}:00 web-1 sshd[${i}]: Failed password for root from 192.0.2.${i % 250} port ${i} ssh2`,
    (i: number) => `2026-11-21T10:00:${String(i % 60).padStart(2, '0')}.${i % 1000}+00:00 web-1 sshd[${i}]: Invalid user admin from 2001:db8::${(i % 4096).toString(16)} port ${i}`,
    (i: number) => `web-1 sshd[${i}]: Failed password for invalid user bob from 198.51.100.${i % 250} port ${i} ssh2`,
    (i: number) => `# comment ${i}`,
    () => '',
    (i: number) => `Nov 21 11:00:00 web-1 sshd[${i}]: Failed password for invalid user jörg from 203.0.113.${i % 250} port ${i} ssh2\r`,
    (i: number) => `21/Nov/2026:12:00:${String(i % 60).padStart(2, '0')} +0000 web-1 sshd[${i}]: Connection closed by 192.0.2.${i % 250} port ${i} [preauth]`,
  ];
  // (the first line is longer than the worker's first piece, 64 KiB)
  const lines: string[] = [`Nov 21 09:59:59 web-1 sshd[1]: ${'x'.repeat(100_000)}`];
  // (and one longer than a piece, 1 MiB, which the worker then sends as text)
  const long = `Nov 21 09:59:59 web-1 sshd[2]: Failed password for ${'y'.repeat(1_200_000)} from 192.0.2.9 port 1 ssh2`;
  for (let i = 0, size = 0; size < 2 ** 21; i++) {
    const line = i === 5000 ? long : (kinds[Math.floor(i / 97) % kinds.length] as (i: number) => string)(i);
    lines.push(line);
    size += line.length + 1;
  }
  const dir = t.testdir({ 'auth.log': `${lines.join('\n')}\nNov 21 12:00:00 web-1 sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2` });
  const log = join(dir, 'auth.log');
  const two = regex('--threads', '2', '--print-all-matched', log, 'sshd');
  const one = regex('--threads', '1', '--print-all-matched', log, 'sshd');
  t.equal(two.code, 0, two.err);
  t.match(two.out, /Use {10}threads : 2/, 'the second thread was used');
  t.notMatch(one.out, /Use {10}threads/);
  const strip = (out: string): string => out.replace(/\[processed in [\d.]+ sec\]/, '').replace(/Use {10}threads : .*\n/, '');
  t.equal(strip(two.out), strip(one.out), 'summary and matched lines');
  const c = counts(two.out);
  t.ok(c !== null && c.matched > 5_000, 'many lines matched');
  t.equal(two.out.split('\n').filter((l) => l.startsWith('|  ') && / sshd\[\d+\]: /.test(l)).length, c?.matched, 'every matched line printed, through a pipe (output not cut at exit)');
  const jsonTwo = regex('--threads', '2', '--json', log, 'sshd[mode=aggressive]');
  const jsonOne = regex('--threads', '1', '--json', log, 'sshd[mode=aggressive]');
  // (a line without a date is given the time it is read at)
  const dated = (out: string): unknown[] => json(out).map((o) => (o.user === 'bob' ? { ...o, time: 'now' } : o));
  t.same(dated(jsonTwo.out), dated(jsonOne.out), '--json, failure by failure');
  t.ok(json(jsonTwo.out).length > 5_000);
  t.equal(regex('--threads', '3', log, 'sshd').code, 2, '--threads 3 is a usage error');
});
