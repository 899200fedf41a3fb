import { appendFileSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { silentLogger } from '@fleetban/shared';
import { expandGlob, hasWildcard } from '../src/tail/glob.js';
import { FileTail, type FileTailOptions } from '../src/tail/file-tail.js';
import type { LogLine } from '../src/tail/log-source.js';

const WAIT_MS = 30_000; // a bound, not a measure (loaded machines)

/** Collects lines; `until` resolves when a condition on them holds, and fails the test on timeout. */
class Lines {
  readonly got: LogLine[] = [];
  private checks: Array<() => void> = [];

  readonly onLine = (l: LogLine): void => {
    this.got.push({ ...l }); // the source reuses its LogLine object
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
        reject(new Error(`timed out waiting for ${what}; got ${this.got.length} lines, the last: ${JSON.stringify(this.texts().slice(-3))}`));
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

// ---- rotation, restart, options: every line exactly once ----------------------------------------

/** A log writer holding its file open like a daemon (O_APPEND); `reopen()` is its SIGHUP. */
class Writer {
  #fd: number;
  n = 0;
  constructor(readonly path: string) {
    this.#fd = openSync(path, 'a');
  }
  /** Appends `count` numbered lines to whatever file the writer has open. */
  write(count: number): void {
    let s = '';
    for (let i = 0; i < count; i++) s += `line ${++this.n} ${'x'.repeat(this.n % 50)}\n`;
    writeSync(this.#fd, s);
  }
  reopen(): void {
    closeSync(this.#fd);
    this.#fd = openSync(this.path, 'a');
  }
  close(): void {
    closeSync(this.#fd);
  }
}

/** The numbers of `line N ...` lines, in the order received. */
function numbers(lines: Lines): number[] {
  return lines.texts().filter((s) => s.startsWith('line ')).map((s) => Number(s.split(' ')[1]));
}

/**
 * Waits until the last numbered line arrived, then lets the tail do several more full rounds (a
 * witness file written three times, each write awaited) so that a duplicate would have shown up.
 */
async function settle(tt: Test, lines: Lines, w: Writer, witness: string, from = 1): Promise<void> {
  await lines.until(() => numbers(lines).includes(w.n), `line ${w.n}`);
  for (const n of [1, 2, 3]) {
    appendFileSync(witness, `tick ${n}\n`);
    await lines.last(`tick ${n}`);
  }
  tt.same(numbers(lines), Array.from({ length: w.n - from + 1 }, (_, i) => i + from), `lines ${from}..${w.n}, each once, in order`);
}

type Rotation = (dir: string, w: Writer) => void;
const ROTATIONS: Record<string, Rotation> = {
  // logrotate `create`: rename, the daemon keeps writing to the old file until it reopens
  'rename and create': (dir, w) => {
    renameSync(w.path, `${w.path}.1`);
    w.write(20);
    writeFileSync(w.path, '');
    w.reopen();
  },
  // logrotate `copytruncate`: lines written between the copy and the truncate are lost by design;
  // lines written before the copy and not read yet are read from the copy
  copytruncate: (dir, w) => {
    if (existsSync(`${w.path}.1`)) renameSync(`${w.path}.1`, `${w.path}.2`);
    copyFileSync(w.path, `${w.path}.1`);
    truncateSync(w.path, 0);
  },
  // rm, then the daemon notices and creates a new file; it wrote to the deleted one meanwhile
  'delete and recreate': (dir, w) => {
    unlinkSync(w.path);
    w.write(20);
    w.reopen();
  },
};

t.test('rotation with lines written during it: every line exactly once, in order', async (tt) => {
  for (const [name, rotate] of Object.entries(ROTATIONS)) {
    for (const glob of [false, true]) {
      await tt.test(`${name}${glob ? ', glob matching the rotated names too' : ''}`, async (t2) => {
        const dir = t2.testdir({ 'app.log': '', 'witness.log': '' });
        const w = new Writer(join(dir, 'app.log'));
        t2.teardown(() => w.close());
        const { lines } = await follow(t2, [glob ? join(dir, 'app.log*') : w.path, join(dir, 'witness.log')], { rotateGraceMs: 60_000 });
        for (let round = 0; round < 4; round++) {
          w.write(5);
          await lines.until(() => numbers(lines).includes(w.n), `line ${w.n}`); // the tail is inside this file
          w.write(round * 300 + 50); // a backlog the tail has not read when the rotation happens
          if (round % 2 === 1) await lines.until(() => numbers(lines).includes(w.n), `line ${w.n}`); // or has
          rotate(dir, w);
          const first = w.n + 1;
          w.write(round * 200 + 30); // more than was there: the file regrows past the old position at once
          // one rotation per poll at most (two between two looks would lose the file in between,
          // for any poller): wait until the new file's first line is in before the next rotation
          await lines.until(() => numbers(lines).includes(first), `line ${first}`);
        }
        await settle(t2, lines, w, join(dir, 'witness.log'));
      });
    }
  }
});

t.test('symlink re-pointed to a new file: the old target is finished, the new one read from its start', async (tt) => {
  const dir = tt.testdir({ 'app-1.log': '', 'witness.log': '' });
  const link = join(dir, 'current.log');
  symlinkSync(join(dir, 'app-1.log'), link);
  const { lines } = await follow(tt, [link, join(dir, 'witness.log')], { rotateGraceMs: 60_000 });
  let fd = openSync(join(dir, 'app-1.log'), 'a');
  let n = 0;
  const write = (k: number) => { for (let i = 0; i < k; i++) writeSync(fd, `line ${++n}\n`); };
  for (let gen = 2; gen <= 4; gen++) {
    write(100);
    writeFileSync(join(dir, `app-${gen}.log`), '');
    symlinkSync(join(dir, `app-${gen}.log`), join(dir, 'next.log'));
    renameSync(join(dir, 'next.log'), link); // atomic re-point
    write(10); // late lines to the old target
    closeSync(fd);
    fd = openSync(join(dir, `app-${gen}.log`), 'a');
    const first = n + 1;
    write(50);
    await lines.until(() => numbers(lines).includes(first), `line ${first}`); // one re-point per poll at most
  }
  closeSync(fd);
  await settle(tt, lines, { n } as Writer, join(dir, 'witness.log'));
});

t.test('restart: positions and file identity saved; no line lost or repeated', async (tt) => {
  const dir = tt.testdir({ 'app.log': 'before the first start\n', 'witness.log': '', state: {} });
  const state = join(dir, 'state');
  const w = new Writer(join(dir, 'app.log'));
  tt.teardown(() => w.close());
  const all: number[] = [];
  let halves = 0;
  const run = async (t2: Test, between: () => void): Promise<void> => {
    const { tail, lines } = await follow(t2, [w.path, join(dir, 'witness.log')], { stateDir: state, stateName: 'app' });
    w.write(100);
    await lines.until(() => numbers(lines).includes(w.n), `line ${w.n}`);
    appendFileSync(w.path, 'half a li'); // a partial line when the agent stops
    await tail.stop();
    all.push(...numbers(lines));
    halves += lines.texts().filter((s) => s === 'half a line').length;
    t2.notOk(lines.texts().includes('before the first start'), 'what was there before the first start is not read');
    appendFileSync(w.path, 'ne\n');
    between();
    w.write(30); // while the agent is down
  };
  await tt.test('first run (file present: starts at its end)', (t2) => run(t2, () => {}));
  await tt.test('rename rotation while down', (t2) => run(t2, () => {
    w.write(10);
    renameSync(w.path, `${w.path}.1`);
    w.write(10); // late lines to the rotated file
    writeFileSync(w.path, '');
    w.reopen();
  }));
  await tt.test('copytruncate while down, regrown past the old position', (t2) => run(t2, () => {
    truncateSync(w.path, 0);
    w.write(500);
  }));
  await tt.test('last run', async (t2) => {
    const { lines } = await follow(t2, [w.path, join(dir, 'witness.log')], { stateDir: state, stateName: 'app' });
    await settle(t2, lines, w, join(dir, 'witness.log'), (all[all.length - 1] ?? 0) + 1);
    all.push(...numbers(lines));
    t2.same(all, Array.from({ length: w.n }, (_, i) => i + 1), 'across four runs: every line once, in order');
    halves += lines.texts().filter((s) => s === 'half a line').length;
    // runs 1 and 2 stop mid-line; the line is completed while down and read once by the next run
    // (run 3's is completed, then lost to the copytruncate while down, as copytruncate loses lines)
    t2.equal(halves, 2, 'a line cut by the stop is delivered whole, once');
  });
});

t.test('line ids: the same after a crash, distinct across files and truncations', async (tt) => {
  const dir = tt.testdir({ 'a.log': '', 'b.log': '', 'witness.log': '', state: {} });
  const [a, b, witness] = ['a.log', 'b.log', 'witness.log'].map((f) => join(dir, f)) as [string, string, string];
  const saved = join(dir, 'state', 'tail', 'ids.json');
  // positions are saved at the first turn, then not before the crash
  const opts = { stateDir: join(dir, 'state'), stateName: 'ids', checkpointMs: 3_600_000 };
  const same = 'Failed password for root from 192.0.2.1 port 22 ssh2\n'.repeat(3);
  const ids = (lines: Lines, path: string) => lines.got.filter((l) => l.path === path).map((l) => l.id);

  const first = await follow(tt, [a, b, witness], opts);
  appendFileSync(a, same);
  appendFileSync(b, same); // identical bytes at identical offsets in another file
  await first.lines.until(() => first.lines.got.length === 6, '6 lines');
  const idsA = ids(first.lines, a);
  const idsB = ids(first.lines, b);
  tt.equal(new Set([...idsA, ...idsB]).size, 6, 'every line has its own id, also the same text in another file');
  tt.ok(idsA.every((id) => typeof id === 'string' && /^[\w-]{12}:\d+$/.test(id)), 'ids are <file tag>:<offset>');
  const crashState = readFileSync(saved);
  await first.tail.stop();
  writeFileSync(saved, crashState); // kill -9: the positions of the last save, before these lines

  const second = await follow(tt, [a, b, witness], opts);
  await second.lines.until(() => second.lines.got.length === 6, 'the 6 lines read again');
  tt.same(ids(second.lines, a), idsA, 'read again after a crash: the same ids');
  tt.same(ids(second.lines, b), idsB, 'in the other file too');

  truncateSync(a, 0); // copytruncate, then the same lines again at the same offsets
  for (const n of [1, 2]) { // two full rounds: the truncation is seen before the file regrows
    appendFileSync(witness, `tick ${n}\n`);
    await second.lines.last(`tick ${n}`);
  }
  appendFileSync(a, same);
  await second.lines.until(() => ids(second.lines, a).length === 6, 'the lines after the truncation');
  const idsA2 = ids(second.lines, a).slice(3);
  tt.equal(new Set([...idsA, ...idsA2]).size, 6, 'after a truncation the same offsets and bytes get new ids');
  await second.tail.stop();

  const third = await follow(tt, [a, b, witness], opts);
  appendFileSync(a, 'one more\n');
  await third.lines.last('one more');
  tt.equal(third.lines.got.at(-1)?.id?.split(':')[0], idsA2[0]?.split(':')[0], 'the generation is kept across a restart');
});

t.test('inotify wakes the tail: with polling an hour apart, appended lines, a rotation and a new file are read', async (tt) => {
  const dir = tt.testdir({ 'app.log': '' });
  const file = join(dir, 'app.log');
  const { lines } = await follow(tt, [file], { pollMs: 3_600_000, rescanMs: 3_600_000 });
  appendFileSync(file, 'one\n');
  await lines.last('one');
  appendFileSync(file, 'two\nthree\n');
  await lines.last('three');
  renameSync(file, `${file}.1`);
  writeFileSync(file, 'after rotation\n');
  await lines.last('after rotation');
  tt.same(lines.texts(), ['one', 'two', 'three', 'after rotation'], 'every line once, in order, without a single poll');
});

t.test('a gate that holds reading back wakes the tail when it opens, not a poll later', async (tt) => {
  const { ReportGate } = await import('../src/report/read-gate.js');
  const dir = tt.testdir({ 'a.log': '' });
  const gate = new ReportGate(1);
  const closed = { spoolFull: false, publishing: true, queued: 1 };
  // a poll far longer than the test's bound: only the wakes (inotify, the gate) can read in time
  const { tail, lines } = await follow(tt, [join(dir, 'a.log')], { pollMs: 10 * WAIT_MS, gate });
  gate.update(closed);
  appendFileSync(join(dir, 'a.log'), 'one\ntwo\n');
  // the change is noticed (inotify) while the gate is closed: the bytes are counted behind, not read
  for (const until = Date.now() + WAIT_MS; tail.counters().bytesBehind < 8 && Date.now() < until;) await new Promise((r) => setTimeout(r, 5));
  tt.equal(tail.counters().bytesBehind, 8);
  tt.same(lines.texts(), [], 'nothing read while the gate is closed');
  gate.update({ ...closed, queued: 0 });
  await lines.last('two');
  tt.same(lines.texts(), ['one', 'two']);
});

t.test('positions are written again only when they change (or a minute went by), and at the stop', async (tt) => {
  const dir = tt.testdir({ 'app.log': '' });
  const log = join(dir, 'app.log');
  const saved = join(dir, 'state', 'tail', 'quiet.json');
  const { tail, lines } = await follow(tt, [log], { stateDir: join(dir, 'state'), stateName: 'quiet', checkpointMs: 20 });
  appendFileSync(log, 'one\n');
  await lines.last('one');
  // a checkpoint after the line is read writes its position
  for (let i = 0; i < 300 && !(existsSync(saved) && readFileSync(saved, 'utf8').includes('"pos":4')); i++) await new Promise((r) => setTimeout(r, 10));
  const written = readFileSync(saved, 'utf8');
  tt.match(written, /"pos":4/);
  await new Promise((r) => setTimeout(r, 300)); // more than ten checkpoints, nothing read
  tt.equal(readFileSync(saved, 'utf8'), written, 'unchanged positions are not written again (savedMs kept)');
  appendFileSync(log, 'two\n');
  await lines.last('two');
  for (let i = 0; i < 300 && readFileSync(saved, 'utf8').includes('"pos":4'); i++) await new Promise((r) => setTimeout(r, 10));
  tt.match(readFileSync(saved, 'utf8'), /"pos":8/, 'a new position is written');
  const before = JSON.parse(readFileSync(saved, 'utf8')).savedMs;
  await new Promise((r) => setTimeout(r, 20));
  await tail.stop();
  tt.ok(JSON.parse(readFileSync(saved, 'utf8')).savedMs > before, 'the stop writes them');
});
