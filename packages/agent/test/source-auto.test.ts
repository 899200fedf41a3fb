// Which source a jail reads on this host (tail/source-choice.ts), end to end through the jail
// runner: `backend = auto` with no logpath file reads the journal (a real journal file written by
// systemd-journal-remote) with the filter's journalmatch; a journal that cannot be read is a clear
// error in the jail's log, not a crash.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createLogger, flushLogs, type FailureEvent, type JailConfig } from '@fleetban/shared';
import { JailRunner } from '../src/jail/jail-runner.js';
import { decideBackend, type JournalHost, type SourceFacts } from '../src/tail/source.js';
import { journalProblem } from '../src/tail/journal-check.js';
import { testJail } from '../../../test/fixtures/jail-config.js';
import { journalWrite } from '../../../test/fixtures/journal-file.js';

const WAIT_MS = 30_000;
const SSHD_MATCH = ['_SYSTEMD_UNIT=sshd.service + _COMM=sshd + _COMM=sshd-session'];

interface LogRecord { level: number; msg: string; source?: string; backend?: string; err?: { code?: string } }

/** The runners each test made. */
const made = new WeakMap<Test, JailRunner[]>();

/**
 * A test that makes runners: each is stopped when it ends, before tap removes the test's
 * directory (a teardown runs after that removal, and a runner still writing its state there made
 * it fail with ENOTEMPTY, then kept the process alive).
 */
function testWithRunners(name: string, fn: (tt: Test) => Promise<void>): void {
  t.test(name, async (tt) => {
    try {
      await fn(tt);
    } finally {
      for (const runner of made.get(tt) ?? []) await runner.stop();
    }
  });
}

