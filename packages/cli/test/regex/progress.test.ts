/**
 * `fleetban regex`'s progress line: the formatter, the redraw cadence with a frozen clock, and the
 * built CLI on a long log: no progress at all when stderr is piped, a progress line (erased at the
 * end) when it is a terminal (a pseudo-terminal from util-linux's `script`, when installed).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { formatBytes, formatProgress, progressIntervalMs, progressOn, RegexProgress } from '../../src/regex/progress.js';

const CLI = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

t.test('formatProgress: lines, bytes of the total, percent, rate', async (t) => {
  t.equal(formatProgress({ lines: 1_234_567, bytes: 126_353_408, totalBytes: 1_288_490_188, seconds: 4.9 }), '1,234,567 lines, 120.5 MiB of 1.2 GiB (9%), 251,952 lines/s');
  t.equal(formatProgress({ lines: 0, bytes: 0, totalBytes: 0, seconds: 0 }), '0 lines, 0 B of 0 B (100%), - lines/s', 'an empty file');
  t.equal(formatProgress({ lines: 10, bytes: 2000, totalBytes: 1000, seconds: 1 }), '10 lines, 1000 B of 1000 B (100%), 10 lines/s', 'a file grown while read: capped at its size');
  t.equal(formatBytes(1536), '1.5 KiB');
  t.equal(formatBytes(5 * 1024 ** 4), '5.0 TiB');
});

t.test('RegexProgress: redrawn at most every interval, checked every 4096 lines, erased at the end', async (t) => {
  const written: string[] = [];
  let now = 0;
  const p = new RegexProgress({ isTTY: true, write: (s: string) => written.push(s) }, 100 * 4096, () => now, 250);
  for (let i = 0; i < 4096; i++) p.line(10);
  t.same(written, [], 'nothing before the first interval');
  now = 300;
  for (let i = 0; i < 4095; i++) p.line(10);
  t.same(written, [], 'the clock is read only every 4096 lines');
  p.line(10);
  t.same(written, ['\r8,192 lines, 80.0 KiB of 400.0 KiB (20%), 27,307 lines/s\x1b[K'], 'drawn in place (carriage return, erase to the end)');
  now = 400;
  for (let i = 0; i < 4096; i++) p.line(10);
  t.equal(written.length, 1, 'not again within the interval');
  p.done();
  t.equal(written.at(-1), '\r\x1b[K', 'erased at the end');
  p.done();
  t.equal(written.length, 2, 'once');
  const quiet = new RegexProgress({ isTTY: true, write: () => t.fail('a short run draws nothing') }, 10);
  quiet.line(10);
  quiet.done();
  t.equal(progressOn({ isTTY: false, write: () => undefined }, 10), undefined, 'no progress when the stream is not a terminal');
  t.equal(progressOn({ write: () => undefined }, 10), undefined, 'nor when it does not say');
  t.type(progressOn({ isTTY: true, write: () => undefined }, 10), RegexProgress);
  t.equal(progressIntervalMs({}), 250, 'every 250 ms by default');
  t.equal(progressIntervalMs({ FLEETBAN_REGEX_PROGRESS_MS: '0' }), 0);
  t.equal(progressIntervalMs({ FLEETBAN_REGEX_PROGRESS_MS: 'soon' }), 250, 'a bad value: the default');
});

t.test('the built CLI on a long log', async (t) => {
  const dir = t.testdir();
  const log = join(dir, 'auth.log');
  const lines: string[] = [];
  for (let i = 0; i < 200_000; i++) lines.push(`2026-11-21T10:00:${String(i % 60).padStart(2, '0')}.000000+00:00 web-1 sshd[${i}]: Failed password for root from 192.0.2.${i % 250} port 40000 ssh2`);
  writeFileSync(log, `${lines.join('\n')}\n`);

  const env = { ...process.env, FLEETBAN_REGEX_PROGRESS_MS: '0' };
  const piped = spawnSync(process.execPath, [CLI, 'regex', log, 'sshd'], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26, env });
  t.equal(piped.status, 0, piped.stderr);
  t.equal(piped.stderr, '', 'stderr piped: no progress at all (even redrawn at every check)');
  t.match(piped.stdout, /Lines: 200000 lines, 0 ignored, 200000 matched, 0 missed/);
  t.notMatch(piped.stdout, /lines\/s/, 'none on stdout either');
  const json = spawnSync(process.execPath, [CLI, 'regex', '--json', log, 'sshd'], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28, env });
  t.equal(json.stderr, '', '--json piped: no progress');

  const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (script.status !== 0) {
    t.comment('no util-linux script: the terminal case is covered by the unit test only');
    return;
  }
  // `script` runs the command on a pseudo-terminal: stdout and stderr are both that terminal
  const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} regex ${JSON.stringify(log)} sshd`;
  // redrawn at every check (every 4096 lines): the run is shorter than the default interval on a fast machine
  const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 26, env: { ...process.env, FLEETBAN_REGEX_PROGRESS_MS: '0' } });
  t.equal(tty.status, 0, tty.stderr);
  t.match(tty.stdout, /\r[\d,]+ lines, [\d.]+ \w?i?B of [\d.]+ MiB \(\d+%\), [\d,]+ lines\/s\x1b\[K/, 'on a terminal: the progress line');
  t.match(tty.stdout, /\r\x1b\[K/, 'erased before the summary');
  t.match(tty.stdout, /Lines: 200000 lines/, 'and the summary');
});
