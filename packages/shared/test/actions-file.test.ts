import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ActionError, type ActionRunner, buildActions, escapeTag, parseConfig, silentLogger } from '../src/index.js';
import { ban, banEvent, unbanEvent } from './fixtures/ban-event.js';

const logger = silentLogger();

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return undefined;
}

/** Runners of `[sshd]` with `lines`, action.d files in `dir`. */
function runners(dir: string, lines: string, site: 'controller' | 'host' = 'controller'): ActionRunner[] {
  const cfgFile = join(dir, 'fleetban.conf');
  const jail = parseConfig(`[sshd]\n${lines}\n`, cfgFile, { hostname: 'ctl-1' }).jails[0];
  if (!jail) throw new Error('no jail');
  return buildActions(jail, site, { actionPath: [join(dir, 'first'), join(dir, 'action.d')], logger });
}

function only(dir: string, lines: string): ActionRunner {
  const [r] = runners(dir, lines);
  if (!r) throw new Error('no runner');
  return r;
}

t.test("escapeTag is fail2ban's", async (tt) => {
  tt.equal(escapeTag('a\\b#c&d;e`f|g*h?i~j<k>l^m(n)o[p]q{r}s$t\'u"v\nw\rx y/z:'), 'a\\\\b\\#c\\&d\\;e\\`f\\|g\\*h\\?i\\~j\\<k\\>l\\^m\\(n\\)o\\[p\\]q\\{r\\}s\\$t\\\'u\\"v\\nw\\rx y/z:');
  tt.equal(escapeTag('203.0.113.7'), '203.0.113.7');
  tt.equal(escapeTag('2001:db8::/32'), '2001:db8::/32');
});

t.test('an action.d file: [Init] options, jail options, tags, start/stop, ban/unban', async (tt) => {
  const dir = tt.testdir({
    first: {},
    'action.d': {
      'common.conf': '[Definition]\n_log = <logdir>/<name>.log\n',
      'rec.conf': `[INCLUDES]
before = common.conf
[Definition]
actionstart = echo "start <name> <actname>" >> <_log>
actionstop = echo "stop <name>" >> <_log>
actionban = echo "ban <ip> <family> port=<port> proto=<protocol> f=<failures> bt=<bantime> bc=<bancount> hosts=<hosts> t=<time> unknown=<nope> user=<F-USER> other=<F-OTHER> greet=<greeting>" >> <_log>
actionunban = echo "unban <ip> <family>" >> <_log>
[Init]
logdir = /nonexistent
greeting = hello
`,
      'rec.local': '[Init]\ngreeting = hello from local\n',
    },
  });
  const logdir = join(dir, 'logs');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(logdir);
  const [r, r2] = runners(dir, `port = ssh\nprotocol = tcp\naction = rec[logdir="${logdir}"]\n         rec[logdir="${logdir}", name=other, port=2222]`);
  if (!r || !r2) throw new Error('no runners');
  tt.same([r.name, r2.name], ['rec', 'rec#2']);
  await r.start();
  await r.run(banEvent());
  await r.run(unbanEvent(ban({ ip: '2001:db8::7' })));
  await r.stop();
  await r2.run(banEvent(ban({ expiresMs: 0, user: undefined })));
  tt.equal(readFileSync(join(logdir, 'sshd.log'), 'utf8'), [
    'start sshd rec',
    `ban 203.0.113.7 inet4 port=ssh proto=tcp f=5 bt=600 bc=1 hosts=web-1,web-2 t=${ban().atMs / 1000} unknown=<nope> user=root other= greet=hello from local`,
    'unban 2001:db8::7 inet6',
    'stop sshd',
    '',
  ].join('\n'));
  tt.match(readFileSync(join(logdir, 'other.log'), 'utf8'), /^ban 203\.0\.113\.7 inet4 port=2222 proto=tcp .* bt=-1 .* user= other= /, "the jail's brackets override [Init] and the jail's port");
});

t.test('the first directory of the action path that has the file wins', async (tt) => {
  const dir = tt.testdir({
    first: { 'x.conf': '[Definition]\nactionban = echo first > <out>\n' },
    'action.d': { 'x.conf': '[Definition]\nactionban = echo second > <out>\n' },
  });
  const out = join(dir, 'out');
  await only(dir, `action = x[out="${out}"]`).run(banEvent());
  tt.equal(readFileSync(out, 'utf8'), 'first\n');
});

t.test('[Init?family=inet6] and <br>, <sp>', async (tt) => {
  const dir = tt.testdir({
    first: {},
    'action.d': {
      'fam.conf': '[Definition]\nactionban = printf "%%s<br>" "<target><sp><ip>" >> <out>\n[Init]\ntarget = ip\n[Init?family=inet6]\ntarget = ip6\n',
    },
  });
  const out = join(dir, 'out');
  const r = only(dir, `action = fam[out="${out}"]`);
  await r.run(banEvent());
  await r.run(banEvent(ban({ ip: '2001:db8::7' })));
  tt.equal(readFileSync(out, 'utf8'), 'ip 203.0.113.7\nip6 2001:db8::7\n');
});

