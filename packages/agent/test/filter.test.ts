import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { type JailConfig, parseConfig, silentLogger } from '@fleetban/shared';
import { FilterError } from '../src/filter/filter-error.js';
import { PROJECT_FILTER_DIR } from '../src/filter/filter-file.js';
import { createJailFilter, type JailFilter } from '../src/filter/jail-filter.js';
import { fixedTimeZone } from '../src/filter/date/time-zone.js';
import { errorOf } from '../../../test/fixtures/error-of.js';

/**
 * Annotated samples for the built-in sshd filter. Lines are bare messages as `sshd -E file` writes
 * them; each is also checked behind a syslog prefix and a journal/RFC 3339 prefix, which must give
 * the same answer. `mode: 'aggressive'` marks lines only sshd-aggressive counts.
 *
 * "real 9.2" lines were written by OpenSSH 9.2p1 (UsePAM no, PermitRootLogin yes, LogLevel INFO,
 * `sshd -D -E`) for logins made with sshpass/ssh over loopback in a scratch network namespace;
 * 127.0.0.1 and ::1 were rewritten into documentation ranges. sshd -E ends its lines with "\r\n".
 */
interface Sample {
  line: string;
  /** Expected failure, or null: neither mode may report it. */
  hit: { ip: string; user: string; regex: number } | null;
  mode?: 'normal' | 'aggressive';
  note: string;
}

