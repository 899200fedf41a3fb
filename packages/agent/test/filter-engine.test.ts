import t from 'tap';
import { DateDetector } from '../src/filter/date/date-detector.js';
import { fixedTimeZone, posixTimeZone } from '../src/filter/date/time-zone.js';
import { FilterEngine } from '../src/filter/filter-engine.js';
import { translatePython, RegexSyntaxError } from '../src/filter/pyre/pyre.js';

const NOW = Date.UTC(2005, 7, 14, 10, 0, 0); // 12:00 CEST

function m(python: string, text: string): (string | undefined)[] | null {
  const r = translatePython(python);
  const x = r.re.exec(text);
  return x && [x[0], ...[...r.names].map(([n, i]) => `${n}=${x[i] ?? '-'}`)];
}

t.test('Python regex syntax keeps its Python meaning', async (tt) => {
  tt.same(m('(?P<a>x)(?P=a)', 'xx'), ['xx', 'a=x'], 'named group and back-reference');
  tt.equal(m('(?P<a>x)?y(?P=a)', 'y'), null, 'a back-reference to a group that did not take part fails, as in Python');
  tt.same(m('(?P<v>invalid )?user (?(v)\\S+|[^:]+):', 'user a b:'), ['user a b:', 'v=-'], 'conditional, no branch');
  tt.same(m('(?P<v>invalid )?user (?(v)\\S+|[^:]+)', 'invalid user a b'), ['invalid user a', 'v=invalid '], 'conditional, yes branch');
  tt.throws(() => m('(?(1)a|b)', ''), /invalid group reference/, 'a conditional naming no earlier group is refused');
  tt.same(m('(?i)ab[c-d]', 'ABD'), ['ABD']);
  tt.same(m('a(?i:b)c', 'aBc'), ['aBc'], 'scoped flags');
  tt.equal(m('a(?i:b)c', 'aBC'), null);
  tt.same(m('x{,2}y', 'xxy'), ['xxy'], '{,n}');
  tt.same(m('a{b', 'a{b'), ['a{b'], 'a { that is no quantifier is literal');
  tt.same(m('a.b', 'a\rb'), ['a\rb'], 'dot takes \\r');
  tt.same(m('a$', 'a\n'), ['a'], '$ before a final newline');
  tt.equal(m('a\\Z', 'a\n'), null, '\\Z only at the very end');
  tt.same(m('\\w+', 'été'), ['été'], 'Unicode \\w');
  tt.same(m('(?a)\\w+', 'été'), ['t'], 'ASCII flag');
  tt.same(m('[\\W\\d]+', 'a-1b'), ['-1'], 'negated shorthand inside a class');
  tt.same(m('(?>a+)b', 'aab'), ['aab'], 'atomic group');
  tt.equal(m('a++a', 'aaa'), null, 'possessive quantifier');
  tt.same(m('(?x) a b # comment\n c', 'abc'), ['abc'], 'verbose mode');
  tt.same(m('\\x41\\u0042\\101', 'ABA'), ['ABA'], 'hex, unicode and octal escapes');
  for (const [bad, construct] of [['(?<n>x)', '(?<'], ['(?L)x', '(?L)'], ['\\N{DIGIT ONE}', '\\N'], ['a**', '**'], ['(?P=nope)', '(?P=nope)'], ['[z-a]', 'z-a'], ['x(?i)y', '(?i)']]) {
    try {
      translatePython(bad as string);
      tt.fail(`${bad}: expected an error`);
    } catch (err) {
      tt.ok(err instanceof RegexSyntaxError && err.construct.includes(construct as string), `${bad}: ${(err as Error).message}`);
    }
  }
});

t.test('dates: default templates, year-less dates, datepattern codes, epoch, TAI64N, {NONE}', async (tt) => {
  const zone = posixTimeZone('CET-01CEST-02,M3.5.0,M10.5.0');
  const ctx = { nowMs: NOW, defaultOffset: undefined, zone };
  const time = (patterns: string[], line: string): number | null => {
    const d = new DateDetector(() => NOW, NOW);
    for (const p of patterns) d.appendPattern(p);
    const found = d.matchTime(line);
    return found && d.getTime(found, ctx);
  };
  const local = (y: number, mo: number, d: number, h: number, mi: number, s: number) => zone.fromLocal(Date.UTC(y, mo - 1, d, h, mi, s)) / 1000;
  tt.equal(time([], 'Jun 21 16:47:46 host x[1]: y'), local(2005, 6, 21, 16, 47, 46), 'syslog date, this year');
  tt.equal(time([], 'Dec 31 23:59:59 host x: y'), local(2004, 12, 31, 23, 59, 59), 'a date more than a day ahead is last year');
  tt.equal(time([], '2005-08-14T09:00:00Z x'), Date.UTC(2005, 7, 14, 9) / 1000, 'ISO 8601 with a zone');
  tt.equal(time([], '[1124013500] x'), 1124013500, 'epoch');
  tt.equal(time(['%%d/%%b/%%Y'.replace(/%%/g, '%')], 'at 14/Aug/2005 x'), local(2005, 8, 14, 0, 0, 0), '%d/%b/%Y');
  tt.equal(time(['^%Y%m%d %H%M%S'], '20050814 101112 x'), local(2005, 8, 14, 10, 11, 12));
  tt.equal(time(['{^LN-BEG}%H:%M:%S'], '09:10:11 x'), local(2005, 8, 14, 9, 10, 11), 'a time without a date is today');
  tt.equal(time(['TAI64N'], '@4000000042ff1a2b1234abcd x'), 0x42ff1a2b - 0x0, 'TAI64N');
  const none = new DateDetector(() => NOW, NOW);
  none.appendPattern('{NONE}');
  tt.equal(none.matchTime('Jun 21 16:47:46 x')?.match[0], '', '{NONE}: no date text (the engine then uses now)');
  tt.equal(time([], 'Feb 30 10:00:00 x'), null, 'an impossible date');
  const arabicIndic = time(['EPOCH'], '[11240٣3500] x');
  tt.ok(arabicIndic === null || Number.isFinite(arabicIndic), 'an epoch with another script\'s digit is never NaN (the fuzz found one)');
});