/** A jail runner with a real logger writing JSON lines to a file; `until(n)` waits for n failures. */
async function run(tt: Test, jail: JailConfig, dir: string, journal: JournalHost) {
  const logFile = join(dir, 'agent.log');
  const events: FailureEvent[] = [];
  let wake = (): void => undefined;
  const logger = createLogger({ component: 'agent', destination: logFile });
  const runner = new JailRunner(jail, 'web-1', (e) => { events.push(e); wake(); }, logger.child({ jail: jail.name }), {
    stateDir: join(dir, 'state'), pollMs: 20, logger, clock: Date.now, journal,
  });
  await runner.start();
  made.get(tt)?.push(runner) ?? made.set(tt, [runner]);
  const until = (n: number) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} failures; got ${events.length}`)), WAIT_MS);
    wake = () => { if (events.length >= n) { clearTimeout(timer); resolve(); } };
    wake();
  });
  const log = async (): Promise<LogRecord[]> => (await flushLogs(), readFileSync(logFile, 'utf8')).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogRecord);
  return { runner, events, until, log };
}

const sshdEntry = (port: number, ip = '203.0.113.5') => ({ _HOSTNAME: 'web-1', SYSLOG_IDENTIFIER: 'sshd', _COMM: 'sshd', _PID: '4242', _SYSTEMD_UNIT: 'ssh.service', MESSAGE: `Failed password for root from ${ip} port ${port} ssh2` });
const cronEntry = (n: number) => ({ _HOSTNAME: 'web-1', SYSLOG_IDENTIFIER: 'CRON', _COMM: 'cron', _PID: '7', MESSAGE: `pam_unix(cron:session): session opened for user root(uid=0) by (uid=0) ${n}` });
const forgedEntry = (port: number) => ({ _HOSTNAME: 'web-1', SYSLOG_IDENTIFIER: 'sshd', _COMM: 'logger', _PID: '99', _SYSTEMD_UNIT: 'session-3.scope', MESSAGE: `Failed password for root from 198.51.100.66 port ${port} ssh2` });

t.test('decideBackend: what each backend reads, and when auto reads the journal (pure)', async (tt) => {
  const facts = (logFiles: number, journalmatch: readonly string[] = SSHD_MATCH, problem: string | null = null): SourceFacts => ({ logFiles, journalmatch, journalProblem: () => problem });
  const sshd = testJail({ logpath: ['/var/log/auth.log'] });
  const journal = { kind: 'systemd', journalpath: '', journalfiles: [] };

  let c = decideBackend(sshd, facts(1));
  tt.same([c.backend, c.waiting], [{ kind: 'auto' }, false], 'auto with a logpath file: the file');
  tt.match(c.why, 'backend = auto: reading the files (1 file match logpath /var/log/auth.log)');

  c = decideBackend(sshd, facts(0));
  tt.same([c.backend, c.waiting], [journal, false], 'auto, no logpath file, a journalmatch and a journal: the system journal');
  tt.equal(c.why, 'backend = auto: no file matches logpath /var/log/auth.log, so reading the systemd journal with journalmatch _SYSTEMD_UNIT=sshd.service + _COMM=sshd + _COMM=sshd-session instead (set backend = systemd, or a logpath that exists, to choose)');
  tt.same(decideBackend(testJail({ logpath: [] }), facts(0)).backend, journal, 'no logpath at all: the same');

  c = decideBackend(sshd, facts(0, [], null));
  tt.same([c.backend, c.waiting], [{ kind: 'auto' }, true], 'no journalmatch: the files, waiting (the whole journal is never read by surprise)');
  tt.match(c.why, 'neither the jail nor filter sshd has a journalmatch');

  c = decideBackend(sshd, facts(0, SSHD_MATCH, 'journalctl not found on PATH (it comes with systemd)'));
  tt.same([c.backend, c.waiting], [{ kind: 'auto' }, true], 'no readable journal: the files, waiting');
  tt.match(c.why, 'the journal is not read instead: journalctl not found on PATH');

  for (const kind of ['polling', 'pyinotify', 'gamin'] as const) {
    c = decideBackend(testJail({ backend: { kind } }), facts(0));
    tt.same([c.backend, c.waiting], [{ kind }, true], `${kind}: the files, never the journal`);
  }
  let asked = 0;
  decideBackend(sshd, { logFiles: 0, journalmatch: [], journalProblem: () => { asked++; return null; } });
  decideBackend(sshd, { logFiles: 2, journalmatch: SSHD_MATCH, journalProblem: () => { asked++; return null; } });
  tt.equal(asked, 0, 'the journal is looked for only when it could be read');

  c = decideBackend(testJail({ backend: { kind: 'systemd', journalpath: '/srv/journal', journalfiles: [] } }), facts(3));
  tt.same([c.backend.kind, c.waiting], ['systemd', false]);
  tt.equal(c.why, 'backend = systemd: reading the journal in /srv/journal with journalmatch _SYSTEMD_UNIT=sshd.service + _COMM=sshd + _COMM=sshd-session');
  c = decideBackend(testJail({ backend: { kind: 'docker', container: 'web', root: '/var/lib/docker' } }), facts(0));
  tt.same([c.backend.kind, c.waiting], ['docker', false]);
});

testWithRunners('backend = auto, no auth.log, a journal: sshd failures come from the journal, only sshd\'s', async (tt) => {
  const dir = tt.testdir({ journal: {}, log: {} });
  const journal = join(dir, 'journal', 'system.journal');
  journalWrite(journal, [cronEntry(0)]);
  const jail = testJail({ logpath: [join(dir, 'log', 'auth.log')] }); // sshd, filter sshd, backend auto
  const r = await run(tt, jail, dir, { directory: join(dir, 'journal'), journalctl: 'journalctl' });
  journalWrite(journal, [cronEntry(1), sshdEntry(1), forgedEntry(2), cronEntry(2), sshdEntry(3, '2001:db8::7'), forgedEntry(4), sshdEntry(5)]);
  await r.until(3);
  tt.same(r.events.map((e) => e.ip), ['203.0.113.5', '2001:db8::7', '203.0.113.5'], "sshd's failures; cron and `logger -t sshd` never reach the filter");
  tt.equal(r.events[0]?.line, 'web-1 sshd[4242]: Failed password for root from 203.0.113.5 port 1 ssh2');
  tt.ok(r.events.every((e) => Math.abs(e.timeMs - Date.now()) < 60_000), "each failure's time is its entry's");
  tt.equal(r.runner.counters.matched, 3);
  const chose = (await r.log()).find((l) => l.source !== undefined);
  tt.match(chose, { level: 30, source: 'journal', backend: 'auto', msg: /^backend = auto: no file matches logpath .*auth\.log, so reading the systemd journal with journalmatch _SYSTEMD_UNIT=sshd\.service \+ _COMM=sshd \+ _COMM=sshd-session instead/ }, 'the choice and its reason, logged once at info');
});

testWithRunners('backend = auto with the logpath file present reads the file, not the journal', async (tt) => {
  const dir = tt.testdir({ journal: {}, 'auth.log': '' });
  const journal = join(dir, 'journal', 'system.journal');
  journalWrite(journal, [cronEntry(0)]);
  const jail = testJail({ logpath: [join(dir, 'auth.log')] });
  const r = await run(tt, jail, dir, { directory: join(dir, 'journal'), journalctl: 'journalctl' });
  journalWrite(journal, [sshdEntry(1, '192.0.2.1')]);
  appendFileSync(join(dir, 'auth.log'), '2024-05-01T12:00:00.000000+00:00 web-1 sshd[1]: Failed password for root from 192.0.2.9 port 9 ssh2\n');
  await r.until(1);
  tt.same(r.events.map((e) => e.ip), ['192.0.2.9'], 'the file');
  tt.match((await r.log()).find((l) => l.source !== undefined), { level: 30, source: 'files', msg: /^backend = auto: reading the files \(1 file match logpath / });
});

testWithRunners('no readable journal: auto waits for its file, systemd fails clearly; neither throws', async (tt) => {
  const dir = tt.testdir({ empty: {}, a: {}, b: {}, c: {} });
  const nothing: JournalHost = { directory: join(dir, 'empty'), journalctl: 'journalctl' };

  const auto = await run(tt, testJail({ logpath: [join(dir, 'a', 'auth.log')] }), join(dir, 'a'), nothing);
  tt.match((await auto.log()).find((l) => l.source !== undefined), {
    level: 40, source: 'files', msg: `backend = auto: no file matches logpath ${join(dir, 'a', 'auth.log')} yet; waiting for one (the journal is not read instead: no journal files in ${join(dir, 'empty')})`,
  });
  writeFileSync(join(dir, 'a', 'auth.log'), 'web-1 sshd[1]: Failed password for root from 192.0.2.44 port 9 ssh2\n');
  await auto.until(1);
  tt.same(auto.events.map((e) => e.ip), ['192.0.2.44'], 'the file, once it appears (read from its start)');

  const systemd = await run(tt, testJail({ backend: { kind: 'systemd', journalpath: '', journalfiles: [] } }), join(dir, 'b'), nothing);
  const err = (await systemd.log()).find((l) => l.level === 50);
  tt.match(err, { err: { code: 'JOURNAL_UNAVAILABLE' }, msg: `cannot read the systemd journal: no journal files in ${join(dir, 'empty')}; jail sshd reads nothing (the agent goes on)` });
  tt.equal(systemd.runner.sourceCounters().files, 0);

  const noJournalctl = await run(tt, testJail({ backend: { kind: 'systemd', journalpath: '', journalfiles: [] } }), join(dir, 'c'), { directory: '', journalctl: join(dir, 'bin', 'journalctl') });
  tt.match((await noJournalctl.log()).find((l) => l.level === 50), { err: { code: 'JOURNAL_UNAVAILABLE' }, msg: `cannot read the systemd journal: ${join(dir, 'bin', 'journalctl')} not found (it comes with systemd)` });
});

t.test("this host's system journal, as the agent sees it", async (tt) => {
  const problem = journalProblem({ directory: '', files: [] });
  tt.comment(`system journal: ${problem ?? 'readable'}`);
  if (problem !== null) tt.match(problem, /journalctl not found|no journal files in \/run\/log\/journal or \/var\/log\/journal \(systemd-journald does not run here|not readable by this user/, 'a reason an operator can act on');
  else tt.pass('journalctl and a readable journal file are here');
});