const samples: Sample[] = [
  // --- failregex 0: Failed <method> for [invalid user] X from H port P ssh2
  { line: 'Failed password for root from 192.0.2.10 port 40146 ssh2', hit: { ip: '192.0.2.10', user: 'root', regex: 0 }, note: 'real 9.2: wrong password for root' },
  { line: 'Failed password for invalid user nosuchuser from 192.0.2.10 port 40176 ssh2', hit: { ip: '192.0.2.10', user: 'nosuchuser', regex: 0 }, note: 'real 9.2: wrong password, no such user' },
  { line: 'Failed password for root from 2001:db8::1 port 45886 ssh2', hit: { ip: '2001:db8::1', user: 'root', regex: 0 }, note: 'real 9.2 over IPv6' },
  { line: 'Failed password for invalid user nobody from 192.0.2.10 port 46706 ssh2', hit: { ip: '192.0.2.10', user: 'nobody', regex: 0 }, note: 'real 9.2: user refused by DenyUsers still gets a Failed line' },
  { line: 'Failed password for root from 192.0.2.10 port 40146 ssh2\r', hit: { ip: '192.0.2.10', user: 'root', regex: 0 }, note: 'a stray \\r (sshd -E writes \\r\\n)' },
  { line: 'Failed publickey for git from 198.51.100.7 port 50022 ssh2: RSA SHA256:Qx3nVm0cGf0Vh2bP4iM6y1ZkQ2l3cD9eXz8q7w6e5r4', hit: { ip: '198.51.100.7', user: 'git', regex: 0 }, note: 'publickey with key type and fingerprint' },
  { line: 'Failed keyboard-interactive/pam for invalid user admin from 2001:db8:0:0::42 port 2200 ssh2', hit: { ip: '2001:db8::42', user: 'admin', regex: 0 }, note: 'PAM kbd-interactive; IPv6 normalised' },
  { line: 'Failed password for root from ::ffff:192.0.2.5 port 40000 ssh2', hit: { ip: '192.0.2.5', user: 'root', regex: 0 }, note: 'v4-mapped IPv6 normalised to IPv4' },
  // --- failregex 1: Invalid user X from H port P
  { line: 'Invalid user nosuchuser from 192.0.2.10 port 40176', hit: { ip: '192.0.2.10', user: 'nosuchuser', regex: 1 }, note: 'real 9.2' },
  { line: 'Invalid user denied from 2001:db8::2 port 43858', hit: { ip: '2001:db8::2', user: 'denied', regex: 1 }, note: 'real 9.2 over IPv6' },
  { line: 'Invalid user  from 198.51.100.3 port 1022', hit: { ip: '198.51.100.3', user: '', regex: 1 }, note: 'empty user name' },
  // --- failregex 2: User X from H not allowed because ...
  { line: 'User nobody from 192.0.2.10 not allowed because listed in DenyUsers', hit: { ip: '192.0.2.10', user: 'nobody', regex: 2 }, note: 'real 9.2' },
  { line: 'User alice from 2001:db8::7 not allowed because not listed in AllowUsers', hit: { ip: '2001:db8::7', user: 'alice', regex: 2 }, note: 'AllowUsers' },
  { line: "User bob from 198.51.100.9 not allowed because none of user's groups are listed in AllowGroups", hit: { ip: '198.51.100.9', user: 'bob', regex: 2 }, note: 'AllowGroups' },
  // --- failregex 3: maximum authentication attempts exceeded
  { line: 'maximum authentication attempts exceeded for root from 2001:db8::1 port 45886 ssh2 [preauth]', hit: { ip: '2001:db8::1', user: 'root', regex: 3 }, note: 'real 9.2 (MaxAuthTries 1)' },
  { line: 'maximum authentication attempts exceeded for invalid user denied from 192.0.2.10 port 43858 ssh2 [preauth]', hit: { ip: '192.0.2.10', user: 'denied', regex: 3 }, note: 'real 9.2, invalid user' },
  // --- failregex 4 (aggressive): PAM authentication failure
  { line: 'pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.66  user=root', hit: { ip: '192.0.2.66', user: 'root', regex: 4 }, mode: 'aggressive', note: 'PAM (repeats the Failed line)' },
  { line: 'pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=2001:db8::66', hit: { ip: '2001:db8::66', user: '', regex: 4 }, mode: 'aggressive', note: 'PAM without user=' },
  // --- failregex 5 (aggressive): session end before authentication
  { line: 'Connection closed by authenticating user root 192.0.2.10 port 40146 [preauth]', hit: { ip: '192.0.2.10', user: 'root', regex: 5 }, mode: 'aggressive', note: 'real 9.2: follows every failed root login' },
  { line: 'Connection closed by invalid user nosuchuser 192.0.2.10 port 40176 [preauth]', hit: { ip: '192.0.2.10', user: 'nosuchuser', regex: 5 }, mode: 'aggressive', note: 'real 9.2' },
  { line: 'Disconnected from authenticating user root 198.51.100.20 port 51234 [preauth]', hit: { ip: '198.51.100.20', user: 'root', regex: 5 }, mode: 'aggressive', note: 'client gave up' },
  { line: 'Disconnected from invalid user oracle 2001:db8::20 port 51234 [preauth]', hit: { ip: '2001:db8::20', user: 'oracle', regex: 5 }, mode: 'aggressive', note: 'IPv6' },
  // --- failregex 6-8 (aggressive): probes
  { line: 'Did not receive identification string from 203.0.113.50 port 60000', hit: { ip: '203.0.113.50', user: '', regex: 6 }, mode: 'aggressive', note: 'OpenSSH < 8' },
  { line: 'banner exchange: Connection from 192.0.2.10 port 43842: invalid format', hit: { ip: '192.0.2.10', user: '', regex: 7 }, mode: 'aggressive', note: 'real 9.2: HTTP request sent to sshd' },
  { line: 'Unable to negotiate with 192.0.2.10 port 43838: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1,ext-info-c,kex-strict-c-v00@openssh.com [preauth]', hit: { ip: '192.0.2.10', user: '', regex: 8 }, mode: 'aggressive', note: 'real 9.2: old client' },

  // --- negatives: never a failure
  { line: 'Accepted password for alice from 192.0.2.20 port 50000 ssh2', hit: null, note: 'successful login' },
  { line: 'Accepted publickey for alice from 2001:db8::20 port 50000 ssh2: ED25519 SHA256:AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg', hit: null, note: 'successful key login' },
  { line: 'Server listening on 192.0.2.10 port 2222.', hit: null, note: 'real 9.2: startup' },
  { line: 'Server listening on :: port 22.', hit: null, note: 'startup, IPv6 wildcard' },
  { line: 'Received disconnect from 192.0.2.20 port 50000:11: disconnected by user', hit: null, note: 'normal logout' },
  { line: 'Received disconnect from 192.0.2.20 port 50000:11: Bye Bye [preauth]', hit: null, note: 'client closed before auth, no failure' },
  { line: 'Disconnected from user alice 192.0.2.20 port 50000', hit: null, note: 'normal logout' },
  { line: 'Connection closed by 192.0.2.10 port 43844', hit: null, note: 'real 9.2: TCP connect + close (also health checks): not counted' },
  { line: 'Could not get shadow information for NOUSER', hit: null, note: 'real 9.2: no address' },
  { line: 'kex_exchange_identification: Connection closed by remote host', hit: null, note: 'real 9.2: no address' },
  { line: 'kex_exchange_identification: client sent invalid protocol identifier "GET / HTTP/1.0"', hit: null, note: 'real 9.2: no address' },
  { line: 'Disconnecting authenticating user root 2001:db8::1 port 45886: Too many authentication failures [preauth]', hit: null, note: 'real 9.2: repeats "maximum authentication attempts"' },
  { line: 'pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)', hit: null, note: 'session, not auth' },
  { line: 'Failed password for root from 999.0.2.10 port 40146 ssh2', hit: null, note: 'not an address' },

  // --- log injection: the user name is attacker text; the reported address must be the real one
  { line: 'Failed password for invalid user 203.0.113.9 from 192.0.2.66 port 4000 ssh2', hit: { ip: '192.0.2.66', user: '203.0.113.9', regex: 0 }, note: 'user name is an address' },
  { line: 'Failed password for invalid user x from 203.0.113.9 port 22 ssh2 from 192.0.2.66 port 4000 ssh2', hit: { ip: '192.0.2.66', user: 'x from 203.0.113.9 port 22 ssh2', regex: 0 }, note: 'user name forges a whole tail' },
  { line: 'Failed password for invalid user Failed password for root from 203.0.113.9 port 22 ssh2 from 192.0.2.66 port 4000 ssh2', hit: { ip: '192.0.2.66', user: 'Failed password for root from 203.0.113.9 port 22 ssh2', regex: 0 }, note: 'user name forges a whole line' },
  { line: 'Failed publickey for x from 203.0.113.9 port 22 ssh2: RSA SHA256:abc from 192.0.2.66 port 4000 ssh2: RSA SHA256:def', hit: { ip: '192.0.2.66', user: 'x from 203.0.113.9 port 22 ssh2: RSA SHA256:abc', regex: 0 }, note: 'forged publickey tail' },
  { line: 'Invalid user x from 203.0.113.9 port 22 from 192.0.2.66 port 4000', hit: { ip: '192.0.2.66', user: 'x from 203.0.113.9 port 22', regex: 1 }, note: 'Invalid user' },
  { line: 'Invalid user 2001:db8::bad from 192.0.2.66 port 4000', hit: { ip: '192.0.2.66', user: '2001:db8::bad', regex: 1 }, note: 'user name is an IPv6 address' },
  { line: 'maximum authentication attempts exceeded for invalid user x from 203.0.113.9 port 22 ssh2 from 192.0.2.66 port 4000 ssh2 [preauth]', hit: { ip: '192.0.2.66', user: 'x from 203.0.113.9 port 22 ssh2', regex: 3 }, note: 'max attempts' },
  { line: 'Connection closed by invalid user x 203.0.113.9 port 22 [preauth] 192.0.2.66 port 4000 [preauth]', hit: { ip: '192.0.2.66', user: 'x 203.0.113.9 port 22 [preauth]', regex: 5 }, mode: 'aggressive', note: 'preauth session end' },
  { line: 'pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.66  user=x rhost=203.0.113.9', hit: { ip: '192.0.2.66', user: 'x rhost=203.0.113.9', regex: 4 }, mode: 'aggressive', note: 'PAM: first rhost, pinned on the left' },
  { line: 'Unable to negotiate with 192.0.2.66 port 4000: no matching cipher found. Their offer: x from 203.0.113.9 port 22 [preauth]', hit: { ip: '192.0.2.66', user: '', regex: 8 }, mode: 'aggressive', note: 'client-chosen offer text' },
  { line: 'Failed password for invalid user x from 203.0.113.9 port 22 ssh2 from 192.0.2.66 port 4000 ssh2 trailing', hit: null, note: 'unknown tail: no match rather than a wrong address' },
];

