import { appendFileSync, mkdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { silentLogger } from '@fleetban/shared';
import { expandGlob, hasWildcard } from '../src/tail/glob.js';
import { FileTail, type FileTailOptions, type LogLine } from '../src/tail/file-tail.js';

const WAIT_MS = 5000;

/** Collects lines; `until` resolves when a condition on them holds, and fails the test on timeout. */
class Lines {
  readonly got: LogLine[] = [];
  private checks: Array<() => void> = [];

  readonly onLine = (l: LogLine): void => {
    this.got.push(l);
    for (const check of [...this.checks]) check();
  };

  texts(): string[] {
    return this.got.map((l) => l.text);
  }

  /** Resolves once `cond()` is true, checked now and after every line. */
  until(cond: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return;
        clearTimeout(timer);
        this.checks = this.checks.filter((c) => c !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.checks = this.checks.filter((c) => c !== check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.texts())}`));
      }, WAIT_MS);
      this.checks.push(check);
      check();
    });
  }

  /** Resolves once the last line delivered is `text`. */
  last(text: string): Promise<void> {
    return this.until(() => this.got.at(-1)?.text === text, `line ${JSON.stringify(text)}`);
  }
}

/** Starts a tail with test-speed polling; stopped at teardown. */
async function follow(tt: Test, globs: string[], opts: Partial<FileTailOptions> = {}): Promise<{ tail: FileTail; lines: Lines }> {
  const tail = new FileTail({ globs, pollMs: 10, rescanMs: 40, logger: silentLogger(), clock: Date.now, ...opts });
  const lines = new Lines();
  tt.teardown(() => tail.stop());
  await tail.start(lines.onLine);
  return { tail, lines };
}

t.test('glob: wildcards in any segment, regular files only, sorted', async (tt) => {
  const dir = tt.testdir({
    'proxy-host-2_access.log': '', 'proxy-host-1_access.log': '', 'proxy-host-1_error.log': '', 'proxy-host-10_access.log': '',
    srv: {
      b: { logs: { 'y.log': '', '.hidden.log': '', 'sub.log': {} } },
      a: { logs: { 'x.log': '', 'x.txt': '' } },
      c: { 'logs.log': '' },
      'notadir': '',
    },
  });
  tt.same(await expandGlob(join(dir, 'proxy-host-*_access.log')),
    ['proxy-host-10_access.log', 'proxy-host-1_access.log', 'proxy-host-2_access.log'].map((f) => join(dir, f)));
  tt.same(await expandGlob(join(dir, 'srv/*/logs/*.log')), [join(dir, 'srv/a/logs/x.log'), join(dir, 'srv/b/logs/y.log')],
    'no hidden files, no directories');
  tt.same(await expandGlob(join(dir, 'srv/*/logs/.*.log')), [join(dir, 'srv/b/logs/.hidden.log')], 'a dot pattern matches hidden');
  tt.same(await expandGlob(join(dir, 'proxy-host-?_*.log')),
    ['proxy-host-1_access.log', 'proxy-host-1_error.log', 'proxy-host-2_access.log'].map((f) => join(dir, f)));
  tt.same(await expandGlob(join(dir, 'proxy-host-[!1]_access.log')), [join(dir, 'proxy-host-2_access.log')]);
  tt.same(await expandGlob(join(dir, 'proxy-host-[12]_a*')), [join(dir, 'proxy-host-1_access.log'), join(dir, 'proxy-host-2_access.log')]);
  tt.same(await expandGlob(join(dir, 'srv/a/logs/x.log')), [join(dir, 'srv/a/logs/x.log')], 'no wildcard, exists');
  tt.same(await expandGlob(join(dir, 'srv/a/logs/none.log')), [], 'no wildcard, missing');
  tt.same(await expandGlob(join(dir, 'srv/b/logs/sub.log')), [], 'a directory is not a log file');
  tt.same(await expandGlob(join(dir, 'nowhere/*/x.log')), []);
  tt.equal(hasWildcard('/var/log/auth.log'), false);
  tt.equal(hasWildcard('/var/log/[x'), false, 'an unclosed [ is literal');
  tt.equal(hasWildcard('/srv/*/logs/a.log'), true);
});

t.test('a file present at start is read from its end', async (tt) => {
  const dir = tt.testdir({ 'auth.log': 'old 1\nold 2\n' });
  const path = join(dir, 'auth.log');
  const { tail, lines } = await follow(tt, [path]);
  appendFileSync(path, 'new 1\nnew 2\n');
  await lines.last('new 2');
  tt.same(lines.texts(), ['new 1', 'new 2']);
  tt.equal(lines.got[0]?.path, path);
  tt.ok(Math.abs((lines.got[0]?.readMs ?? 0) - Date.now()) < WAIT_MS, 'readMs from the clock');
  const c = tail.counters();
  tt.same({ files: c.files, lines: c.lines, skipped: c.skipped, bytesBehind: c.bytesBehind }, { files: 1, lines: 2, skipped: 0, bytesBehind: 0 });
});

t.test('files that appear later are read from their start', async (tt) => {
  const dir = tt.testdir({ 'proxy-host-1_access.log': 'old\n' });
  const literal = join(dir, 'later.log');
  const { tail, lines } = await follow(tt, [join(dir, 'proxy-host-*_access.log'), literal]);
  tt.equal(tail.counters().files, 1, 'the missing literal path is not an error');
  writeFileSync(join(dir, 'proxy-host-2_access.log'), 'p2 a\np2 b\n');
  await lines.last('p2 b');
  writeFileSync(literal, 'late a\nlate b\n');
  await lines.last('late b');
  appendFileSync(join(dir, 'proxy-host-1_access.log'), 'p1 new\n');
  await lines.last('p1 new');
  tt.same(lines.texts(), ['p2 a', 'p2 b', 'late a', 'late b', 'p1 new']);
  tt.equal(tail.counters().files, 3);
});

t.test('a partial line is kept until its newline arrives', async (tt) => {
  const dir = tt.testdir({ 'a.log': '' });
  const path = join(dir, 'a.log');
  const { lines } = await follow(tt, [path]);
  appendFileSync(path, 'first\npar');
  await lines.last('first');
  appendFileSync(path, 'tial\n');
  await lines.last('partial');
  tt.same(lines.texts(), ['first', 'partial']);
});

t.test('\\r\\n, invalid UTF-8 and empty lines', async (tt) => {
  const dir = tt.testdir({ 'a.log': '' });
  const path = join(dir, 'a.log');
  const { lines } = await follow(tt, [path]);
  appendFileSync(path, Buffer.concat([
    Buffer.from('crlf\r\n\n\r\nbad '), Buffer.from([0xff, 0xc3]), Buffer.from(' end\nutf8 é ✓\n'),
  ]));
  await lines.last('utf8 é ✓');
  tt.same(lines.texts(), ['crlf', 'bad \uFFFD\uFFFD end', 'utf8 é ✓'], 'empty lines are not delivered');
});

t.test('truncation: reading restarts at 0', async (tt) => {
  const dir = tt.testdir({ 'a.log': 'x'.repeat(200) + '\n' });
  const path = join(dir, 'a.log');
  const { lines } = await follow(tt, [path]);
  appendFileSync(path, 'before\n');
  await lines.last('before');
  truncateSync(path, 0);
  appendFileSync(path, 'after 1\nafter 2\n');
  await lines.last('after 2');
  tt.same(lines.texts(), ['before', 'after 1', 'after 2']);
});

t.test('rename rotation: every line exactly once, old file finished first', async (tt) => {
  for (const kind of ['literal path', 'glob'] as const) {
    const dir = tt.testdir({ 'a.log': 'old\n' });
    const path = join(dir, 'a.log');
    const { lines } = await follow(tt, [kind === 'glob' ? join(dir, '*.log') : path]);
    for (let round = 1; round <= 3; round++) {
      appendFileSync(path, `r${round} before 1\nr${round} before 2\n`);
      renameSync(path, `${path}.${round}`);
      appendFileSync(`${path}.${round}`, `r${round} late write to the old file\n`); // the writer still has it open
      writeFileSync(path, `r${round} new 1\nr${round} new 2\n`);
      await lines.last(`r${round} new 2`);
    }
    appendFileSync(path, 'end\n');
    await lines.last('end');
    const want = [1, 2, 3].flatMap((r) => [`r${r} before 1`, `r${r} before 2`, `r${r} late write to the old file`, `r${r} new 1`, `r${r} new 2`]);
    tt.same(lines.texts(), [...want, 'end'], kind);
  }
});

t.test('over-long lines are skipped and counted; the next line is read', async (tt) => {
  const dir = tt.testdir({ 'a.log': '', 'b.log': '' });
  const a = join(dir, 'a.log');
  const { tail, lines } = await follow(tt, [a], { maxLineBytes: 100 });
  appendFileSync(a, `${'x'.repeat(500)}\nok 1\n${'y'.repeat(100)}\n`);
  await lines.last(`${'y'.repeat(100)}`);
  appendFileSync(a, 'z'.repeat(150)); // grows past the limit before its newline arrives
  appendFileSync(a, `${'z'.repeat(50)}\nok 2\n`);
  await lines.last('ok 2');
  tt.same(lines.texts(), ['ok 1', 'y'.repeat(100), 'ok 2'], 'exactly maxLineBytes is still a line');
  tt.equal(tail.counters().skipped, 2);

  // default limit (64 KiB), a line spanning several 64 KiB reads
  const b = join(dir, 'b.log');
  const big = await follow(tt, [b]);
  appendFileSync(b, `${'q'.repeat(200 * 1024)}\nafter big\n`);
  await big.lines.last('after big');
  tt.same(big.lines.texts(), ['after big']);
  tt.equal(big.tail.counters().skipped, 1);
});

t.test('binary junk (NUL bytes) is skipped and counted', async (tt) => {
  const dir = tt.testdir({ 'a.log': '' });
  const path = join(dir, 'a.log');
  const { tail, lines } = await follow(tt, [path]);
  appendFileSync(path, Buffer.concat([Buffer.from('text 1\nbin\0ary\n\0\0\0\0\n'), Buffer.from('text 2\n')]));
  await lines.last('text 2');
  appendFileSync(path, 'par\0');
  appendFileSync(path, 'tial\ntext 3\n');
  await lines.last('text 3');
  tt.same(lines.texts(), ['text 1', 'text 2', 'text 3']);
  tt.equal(tail.counters().skipped, 3);
});

t.test('stop() stops: no line after it resolves, files closed', async (tt) => {
  const dir = tt.testdir({ 'a.log': '' });
  const path = join(dir, 'a.log');
  const { tail, lines } = await follow(tt, [path]);
  appendFileSync(path, 'one\n');
  await lines.last('one');
  await tail.stop();
  tt.equal(tail.counters().files, 0);
  appendFileSync(path, 'after stop\n');
  // a second tail on the same file is the clock: once it has seen three separate writes, the
  // stopped one has had many poll periods to (wrongly) deliver 'after stop'
  const witness = await follow(tt, [path]);
  for (const n of [1, 2, 3]) {
    appendFileSync(path, `tick ${n}\n`);
    await witness.lines.last(`tick ${n}`);
  }
  tt.same(lines.texts(), ['one']);
});

t.test('a directory that appears later is picked up by the rescan', async (tt) => {
  const dir = tt.testdir({});
  const { lines } = await follow(tt, [join(dir, 'srv/*/logs/*.log')]);
  mkdirSync(join(dir, 'srv/app/logs'), { recursive: true });
  writeFileSync(join(dir, 'srv/app/logs/web.log'), 'hello\n');
  await lines.last('hello');
  tt.equal(lines.got[0]?.path, join(dir, 'srv/app/logs/web.log'));
});
