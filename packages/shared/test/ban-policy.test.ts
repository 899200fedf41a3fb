/**
 * fail2ban's ban policies, pure: bantime.increment against fail2ban 1.0's own numbers
 * (server/jail.py setBanTimeExtra + server/observer.py incrBanTime), the bantime.formula
 * evaluator and its refusals, the config keys (policy, bantime.overalljails, dbpurgeage), the
 * recidive count, the history codec and the byte cap on matched lines. No clock, no NATS.
 */
import t from 'tap';
import { parseConfig } from '../src/config/load.js';
import { ConfigError } from '../src/errors.js';
import { decodeOffence, encodeOffence } from '../src/nats/ban-list.js';
import { banDuration } from '../src/policy/bantime.js';
import { DEFAULT_BANTIME_FORMULA, parseFormula } from '../src/policy/bantime-formula.js';
import { FailureWindow, MAX_MATCH_BYTES } from '../src/policy/failure-window.js';
import { bansInWindow, RECENT_BANS_KEPT, withBanTime } from '../src/policy/recidive.js';
import { PERMANENT } from '../src/time/duration.js';
import { testJail } from '../../../test/fixtures/jail-config.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const FILE = '/etc/fleetban/fleetban.conf';
const opts = { hostname: 'web-1' };

/** What fail2ban's lambda gives, in seconds, for bantime `time` s and `count` previous bans (its default formula). */
const f2bDefault = (time: number, count: number, factor = 1) => Math.max(time, time * 2 ** Math.min(count, 20) * factor);

t.test('bantime.increment, default formula: bantime 10m, factor 1 gives 10m, 20m, 40m, ... capped by maxtime', async (t) => {
  const j = testJail({ bantimeMs: 10 * MIN, increment: { enabled: true } });
  const want = [10, 20, 40, 80, 160, 320, 640].map((m) => m * MIN);
  want.forEach((ms, previous) => t.equal(banDuration(j, previous), ms, `ban #${previous + 1}: ${ms / MIN}m`));
  for (let count = 1; count <= 25; count++) t.equal(banDuration(j, count), f2bDefault(600, count) * 1000, `same as fail2ban's lambda, ban.Count = ${count}`);
  t.equal(banDuration(j, 21), banDuration(j, 20), 'the exponent stops at 20');
  const capped = testJail({ bantimeMs: 10 * MIN, increment: { enabled: true, maxtimeMs: 5 * HOUR } });
  t.same([0, 1, 2, 3, 4, 5, 6, 10].map((p) => banDuration(capped, p) / MIN), [10, 20, 40, 80, 160, 300, 300, 300], 'maxtime 5h caps the growth');
  const bigFirst = testJail({ bantimeMs: 10 * HOUR, increment: { enabled: true, maxtimeMs: HOUR } });
  t.equal(banDuration(bigFirst, 0), 10 * HOUR, 'a first ban is the bantime even above maxtime (fail2ban applies its lambda to repeat offenders only)');
  t.equal(banDuration(bigFirst, 1), HOUR, 'a repeat is capped');
  const f2 = testJail({ bantimeMs: 10 * MIN, increment: { enabled: true, factor: 2 } });
  t.same([0, 1, 2, 3].map((p) => banDuration(f2, p) / MIN), [10, 40, 80, 160], 'factor 2: bantime × 2^count × 2 from the second ban');
  const small = testJail({ bantimeMs: 10 * MIN, increment: { enabled: true, factor: 0.25 } });
  t.same([1, 2, 3].map((p) => banDuration(small, p) / MIN), [10, 10, 20], 'never below bantime (max(ban.Time, formula))');
});

t.test('bantime.multipliers 1 5 30 60 300 720 1440 2880 (jail.conf): indexed by ban count, the last repeated', async (t) => {
  const j = testJail({ bantimeMs: MIN, increment: { enabled: true, multipliers: [1, 5, 30, 60, 300, 720, 1440, 2880] } });
  // jail.conf: "for bantime=60 the multipliers are minutes and equal: 1 min, 5 min, 30 min, 1 hour, 5 hour, 12 hour, 1 day, 2 day"
  t.same([0, 1, 2, 3, 4, 5, 6, 7, 8, 50].map((p) => banDuration(j, p) / MIN), [1, 5, 30, 60, 300, 720, 1440, 2880, 2880, 2880]);
  const tenMin = testJail({ bantimeMs: 10 * MIN, increment: { enabled: true, multipliers: [1, 5, 30, 60, 300, 720, 1440, 2880], maxtimeMs: 7 * DAY } });
  t.same([0, 1, 2, 3, 4, 5, 6, 7].map((p) => banDuration(tenMin, p) / MIN), [10, 50, 300, 600, 3000, 7200, 10080, 10080], 'bantime 10m, maxtime 1w');
  const factor = testJail({ bantimeMs: MIN, increment: { enabled: true, factor: 2, multipliers: [1, 5] } });
  t.equal(banDuration(factor, 1), 10 * MIN, 'multipliers × factor');
  t.equal(banDuration(factor, 0), MIN, 'first ban: bantime');
});