t.test('values from log lines are escaped: $(...), backticks, ; and quotes never run', async (tt) => {
  const dir = tt.testdir({
    first: {},
    'action.d': {
      'inj.conf': `[Definition]
actionban = printf '%%s|' <matches> >> <out>
            printf '\\n%%s\\n' "<ipmatches>" >> <out>
            printf 'user %%s\\n' "<F-USER>" >> <out>
actionunban = echo '<F-USER>' >> <out>
`,
    },
  });
  const out = join(dir, 'out');
  const pwned = join(dir, 'pwned');
  const user = `$(touch ${pwned})`;
  const matches = [`Invalid user $(touch ${pwned}) from 203.0.113.7`, `x; touch ${pwned}; \`touch ${pwned}\` | touch ${pwned} & "' > ${pwned} {a,b} *`];
  const r = only(dir, `action = inj[out="${out}"]`);
  await r.run(banEvent(ban({ user, matches })));
  tt.notOk(existsSync(pwned), 'no command from the event ran');
  const [unquoted, quoted, quotedUser] = readFileSync(out, 'utf8').split('\n');
  // unquoted, the shell removes each backslash: the characters arrive literally (a newline as "n"), split into words
  tt.equal(unquoted, `${matches.join('n').split(' ').join('|')}|`, 'unquoted');
  // in double quotes only \$ \` \" \\ lose their backslash, as fail2ban's escaped tags do in a shell
  const inQuotes = (v: string) => escapeTag(v).replace(/\\([$`"\\])/g, '$1');
  tt.equal(quoted, inQuotes(matches.join('\n')), 'double-quoted <ipmatches>');
  tt.equal(quotedUser, `user ${inQuotes(user)}`, 'double-quoted <F-USER>');
  const err = await rejection(r.run(unbanEvent(ban({ user: `'$(touch ${pwned})'` }))));
  tt.ok(err instanceof ActionError, 'single-quoted: a quote in the value breaks the command, it does not run anything');
  tt.notOk(existsSync(pwned), 'still nothing ran');
});

t.test('actioncheck before each ban; actionrepair when it fails; timeout; exit codes', async (tt) => {
  const dir = tt.testdir({
    first: {},
    'action.d': {
      'chk.conf': `[Definition]
actionstart = echo start >> <out>
actioncheck = test -e <flag>
actionrepair = echo repair >> <out>; touch <flag>
actionban = echo ban <ip> >> <out>
`,
      'slow.conf': '[Definition]\nactionban = sleep 30\n[Init]\ntimeout = 1\n',
      'fail.conf': '[Definition]\nactionban = echo nope >&2; exit 4\n',
      'gone.conf': '[Definition]\nactionban = /nonexistent/fleetban-nope\n',
      'empty.conf': '[Definition]\nactionban =\n',
    },
  });
  const out = join(dir, 'out');
  const flag = join(dir, 'flag');
  const r = only(dir, `action = chk[out="${out}", flag="${flag}"]`);
  await r.run(banEvent());
  tt.equal(readFileSync(out, 'utf8'), 'repair\nban 203.0.113.7\n', 'the check failed, repair ran, then the ban');
  const startErr = await rejection(only(dir, `action = chk[out="${out}", flag="${flag}-missing", actionrepair=false]`).start());
  tt.ok(startErr instanceof ActionError && startErr.retryable, 'start: a failing actioncheck rejects');

  const t0 = Date.now();
  const slow = await rejection(only(dir, 'action = slow').run(banEvent()));
  tt.ok(slow instanceof ActionError && slow.retryable, 'timeout (1 s from [Init] timeout): retryable');
  tt.ok(Date.now() - t0 < 10_000, 'the command was killed');
  const fail = await rejection(only(dir, 'action = fail').run(banEvent()));
  tt.ok(fail instanceof ActionError && fail.retryable);
  tt.match((fail as Error).message, /fail actionban: exited with code 4: nope/);
  const gone = await rejection(only(dir, 'action = gone').run(banEvent()));
  tt.ok(gone instanceof ActionError && !gone.retryable, 'command not found (127): not retryable');
  await only(dir, 'action = empty').run(banEvent());
  tt.pass('an empty actionban does nothing');
});

t.test('malformed action files are ConfigErrors', async (tt) => {
  const dir = tt.testdir({
    first: {},
    'action.d': {
      'loop.conf': '[Definition]\nactionban = <a>\n[Init]\na = x<b>\nb = <a>\n',
      'tmo.conf': '[Definition]\nactionban = true\n[Init]\ntimeout = soon\n',
      'interp.conf': '[Definition]\nactionban = %(missing)s\n',
    },
  });
  tt.throws(() => runners(dir, 'action = loop'), { code: 'CONFIG_INVALID', expected: /do not refer to themselves/ });
  tt.throws(() => runners(dir, 'action = tmo'), { code: 'CONFIG_INVALID', key: /sshd\.action \(line 2\): tmo timeout/, expected: /duration/ });
  tt.throws(() => runners(dir, 'action = interp'), { code: 'CONFIG_INVALID', file: join(dir, 'action.d', 'interp.conf') });
});

t.test("[DEFAULT]'s actions (for jails without a section, manual bans): <name> is the ban's jail", async (tt) => {
  const dir = tt.testdir({ 'action.d': { 'who.conf': '[Definition]\nactionban = echo "<name> <ip>" >> <out>\n' } });
  const out = join(dir, 'out');
  const cfg = parseConfig(`[DEFAULT]\naction = who[out="${out}"]\n[sshd]\n`, join(dir, 'fleetban.conf'), { hostname: 'ctl-1' });
  const ctx = { actionPath: [join(dir, 'action.d')], logger };
  const [d] = buildActions(cfg.jailDefaults, 'controller', ctx);
  const [s] = buildActions(cfg.jails[0] ?? cfg.jailDefaults, 'controller', ctx);
  await d?.run(banEvent(ban({ jail: 'manual' })));
  await s?.run(banEvent());
  tt.equal(readFileSync(out, 'utf8'), 'manual 203.0.113.7\nsshd 203.0.113.7\n');
});