const PREFIXES = [
  { name: 'bare (sshd -E)', p: '' },
  { name: 'syslog', p: 'Nov 21 12:00:00 web-1 sshd[1234]: ' },
  { name: 'syslog, day < 10', p: 'Nov  1 12:00:00 web-1 sshd[1234]: ' },
  { name: 'RFC 3339', p: '2025-11-21T12:00:00.123456+00:00 web-1 sshd-session[1234]: ' },
  { name: 'journal -o cat tag', p: 'sshd[1234]: ' },
];

const NOW = Date.UTC(2025, 10, 21, 12, 0, 30);
const SEARCH = [PROJECT_FILTER_DIR];

/** A jail read from configuration text (so jail keys go through the real loader). */
function jailOf(text: string): JailConfig {
  const j = parseConfig(text, '').jails[0];
  if (!j) throw new Error('no jail');
  return j;
}

function filterOf(text: string, searchPath: readonly string[] = SEARCH): JailFilter {
  return createJailFilter(jailOf(text), { logger: silentLogger(), clock: () => NOW, searchPath, zone: fixedTimeZone(0) });
}

/** The old stage's answer shape: address, user and failregex index. */
function hit(f: JailFilter, text: string): { ip: string; user: string; regex: number } | null {
  const m = f.match({ path: '/var/log/auth.log', text, readMs: NOW, timeMs: 0 });
  return m && { ip: m.ip, user: m.user, regex: m.regex };
}