t.test('bantime.rndtime adds [0, rndtime) to repeat bans, after the maxtime cap', async (t) => {
  const j = testJail({ bantimeMs: 10 * MIN, increment: { enabled: true, maxtimeMs: 30 * MIN, rndtimeMs: 10 * MIN } });
  t.equal(banDuration(j, 1, () => 0.5), 25 * MIN);
  t.equal(banDuration(j, 5, () => 0.5), 35 * MIN, 'capped, then the random part');
  t.equal(banDuration(j, 0, () => 0.5), 10 * MIN, 'a first ban: no random part');
  t.equal(banDuration(testJail({ bantimeMs: PERMANENT, increment: { enabled: true } }), 3), PERMANENT, 'permanent stays permanent');
});

t.test('bantime.formula: fail2ban\'s default text, and other Python-subset formulas', async (t) => {
  const f = parseFormula(DEFAULT_BANTIME_FORMULA);
  for (const count of [1, 2, 5, 19, 20, 21, 40]) t.equal(f({ time: 600, count, factor: 1 }), 600 * 2 ** Math.min(count, 20), `default, count ${count}`);
  // jail.conf's "more aggressive example"
  const exp = parseFormula('ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)');
  t.equal(Math.round(exp({ time: 600, count: 2, factor: 1 })), Math.round(600 * Math.exp(3) / Math.exp(1)));
  const eval_ = (text: string, count = 3) => parseFormula(text)({ time: 600, count, factor: 1.5 });
  t.equal(eval_('2 ** 3 ** 2'), 512, '** is right-associative');
  t.equal(eval_('-2 ** 2'), -4, 'unary minus binds looser than **');
  t.equal(eval_('7 // 2 + 7 % 3'), 4);
  t.equal(eval_('-7 // 2'), -4, 'floor division as Python');
  t.equal(eval_('1 << 4 >> 1'), 8);
  t.equal(eval_('1 if 1 < ban.Count <= 3 else 2'), 1, 'chained comparison');
  t.equal(eval_('1 if 1 < ban.Count <= 2 else 2'), 2);
  t.equal(eval_('min(ban.Time * ban.Count, 1000) + max(1, 2, 3)'), 1003);
  t.equal(eval_('ban.Time * banFactor if ban.Count > 2 and not ban.Count == 5 or False else 0'), 900);
  t.equal(eval_('ban.Time + 3600 * (ban.Count - 1)'), 600 + 7200);
  const refused = (text: string) => t.throws(() => parseFormula(text), { code: 'PARSE_INVALID' }, `refused: ${text}`);
  refused('__import__("os").system("id")');
  refused('ban.Time.__class__');
  refused('open("/etc/passwd")');
  refused('ban.Time * ');
  refused('(ban.Time');
  refused('ban.Time if ban.Count');
  refused('lambda: 1');
  refused('[1, 2][0]');
  refused('min()');
  refused('abs(1, 2)');
  refused('');
  t.throws(() => parseFormula('ban.Time / (ban.Count - 3)')({ time: 600, count: 3, factor: 1 }), RangeError, 'division by zero at run time');
  t.throws(() => parseFormula('1 << 0.5')({ time: 600, count: 3, factor: 1 }), RangeError, 'a float shift is refused, as Python does');
});