t.test('engine: the date is cut out, multi-line buffers, mlfid sessions, logtimezone', async (tt) => {
  const e = new FilterEngine({ failregex: ['^ host x: fail from <HOST>$'], ignoreregex: [], logtimezone: 'UTC' }, { clock: () => NOW, zone: fixedTimeZone(120) });
  const [f] = e.processLine('Aug 14 09:59:00 host x: fail from 192.0.2.1');
  tt.same(f && [f.fid, f.time], ['192.0.2.1', Date.UTC(2005, 7, 14, 9, 59) / 1000], 'logtimezone UTC');
  tt.same(e.processLine('x: fail from 192.0.2.1'), [], 'anchored: the date must be cut out first');
  const ml = new FilterEngine({ failregex: ['^conn (?P<c>\\d+) from <HOST>\\n(?:.*\\n)*?conn (?P=c) failed$'], ignoreregex: [], maxlines: 5, datepattern: ['{NONE}'] }, { clock: () => NOW, zone: fixedTimeZone(0) });
  tt.same(ml.processLine('conn 1 from 192.0.2.7'), []);
  tt.same(ml.processLine('conn 2 from 192.0.2.8'), []);
  tt.same(ml.processLine('conn 1 failed').map((x) => x.fid), ['192.0.2.7'], 'maxlines: a failure over several lines');
  const s = new FilterEngine({
    prefregex: '^<F-MLFID>s\\d+</F-MLFID>: <F-CONTENT>.+</F-CONTENT>$',
    failregex: ['^<F-NOFAIL>connect</F-NOFAIL> from <HOST>$', '^auth failed user <F-USER>\\S+</F-USER>$'],
    ignoreregex: [],
    datepattern: ['{NONE}'],
  }, { clock: () => NOW, zone: fixedTimeZone(0) });
  tt.same(s.processLine('s1: connect from 192.0.2.9').filter((x) => !x.fields.nofail), []);
  const [a] = s.processLine('s1: auth failed user bob');
  tt.same(a && [a.fid, a.fields.user, (a.fields.matches as unknown[]).length], ['192.0.2.9', 'bob', 2], 'F-MLFID merges the session');
});

t.test('engine in two halves (frontNl on one engine, processLineNlFront on another) gives what one engine gives', async (tt) => {
  const spec = {
    prefregex: String.raw`^\s*\S+ (?P<daemon>sshd)\[<F-MLFID>\d+</F-MLFID>\]: <F-CONTENT>.+</F-CONTENT>$`,
    failregex: [String.raw`^Failed password for (?:invalid user )?<F-USER>\S+</F-USER> from <HOST>`, String.raw`^<F-NOFAIL>Connection from</F-NOFAIL> <HOST>`, String.raw`^Disconnected from <HOST>`],
    ignoreregex: [],
    datepattern: ['{^LN-BEG}'],
  };
  const lines = [
    'Aug 14 11:59:58 web-1 sshd[1]: Connection from 192.0.2.1 port 1',
    'Aug 14 11:59:59 web-1 sshd[1]: Failed password for root from 192.0.2.1 port 1 ssh2',
    'Aug 14 11:59:59 web-1 CRON[3]: session opened for user root',
    'Aug 14 11:59:59 web-1 sshd[2]: pam_unix(sshd:auth): check pass; user unknown',
    'Aug 14 12:00:00 web-1 sshd[4]: error: kex_exchange_identification: Connection closed',
    'web-1 sshd[2]: Failed password for invalid user bob from 2001:db8::7 port 2 ssh2',
    'Aug 14 11:60:61 web-1 sshd[2]: Disconnected from 198.51.100.3 port 3',
  ];
  const make = (): FilterEngine => new FilterEngine(spec, { clock: () => NOW, zone: fixedTimeZone(0), checkAllRegex: true });
  const one = make();
  const back = make();
  const front = make();
  const misses = back.missTable();
  tt.ok(misses !== undefined, 'a filter with <F-CONTENT> and no ignoreregex has a miss table');
  const f = back.newFront();
  const told: number[] = [];
  lines.forEach((line, i) => {
    const want = one.processLineNl(`${line}\n`);
    // the prefregex searched by the first half on even lines only
    front.frontNl(`${line}\n`, f, i % 2 === 0, misses);
    told.push(f.pref);
    const got = back.processLineNlFront(`${line}\n`, f);
    tt.same(got.map((x) => [x.regex, x.fid, x.time, x.fields.user, x.fields.nofail]), want.map((x) => [x.regex, x.fid, x.time, x.fields.user, x.fields.nofail]), `line ${i + 1}: the same failures`);
    tt.same(back.buffer, one.buffer, `line ${i + 1}: the same buffer`);
  });
  tt.equal(back.prefHits, one.prefHits, 'the same prefregex hits');
  tt.ok(told.includes(3), 'some line was told no failregex can match it');
  tt.ok(told.includes(1) && told.includes(0), 'and some had no prefregex match, or were left to the second half');
});