for (const mode of ['normal', 'aggressive'] as const) {
  t.test(`sshd ${mode}: annotated samples`, async (tt) => {
    for (const { name, p } of PREFIXES) {
      const f = filterOf(`[sshd]\nfilter = sshd[mode=${mode}]\n`);
      for (const s of samples) {
        const want = s.hit && (mode === 'aggressive' || s.mode !== 'aggressive') ? s.hit : null;
        tt.same(hit(f, p + s.line), want, `${name}: ${s.note}: ${s.line}`);
      }
      // every failregex line is exercised by at least one sample
      const c = f.counters();
      tt.equal(c.perRegex.length, mode === 'normal' ? 4 : 9);
      tt.ok(c.perRegex.every((n) => n > 0), `${name}: every failregex matched a sample (${c.perRegex.join(',')})`);
      tt.equal(c.matched + c.missed, samples.length);
      tt.equal(c.ignored, 0);
    }
  });
}

t.test('sshd: the date at the line start is the failure time; one inside the message is not', async (tt) => {
  const f = filterOf('[sshd]\nfilter = sshd\n');
  const m = f.match({ path: 'x', text: 'Nov 21 12:00:00 web-1 sshd[1234]: Failed password for root from 192.0.2.66 port 40000 ssh2', readMs: NOW, timeMs: 0 });
  tt.equal(m?.timeMs, Date.UTC(2025, 10, 21, 12, 0, 0), 'syslog date (year from the clock), zone UTC');
  const old = f.match({ path: 'x', text: 'Nov 21 11:00:00 web-1 sshd[1234]: Failed password for root from 192.0.2.66 port 40000 ssh2', readMs: NOW, timeMs: 0 });
  tt.equal(old?.timeMs, NOW, 'a date more than a minute away counts as read now (fail2ban in operation)');
  const journal = f.match({ path: 'journal', text: 'web-1 sshd[1234]: Failed password for root from 192.0.2.66 port 40000 ssh2', readMs: NOW, timeMs: NOW - 5000 });
  tt.equal(journal?.timeMs, NOW - 5000, "a journal entry's time");
  const iso = f.match({ path: 'x', text: '2025-11-21T11:59:59.5+00:00 web-1 sshd[1]: Invalid user x from 192.0.2.67 port 1', readMs: NOW, timeMs: 0 });
  tt.equal(iso?.timeMs, Date.UTC(2025, 10, 21, 11, 59, 59));
  const forged = filterOf('[sshd]\nfilter = sshd\n').match({ path: 'x', text: 'Failed password for invalid user Nov 21 11:00:00 from 192.0.2.66 port 4000 ssh2', readMs: NOW, timeMs: 0 });
  tt.same(forged && { ip: forged.ip, user: forged.user, timeMs: forged.timeMs }, { ip: '192.0.2.66', user: 'Nov 21 11:00:00', timeMs: NOW }, 'a date in the user name is neither cut out nor used');
  const future = f.match({ path: 'x', text: 'Nov 21 12:30:00 web-1 sshd[1234]: Failed password for root from 192.0.2.66 port 40000 ssh2', readMs: NOW, timeMs: 0 });
  tt.equal(future?.timeMs, NOW, 'so does one in the future');
});