t.test('bantime.formula in a jail: evaluated in seconds, used instead of the default', async (t) => {
  const linear = testJail({ bantimeMs: 10 * MIN, increment: { enabled: true, formula: 'ban.Time + 3600 * ban.Count' } });
  t.same([0, 1, 2].map((p) => banDuration(linear, p) / MIN), [10, 70, 130]);
  const shorter = testJail({ bantimeMs: 10 * MIN, increment: { enabled: true, formula: 'ban.Time / 2' } });
  t.equal(banDuration(shorter, 1), 10 * MIN, 'floored at bantime');
  const failing = testJail({ bantimeMs: 10 * MIN, increment: { enabled: true, formula: 'ban.Time / (ban.Count - 2)' } });
  t.equal(banDuration(failing, 2), 10 * MIN, 'a formula that fails at run time leaves the bantime (fail2ban logs and keeps it)');
});

t.test('config: the bantime.* keys, policy and dbpurgeage', async (t) => {
  const c = parseConfig(
    `[controller]\ndbpurgeage = 7d\n\n[DEFAULT]\nbantime.increment = true\nbantime.overalljails = yes\n\n[sshd]\nbantime.formula = ban.Time * (ban.Count + 1)\nbantime.factor = 2.0 / 2.885385\n\n[recidive]\npolicy = recidive\nenabled = true\nfindtime = 1d\nbantime = 1w\n`,
    FILE,
    opts,
  );
  t.equal(c.controller.dbPurgeAgeMs, 7 * DAY);
  const [sshd, recidive] = c.jails;
  t.equal(sshd?.increment.formula, 'ban.Time * (ban.Count + 1)');
  t.ok(Math.abs((sshd?.increment.factor ?? 0) - 2 / 2.885385) < 1e-12, 'factor as an expression, as fail2ban evaluates it');
  t.equal(sshd?.increment.overalljails, true, 'from [DEFAULT]');
  t.equal(sshd?.policy, 'threshold');
  t.equal(recidive?.policy, 'recidive');
  t.equal(parseConfig('', '', opts).controller.dbPurgeAgeMs, DAY, 'dbpurgeage defaults to 1d');
  t.equal(parseConfig('[sshd]\ndbpurgeage = 2d\n', FILE, opts).jails[0]?.name, 'sshd', 'dbpurgeage in a jail is accepted (fail2ban\'s habit) and ignored');

  const bad = (text: string, key: RegExp, expected: RegExp, what: string) => {
    try {
      parseConfig(text, FILE, opts);
      t.fail(`${what}: accepted`);
    } catch (err) {
      t.type(err, ConfigError, what);
      const e = err as ConfigError;
      t.equal(e.file, FILE, `${what}: names the file`);
      t.match(e.key, key, `${what}: names the key (${e.key})`);
      t.match(e.expected, expected, `${what}: says what is accepted (${e.message})`);
    }
  };
  bad('[sshd]\nbantime.formula = __import__("os").system("reboot")\n', /^sshd\.bantime\.formula \(line 2\)$/, /formula using only numbers.*ban\.Time.*ban\.Count.*banFactor/, 'a formula outside the subset');
  bad('[sshd]\nbantime.formula = ban.Time / (ban.Count - 3)\n', /^sshd\.bantime\.formula/, /ban\.Count = 3 fails/, 'a formula failing for some count');
  bad('[sshd]\nbantime.formula = ban.Time * 10 ** (ban.Count * 100)\n', /^sshd\.bantime\.formula/, /finite number/, 'a formula overflowing');
  bad('[sshd]\nbantime.factor = 0 * 1\n', /^sshd\.bantime\.factor/, /positive number/, 'a zero factor');
  bad('[sshd]\nbantime.overalljails = maybe\n', /^sshd\.bantime\.overalljails/, /boolean/, 'overalljails not a boolean');
  bad('[sshd]\npolicy = recidivist\n', /^sshd\.policy/, /threshold, recidive/, 'an unknown policy');
  bad('[controller]\ndbpurgeage = soon\n', /^controller\.dbpurgeage/, /positive duration/, 'a bad dbpurgeage');
  bad('[recidive]\npolicy = recidive\nenabled = true\nfindtime = 2d\n', /^recidive\.findtime \(line 4\)$/, /no longer than \[controller\] dbpurgeage \(1d\)/, 'a recidive findtime beyond dbpurgeage');
  bad('[recidive]\npolicy = recidive\nenabled = true\nmaxretry = 65\nfindtime = 1h\n', /^recidive\.maxretry/, /at most 64 bans/, 'a recidive maxretry beyond what the history keeps');
  t.equal(parseConfig('[recidive]\npolicy = recidive\nfindtime = 2d\n', FILE, opts).jails[0]?.enabled, false, 'a disabled recidive jail is not checked against dbpurgeage');
});

