// The systemd journal backend on a real journal file: entries are written in journal export format
// by systemd-journal-remote, read back through journalctl --file / --directory.
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ConfigError, type JailConfig, silentLogger } from '@fleetban/shared';
import { createSource, type LogLine, type LogSource } from '../src/tail/source.js';
import { formatJournalEntry } from '../src/tail/journal-entry.js';
import { sourceSpec } from '../src/tail/source-spec.js';
import { createJailFilter } from '../src/filter/jail-filter.js';
import { jailWithKeys } from '../../../test/fixtures/jail-config.js';
import { journalWrite } from '../../../test/fixtures/journal-file.js';

const WAIT_MS = 30_000; // a bound, not a measure: 8 s was seen to miss on a loaded machine

const jail = jailWithKeys;

function sshd(n: number): Record<string, string> {
  return { _HOSTNAME: 'web-1', SYSLOG_IDENTIFIER: 'sshd', _PID: '4242', _SYSTEMD_UNIT: 'ssh.service', MESSAGE: `Failed password for root from 203.0.113.5 port ${n} ssh2` };
}
const other = (n: number) => ({ _HOSTNAME: 'web-1', SYSLOG_IDENTIFIER: 'cron', _PID: '7', MESSAGE: `cron ${n}` });

/** Starts a source for `j`, collecting copies of its lines; `until(n)` waits for n lines. */
async function follow(tt: Test, j: JailConfig, stateDir: string) {
  const src: LogSource = createSource(j, { stateDir, pollMs: 10, logger: silentLogger(), clock: Date.now });
  const got: LogLine[] = [];
  const waiters: Array<() => void> = [];
  await src.start((l) => { got.push({ ...l }); for (const w of [...waiters]) w(); });
  tt.teardown(() => src.stop());
  const until = (n: number) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} lines; got ${got.length}`)), WAIT_MS);
    const check = () => { if (got.length >= n) { clearTimeout(timer); waiters.splice(waiters.indexOf(check), 1); resolve(); } };
    waiters.push(check);
    check();
  });
  return { src, got, until };
}

const ports = (got: LogLine[]) => got.map((l) => Number(/port (\d+)/.exec(l.text)?.[1]));

t.test('journal file: journalmatch, the line format, the cursor across restarts', async (tt) => {
  const dir = tt.testdir({ state: {} });
  const file = join(dir, 'remote.journal');
  journalWrite(file, [sshd(1), other(1)]); // before the first start: not read
  const j = jail('sshd', { backend: `systemd[journalfiles="${file}"]`, journalmatch: 'SYSLOG_IDENTIFIER=sshd + _SYSTEMD_UNIT=ssh.service' });
  const state = join(dir, 'state');

  const a = await follow(tt, j, state);
  journalWrite(file, [sshd(2), other(2), sshd(3)]);
  await a.until(2);
  tt.same(ports(a.got), [2, 3], 'only what matches journalmatch, from the end of the journal at the first start');
  const l = a.got[0] as LogLine;
  tt.equal(l.text, 'web-1 sshd[4242]: Failed password for root from 203.0.113.5 port 2 ssh2', "fail2ban's line: a syslog line after its date");
  tt.ok(l.timeMs > 0 && Math.abs(l.timeMs - Date.now()) < 60_000, 'timeMs from the entry');
  tt.equal(l.path, 'journal');
  await a.src.stop();

  journalWrite(file, [sshd(4), other(3), sshd(5)]); // while the agent is down
  const b = await follow(tt, j, state);
  journalWrite(file, [sshd(6)]);
  await b.until(3);
  tt.same(ports(b.got), [4, 5, 6], 'resumed after the saved cursor: nothing lost, nothing twice');
  tt.equal(b.src.counters().lines, 3);
});

t.test('line ids: a hash of the entry\'s cursor, so the same entry read again has the same id', async (tt) => {
  const dir = tt.testdir({ one: {}, two: {} });
  const file = join(dir, 'remote.journal');
  journalWrite(file, [other(0)]);
  const j = jail('sshd', { backend: `systemd[journalfiles="${file}"]`, journalmatch: 'SYSLOG_IDENTIFIER=sshd' });
  const a = await follow(tt, j, join(dir, 'one'));
  const b = await follow(tt, j, join(dir, 'two')); // another reader, as a restarted agent would be
  journalWrite(file, [sshd(1), sshd(2), sshd(3)]);
  await a.until(3);
  await b.until(3);
  const ids = a.got.map((l) => l.id ?? '');
  tt.ok(ids.every((id) => /^j[\w-]{16}$/.test(id)), 'j<hash of the cursor>');
  tt.equal(new Set(ids).size, 3, 'one per entry');
  tt.same(b.got.map((l) => l.id), ids, 'the same entries, the same ids');
});

t.test('journal directory (journalpath), over-long entries skipped', async (tt) => {
  const dir = tt.testdir({ journal: {}, state: {} });
  const file = join(dir, 'journal', 'remote.journal');
  journalWrite(file, [other(0)]);
  const j = jail('sshd', { backend: `systemd[journalpath=${join(dir, 'journal')}]`, journalmatch: '_COMM=sshd SYSLOG_IDENTIFIER=sshd' });
  const src = createSource(j, { stateDir: join(dir, 'state'), pollMs: 10, logger: silentLogger(), clock: Date.now, maxLineBytes: 200 });
  const got: string[] = [];
  let done = (): void => {};
  const last = new Promise<void>((r) => { done = r; });
  await src.start((l) => { got.push(l.text); if (l.text.includes('port 9')) done(); });
  tt.teardown(() => src.stop());
  journalWrite(file, [
    { ...sshd(7), _COMM: 'sshd' },
    { ...sshd(8), _COMM: 'sshd', MESSAGE: `Failed password for ${'x'.repeat(500)} from 203.0.113.5 port 8 ssh2` },
    { ...sshd(9), _COMM: 'sshd' },
  ]);
  await last;
  tt.same(got.map((s) => /port (\d+)/.exec(s)?.[1]), ['7', '9'], 'an entry over max_line is skipped');
  tt.equal(src.counters().skipped, 1);
});

t.test('entry formatting (pure)', async (tt) => {
  const us = Date.UTC(2024, 4, 1, 12, 0, 0) * 1000 + 123456;
  const f = formatJournalEntry({ __CURSOR: 'c1', __REALTIME_TIMESTAMP: String(us), _HOSTNAME: 'h', SYSLOG_IDENTIFIER: 'sshd', _PID: '1', MESSAGE: 'a\nb' });
  tt.same(f, { text: 'h sshd[1]: a\\nb', timeMs: Math.floor(us / 1000), cursor: 'c1' }, 'the time beside the text, not in it');
  tt.equal(formatJournalEntry({ __REALTIME_TIMESTAMP: String(us), _SOURCE_REALTIME_TIMESTAMP: String(us - 5000), MESSAGE: 'm' })?.timeMs, Math.floor((us - 5000) / 1000), "the source's time when the entry has one");
  const bytes = formatJournalEntry({ _COMM: 'sshd', MESSAGE: [...Buffer.from('caf\xc3\xa9', 'latin1')] });
  tt.equal(bytes?.text, 'sshd: café', 'a MESSAGE journalctl prints as bytes');
  tt.equal(formatJournalEntry({ MESSAGE: ['one', 'two'] })?.text, 'one two', 'a field set twice');
  tt.equal(formatJournalEntry([1]), null);
});

t.test('bad source options are configuration errors naming the key and line', async (tt) => {
  const keyOf = (keys: Record<string, string>): string => {
    try {
      createSource(jail('sshd', keys), { stateDir: '/nonexistent', pollMs: 10, logger: silentLogger(), clock: Date.now });
    } catch (err) {
      tt.ok(err instanceof ConfigError, (err as Error).message);
      return (err as ConfigError).key;
    }
    return 'no error';
  };
  tt.equal(keyOf({ backend: 'systemd', journalmatch: 'sshd.service' }), 'sshd.journalmatch (line 3)');
  tt.equal(keyOf({ backend: 'systemd', journalmatch: '+ _COMM=sshd' }), 'sshd.journalmatch (line 3)');
  tt.equal(keyOf({ backend: 'systemd[journalpath=relative/dir]' }), 'sshd.backend (line 2)');
  tt.equal(keyOf({ backend: 'systemd[bogus=1]' }), 'sshd.backend (line 2)');
  tt.equal(keyOf({ backend: 'inotify' }), 'sshd.backend (line 2)');
  tt.equal(keyOf({ backend: 'docker[]' }), 'sshd.backend (line 2)');
  tt.equal(keyOf({ backend: 'docker[container=web, root=var/lib]' }), 'sshd.backend (line 2)');
  tt.equal(keyOf({ logencoding: 'utf-16' }), 'sshd.logencoding (line 2)');
  tt.equal(keyOf({ logencoding: 'klingon' }), 'sshd.logencoding (line 2)');
  tt.equal(keyOf({ backend: 'polling', logencoding: 'latin-1' }), 'no error');
  tt.equal(keyOf({ backend: 'systemd[journalfiles="/a.journal /b.journal" ]' }), 'no error');
});

t.test("a filter's own journalmatch is applied when the jail sets none (fail2ban 1.1)", async (tt) => {
  const dir = tt.testdir({ state: {} });
  const file = join(dir, 'remote.journal');
  journalWrite(file, [other(0)]);
  const j = { ...jail('sshd', { backend: `systemd[journalfiles="${file}"]` }), filter: 'sshd' };
  const filter = createJailFilter(j, { logger: silentLogger(), clock: Date.now });
  tt.same(filter.journalmatch, ['_SYSTEMD_UNIT=sshd.service + _COMM=sshd + _COMM=sshd-session'], "sshd.conf's journalmatch (sshd-session: OpenSSH 9.8 and later)");
  const src = createSource(j, { stateDir: join(dir, 'state'), pollMs: 10, logger: silentLogger(), clock: Date.now }, filter.journalmatch);
  const got: LogLine[] = [];
  let wake = (): void => undefined;
  await src.start((l) => { got.push({ ...l }); wake(); });
  tt.teardown(() => src.stop());
  const sshdComm = (n: number) => ({ ...other(n), SYSLOG_IDENTIFIER: 'sshd', _COMM: 'sshd', MESSAGE: `Failed password for root from 203.0.113.5 port ${n} ssh2` });
  // what `logger -t sshd` writes from a login session: sshd's name, another program
  const forged = (n: number) => ({ ...other(n), SYSLOG_IDENTIFIER: 'sshd', _COMM: 'logger', _SYSTEMD_UNIT: 'session-3.scope', MESSAGE: `Failed password for root from 198.51.100.66 port ${n} ssh2` });
  journalWrite(file, [other(1), sshdComm(2), forged(3), { ...other(4), SYSLOG_IDENTIFIER: 'sshd', _SYSTEMD_UNIT: 'sshd.service', MESSAGE: `Failed password for root from 203.0.113.5 port 4 ssh2` }, other(5), forged(6), sshdComm(7)]);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; got ${got.length}`)), WAIT_MS);
    wake = () => { if (got.length >= 3) { clearTimeout(timer); resolve(); } };
    wake();
  });
  // port 7 is the last entry written: every entry before it has been passed over by then
  tt.same(ports(got), [2, 4, 7], "only sshd's entries reach the filter: _COMM=sshd, or the sshd.service unit (not cron, not `logger -t sshd`)");
  const found = got.map((l) => filter.match(l));
  tt.same(found.map((m) => m?.ip), ['203.0.113.5', '203.0.113.5', '203.0.113.5'], 'the filter finds each failure');
  tt.same(filter.counters(), { matched: 3, ignored: 0, missed: 0, unresolved: 0, perRegex: filter.counters().perRegex }, 'and nothing else reached it');
  const own = { ...j, options: { ...j.options, journalmatch: { value: 'SYSLOG_IDENTIFIER=cron', file: 'test.conf', section: 'sshd', line: 9 } } };
  const spec = sourceSpec(own, filter.journalmatch);
  tt.same(spec.kind === 'journal' && spec.matches, ['SYSLOG_IDENTIFIER=cron'], "a jail's journalmatch replaces the filter's");
});