t.test('sshd: lines of other programs, or with junk before sshd, are not sshd failures', async (tt) => {
  const f = filterOf('[sshd]\nfilter = sshd[mode=aggressive]\n');
  tt.equal(hit(f, 'Nov 21 12:00:00 web-1 myapp[99]: Failed password for root from 192.0.2.66 port 40000 ssh2'), null);
  tt.equal(hit(f, 'GET /?q=Failed password for root from 192.0.2.66 port 40000 ssh2'), null);
  tt.same(hit(f, 'Nov 21 12:00:00 web-1 sshd[99]: error: maximum authentication attempts exceeded for root from 192.0.2.66 port 40000 ssh2 [preauth]'),
    { ip: '192.0.2.66', user: 'root', regex: 3 }, 'syslog "error: " level prefix');
});

t.test('filter names, modes and the search path', async (tt) => {
  const lines = samples.filter((s) => s.hit).map((s) => s.line);
  const answers = (text: string): unknown[] => {
    const f = filterOf(text);
    return lines.map((l) => hit(f, l));
  };
  tt.same(answers('[sshd]\nfilter = sshd[mode=normal]\n'), answers('[sshd]\nfilter = sshd\n'), 'normal is the default mode');
  tt.same(answers('[sshd]\nfilter = sshd\nmode = aggressive\n'), answers('[sshd]\nfilter = sshd[mode=aggressive]\n'), "the jail's mode key");
  const missing = errorOf(() => filterOf('[web]\nfilter = no-such-filter\n'));
  tt.ok(missing instanceof FilterError && missing.code === 'FILTER_INVALID' && missing.message.includes("no filter named 'no-such-filter'") &&
    missing.message.includes(PROJECT_FILTER_DIR), String(missing));
  const dir = mkdtempSync(join(tmpdir(), 'fleetban-filter-'));
  writeFileSync(join(dir, 'myapp.conf'), '[Definition]\nfailregex = ^login failed from <HOST>$\n');
  writeFileSync(join(dir, 'myapp.local'), '[Definition]\nfailregex = %(known/failregex)s\n            ^bad token from <ADDR>$\n');
  const f = filterOf('[myapp]\nenabled = true\n', [PROJECT_FILTER_DIR, dir]);
  tt.same(hit(f, 'login failed from 198.51.100.4'), { ip: '198.51.100.4', user: '', regex: 0 }, 'a filter in a user directory');
  tt.same(hit(f, 'bad token from 2001:db8::4'), { ip: '2001:db8::4', user: '', regex: 1 }, 'its .local extends it with %(known/failregex)s');
  const byPath = filterOf(`[x]\nfilter = ${join(dir, 'myapp.conf')}\n`);
  tt.same(hit(byPath, 'bad token from 192.0.2.9'), { ip: '192.0.2.9', user: '', regex: 1 }, 'a filter named by path');
  const jailOwn = filterOf('[myapp]\nfailregex = %(known/failregex)s\n  ^denied <HOST>$\n', [dir]);
  tt.same(hit(jailOwn, 'denied 192.0.2.10'), { ip: '192.0.2.10', user: '', regex: 2 }, "a jail's failregex extends the filter's with %(known/failregex)s");
});