t.test('recidive: bans in the window, over every jail but the recidive ones, after the last recidive ban', async (t) => {
  const now = 10 * DAY;
  const history = [
    { jail: 'sshd', times: [now - 2 * DAY, now - 5 * HOUR, now - HOUR] },
    { jail: 'nginx', times: [now - 30 * MIN, now] },
    { jail: 'recidive', times: [now - 10 * MIN] },
  ];
  const exclude = new Set(['recidive']);
  t.same(bansInWindow(history, exclude, DAY, now, 0), [now - 5 * HOUR, now - HOUR, now - 30 * MIN, now], 'within findtime 1d, sorted');
  t.same(bansInWindow(history, exclude, DAY, now, now - 2 * HOUR), [now - HOUR, now - 30 * MIN, now], 'bans before the last recidive ban do not count again');
  t.same(bansInWindow(history, new Set(), HOUR, now, 0), [now - 30 * MIN, now - 10 * MIN, now], 'window bounds: (now - findtime, now]');
  let times: number[] = [];
  for (let i = 0; i < RECENT_BANS_KEPT + 10; i++) times = withBanTime(times, i * MIN);
  t.equal(times.length, RECENT_BANS_KEPT, 'at most RECENT_BANS_KEPT ban times per (jail, address)');
  t.equal(times[0], 10 * MIN, 'the oldest dropped');
  t.same(withBanTime([1, 2], 2), [1, 2], 'the same ban (widened) is not counted twice');
});

t.test('history codec: four fields and ban times; the older three-field values still load', async (t) => {
  const o = { count: 3, lastBanMs: 1000, clearedAtMs: 2000, endsMs: 2000, banTimesMs: [10, 1000] };
  t.same(decodeOffence(encodeOffence(o)), o);
  const none = { ...o, banTimesMs: [] };
  t.same(decodeOffence(encodeOffence(none)), none);
  t.same(decodeOffence('2 1000 5000'), { count: 2, lastBanMs: 1000, clearedAtMs: 5000, endsMs: 5000, banTimesMs: [] }, 'legacy value');
  t.same(decodeOffence('1 1000 0'), { count: 1, lastBanMs: 1000, clearedAtMs: 0, endsMs: 1000, banTimesMs: [] }, 'legacy value, nothing cleared');
  for (const bad of ['', 'x 1 2', '1 2', '1 2 3 4', '1 2 3 x -', '1 2 3 4 5,y']) t.equal(decodeOffence(bad), null, `malformed: ${JSON.stringify(bad)}`);
});

t.test('maxmatches: at most 16 KiB of matched lines per address, oldest dropped first', async (t) => {
  const w = new FailureWindow({ findtimeMs: HOUR, maxmatches: 100, maxTracked: 10 });
  const big = (n: number) => `${n} `.padEnd(4000, 'x');
  let last;
  for (let i = 0; i < 10; i++) last = w.add('192.0.2.1', i * SEC, 'web-1', big(i));
  const bytes = last!.matches.reduce((n, m) => n + Buffer.byteLength(m), 0);
  t.ok(bytes <= MAX_MATCH_BYTES, `${bytes} bytes kept`);
  t.same(last!.matches.map((m) => m.split(' ')[0]), ['6', '7', '8', '9'], 'the newest four lines of 4000 bytes');
  t.equal(last!.times.length, 10, 'every failure still counts');
  const multi = new FailureWindow({ findtimeMs: HOUR, maxmatches: 100, maxTracked: 10 });
  for (let i = 0; i < 20; i++) last = multi.add('192.0.2.2', i * SEC, 'web-1', 'é'.repeat(1000));
  t.equal(last!.matches.length, 8, 'bytes of UTF-8, not characters (2000 bytes a line)');
  const huge = new FailureWindow({ findtimeMs: HOUR, maxmatches: 5, maxTracked: 10 });
  last = huge.add('192.0.2.3', 0, 'web-1', 'y'.repeat(20_000));
  t.equal(last.matches.length, 1, 'the newest line is always kept');
  const few = new FailureWindow({ findtimeMs: HOUR, maxmatches: 2, maxTracked: 10 });
  for (let i = 0; i < 5; i++) last = few.add('192.0.2.4', i * SEC, 'web-1', `line ${i}`);
  t.same(last!.matches, ['line 3', 'line 4'], 'maxmatches still applies first');
});