t.test('a filter that cannot be read or translated fails at load with its path', async (tt) => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetban-filter-'));
  const cases: Array<[string, string, RegExp]> = [
    ['bad-class.conf', '[Definition]\nfailregex = ^ok <HOST>$\n            ^bad [unclosed <HOST>\n', /failregex\[1\] \(line 2\) cannot be translated/],
    ['bad-python.conf', '[Definition]\n\nfailregex = ^x (?<name>\\S+) <HOST>\n', /failregex\[0\] \(line 3\) cannot be translated .*"\(\?<"/],
    ['locale.conf', '[Definition]\nprefregex = (?L)^x\nfailregex = <HOST>\n', /prefregex\[0\] \(line 2\) cannot be translated .*LOCALE/],
    ['no-host.conf', '[Definition]\nfailregex = ^Failed password for \\S+\n', /failregex\[0\] \(line 2\) is not usable \(no failure-id group/],
    ['bad-interp.conf', '[Definition]\nfailregex = ^%(nope)s <HOST>\n', /Definition\.failregex \(line 2\): expected %\(nope\)s to name a key/],
    ['bad-date.conf', '[Definition]\nfailregex = <HOST>\ndatepattern = %%Y-%%q\n', /datepattern\[0\] \(line 3\) is not usable \(unknown % code/],
    ['bad-percent.conf', '[Definition]\nfailregex = <HOST>\ndatepattern = %Y\n', /Definition\.datepattern \(line 3\): expected '%' followed by '%' or '\(name\)s'/],
    ['no-def.conf', '[Init]\nx = 1\n', /has no \[Definition\] section/],
    ['bad-syntax.conf', '[Definition]\nfailregex\n', /line 2/],
  ];
  for (const [file, text, re] of cases) {
    writeFileSync(join(dir, file), text);
    const path = join(dir, file);
    const err = errorOf(() => filterOf(`[j]\nfilter = ${file.replace('.conf', '')}\n`, [dir]));
    tt.ok(err instanceof FilterError && err.message.includes(path) && re.test(err.message), `${file}: ${String(err)}`);
  }
});

t.test('ignoreregex vetoes a failure and counts it as ignored', async (tt) => {
  const f = filterOf('[sshd]\nignoreregex = for (?:invalid user )?monitor from\n');
  tt.equal(hit(f, 'Failed password for monitor from 192.0.2.30 port 40000 ssh2'), null);
  tt.same(hit(f, 'Failed password for root from 192.0.2.30 port 40001 ssh2'), { ip: '192.0.2.30', user: 'root', regex: 0 });
  tt.equal(hit(f, 'Server listening on 0.0.0.0 port 22.'), null);
  tt.same(f.counters(), { matched: 1, ignored: 1, missed: 1, unresolved: 0, perRegex: [1, 0, 0, 0] });
});

t.test('tags and Python syntax are translated once', async (tt) => {
  const f = filterOf(`[custom]
filter =
failregex = login failed for (?P<who>\\w+)/(?P=who) at <IP4>
            v6 only <IP6>$
            addr <ADDR> user <F-USER>\\S+</F-USER>
            ^anchored <HOST>
            proxy \\[Client <HOST>\\] user <F-ALT_USER>\\S+</F-ALT_USER>
            literal \\(?P<x> paren <HOST>
`);
  tt.same(hit(f, 'app: login failed for bob/bob at 198.51.100.1'), { ip: '198.51.100.1', user: '', regex: 0 }, 'search, not anchored; (?P=name)');
  tt.equal(hit(f, 'app: login failed for bob/eve at 198.51.100.1'), null, 'back-reference must agree');
  tt.same(hit(f, 'v6 only 2001:DB8::0:1'), { ip: '2001:db8::1', user: '', regex: 1 }, 'case, compression');
  tt.equal(hit(f, 'v6 only 198.51.100.1'), null, '<IP6> takes no IPv4');
  tt.same(hit(f, 'addr 203.0.113.4 user carol'), { ip: '203.0.113.4', user: 'carol', regex: 2 });
  tt.same(hit(f, 'addr [2001:db8::4] user carol'), { ip: '2001:db8::4', user: 'carol', regex: 2 }, '<ADDR> takes [v6]');
  tt.equal(hit(f, 'x anchored 203.0.113.5'), null, '^ anchors at the line start');
  tt.same(hit(f, 'anchored 203.0.113.5'), { ip: '203.0.113.5', user: '', regex: 3 });
  tt.same(hit(f, 'proxy [Client 203.0.113.6] user dave'), { ip: '203.0.113.6', user: 'dave', regex: 4 }, 'F-ALT_USER as user');
  // `\\(?P<x>` is an optional literal '(' then 'P<x>', in Python and after translation alike
  tt.same(hit(f, 'literal (P<x> paren 203.0.113.7'), { ip: '203.0.113.7', user: '', regex: 5 }, 'escaped paren left alone');
  tt.same(hit(f, 'literal P<x> paren 203.0.113.7'), { ip: '203.0.113.7', user: '', regex: 5 });
  tt.same(hit(f, 'anchored host.example.com'), null, 'a DNS name is not resolved (counted)');
  tt.same(f.counters().perRegex, [1, 1, 2, 1, 1, 2]);
  tt.equal(f.counters().unresolved, 1);
});

t.test('robust on long and hostile lines', async (tt) => {
  const f = filterOf('[sshd]\nfilter = sshd[mode=aggressive]\n');
  const started = performance.now();
  tt.equal(hit(f, `Failed password for ${' from 192.0.2.1 port 1'.repeat(2500)} x`), null);
  tt.equal(hit(f, `Connection closed by invalid user ${'a 192.0.2.1 '.repeat(5000)}`), null);
  tt.same(hit(f, `Failed password for invalid user ${'x'.repeat(60000)} from 192.0.2.66 port 4000 ssh2`)?.ip, '192.0.2.66');
  tt.equal(hit(f, `Failed password for root from 192.0.2.66 port 4000 ssh2${' '.repeat(70000)}`), null, 'over the length limit: missed');
  tt.ok(performance.now() - started < 2000, `hostile lines took ${Math.round(performance.now() - started)} ms`);
});

t.test('a bad regex in a jail is a FilterError naming the filter, the index and the source', async (tt) => {
  const cases: Array<{ text: string; list: string; index: number; source: string }> = [
    { text: '[broken]\nfilter =\nfailregex = ^ok <HOST>$\n  Failed (for <HOST>\n', list: 'failregex', index: 1, source: 'Failed (for <HOST>' },
    { text: '[nohost]\nfilter =\nfailregex = Failed password for \\S+\n', list: 'failregex', index: 0, source: 'Failed password for \\S+' },
    { text: '[badignore]\nfilter =\nfailregex = x <HOST>\nignoreregex = ok\n  [unclosed\n', list: 'ignoreregex', index: 1, source: '[unclosed' },
  ];
  for (const c of cases) {
    const jail = jailOf(c.text);
    try {
      createJailFilter(jail, { logger: silentLogger(), clock: () => NOW, searchPath: SEARCH });
      tt.fail(`${jail.name}: expected a FilterError`);
    } catch (err) {
      tt.ok(err instanceof FilterError, `${jail.name}: FilterError`);
      const e = err as FilterError;
      tt.equal(e.code, 'FILTER_INVALID');
      tt.has(e.regex, { filter: `jail ${jail.name}`, list: c.list, index: c.index, source: c.source });
      tt.ok(e.message.includes(`filter jail ${jail.name}: ${c.list}[${c.index}]`), e.message);
      tt.ok(e.message.endsWith(c.source), e.message);
    }
  }
});
