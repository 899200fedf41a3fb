// The web view's parts without a browser or NATS: the ban feed's diffs, the per-minute series,
// the summary's tops and prefixes, tokens and sessions, and the configuration keys.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { waitUntil } from './fixtures/wait-until.js';
import { type BanDecision, configView, parseConfig } from '@fleetban/shared';
import { BanFeed, FEED_FULL_PASS_MS, FEED_INTERVAL_MS } from '../packages/controller/src/web/ban-feed.js';
import { FleetSeries } from '../packages/controller/src/web/fleet-series.js';
import { prefixOf } from '../packages/controller/src/web/fleet-summary.js';
import { CounterSet } from '../packages/controller/src/metrics/counter-set.js';
import { resolveToken, WebAuth, WebTokenError, cookieOf } from '../packages/controller/src/web/web-auth.js';
import { escapeHtml, loginHtml } from '../packages/controller/src/web/assets/page-html.js';

const ban = (ip: string, atMs = 1_000, expiresMs = 100_000, extra: Partial<BanDecision> = {}): BanDecision => ({
  ip, jail: 'sshd', atMs, expiresMs, reason: 'threshold', banCount: 1, hosts: ['web-1'], matches: ['Failed password for <b>x</b>'], failures: 3, scope: [], ...extra,
});

t.test('BanFeed: added, replaced, lifted and expired bans, one pass per tick', async (t) => {
  const bans = new Map<string, BanDecision>();
  let now = 10_000;
  const feed = new BanFeed({ bans }, () => now);
  const seen: { added: string[]; removed: string[] }[] = [];
  feed.subscribe((d) => seen.push({ added: d.added.map((r) => r[0]), removed: [...d.removed] }));
  bans.set('203.0.113.1', ban('203.0.113.1'));
  bans.set('203.0.113.2', ban('203.0.113.2', 1_000, 20_000));
  feed.tick();
  t.same(seen.pop(), { added: ['203.0.113.1', '203.0.113.2'], removed: [] }, 'new bans are added');
  t.same(feed.tick(), { added: [], removed: [] }, 'nothing changed: no diff');
  t.equal(seen.length, 0, 'and no listener called');
  bans.set('203.0.113.1', ban('203.0.113.1', 2_000, 200_000, { banCount: 2 }));
  feed.tick();
  t.same(seen.pop(), { added: ['203.0.113.1'], removed: [] }, 'a replaced decision is sent again');
  bans.delete('203.0.113.1');
  feed.tick();
  t.same(seen.pop(), { added: [], removed: ['203.0.113.1'] }, 'a lifted ban is removed');
  now = 20_000;
  feed.tick();
  t.same(seen.pop(), { added: [], removed: ['203.0.113.2'] }, 'an expired ban leaves before the expiry loop removes it');
  t.equal(feed.size, 0);
  bans.set('2001:db8::1', ban('2001:db8::1', 1_000, 0, { user: '<script>', matches: ['x'.repeat(500)] }));
  const d = feed.tick();
  t.equal(d.added[0]?.[4], 0, 'a permanent ban is shown (expiry 0)');
  t.equal(d.added[0]?.[8], '<script>', 'the user is carried as data');
  t.ok((d.added[0]?.[9].length ?? 0) <= 161, 'the evidence line is cut');
});

t.test('BanFeed: a tick over 100,000 bans stays cheap', async (t) => {
  const bans = new Map<string, BanDecision>();
  for (let i = 0; i < 100_000; i++) bans.set(`198.18.${i >> 8}.${i & 255}`, ban(`198.18.${i >> 8}.${i & 255}`));
  const feed = new BanFeed({ bans }, () => 10_000);
  feed.tick();
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) feed.tick();
  const per = (performance.now() - t0) / 10;
  t.comment(`one tick over 100,000 unchanged bans: ${per.toFixed(2)} ms (the feed may tick every ${FEED_INTERVAL_MS} ms)`);
  t.equal(feed.size, 100_000);
});

t.test("BanFeed: with the store's events it passes over the list only when something may have changed", async (t) => {
  let passes = 0;
  class CountingMap extends Map<string, BanDecision> {
    override [Symbol.iterator](): MapIterator<[string, BanDecision]> {
      passes++;
      return super[Symbol.iterator]();
    }
  }
  const bans = new CountingMap();
  const hear = new Set<() => void>();
  const tell = () => {
    for (const l of hear) l();
  };
  let now = 10_000;
  const feed = new BanFeed({ bans, onEvent: (l) => (hear.add(l), () => hear.delete(l)) }, () => now, 5);
  const seen: string[] = [];
  feed.subscribe((d) => seen.push([...d.added.map((r) => r[0]), ...d.removed.map((ip) => `-${ip}`)].join(' ')));
  feed.start();
  t.teardown(() => feed.stop());
  await new Promise((r) => setTimeout(r, 100));
  t.equal(passes, 1, 'nothing told, nothing expiring: one pass at the start, none in 20 intervals');
  bans.set('203.0.113.1', ban('203.0.113.1', 1_000, 30_000));
  tell();
  await waitUntil(async () => seen.length === 1, 'the ban on the feed');
  t.same(seen, ['203.0.113.1'], 'a ban the store tells of is sent');
  const after = passes;
  await new Promise((r) => setTimeout(r, 100));
  t.equal(passes, after, 'then nothing again');
  now = 30_000;
  await waitUntil(async () => seen.length === 2, 'the expiry on the feed');
  t.same(seen[1], '-203.0.113.1', 'its expiry passing is a reason to look: it leaves the page');
  bans.set('203.0.113.2', ban('203.0.113.2', 1_000, 0));
  now += FEED_FULL_PASS_MS;
  await waitUntil(async () => seen.length === 3, 'the full pass');
  t.same(seen[2], '203.0.113.2', 'a change the store did not tell of is found by the full pass');
  t.equal(hear.size, 1);
  feed.stop();
  t.equal(hear.size, 0, 'stop stops hearing the store');
});

t.test('FleetSeries: counters grown since the last sample, per minute', async (t) => {
  const c = new CounterSet();
  c.add('events.counted', 5);
  const s = new FleetSeries(c);
  c.add('events.counted', 3);
  c.add('bans.made', 1, ['sshd', 'threshold']);
  s.sample(60_000 * 100 + 5_000);
  c.add('bans.manual', 2, ['manual', 'manual']);
  s.sample(60_000 * 100 + 30_000);
  c.add('events.counted', 1);
  s.sample(60_000 * 101);
  t.same(s.points(), [
    { minuteMs: 6_000_000, failures: 3, bans: 3 },
    { minuteMs: 6_060_000, failures: 1, bans: 0 },
  ], 'what happened before it was made is not counted; each minute its own');
  s.sample(60_000 * 200);
  t.same(s.points().map((p) => p.minuteMs), [12_000_000], 'minutes older than an hour are dropped');
});

t.test('prefixOf: /24 and /64, wider networks are their own', async (t) => {
  t.equal(prefixOf('203.0.113.7'), '203.0.113.0/24');
  t.equal(prefixOf('2001:db8:1:2:3::4'), '2001:db8:1:2::/64');
  t.equal(prefixOf('198.51.100.128/25'), '198.51.100.0/24');
  t.equal(prefixOf('198.51.0.0/16'), '198.51.0.0/16');
  t.equal(prefixOf('not an address'), 'not an address');
});

t.test('WebAuth: tokens, roles, sessions and the CSRF token', async (t) => {
  let now = 0;
  const auth = new WebAuth('read-token-0123456789', 'admin-token-0123456789', () => now);
  t.equal(auth.roleOf('read-token-0123456789'), 'read');
  t.equal(auth.roleOf('admin-token-0123456789'), 'admin');
  t.equal(auth.roleOf('read-token-012345678'), null, 'a prefix is not the token');
  t.equal(auth.roleOf(''), null);
  const id = auth.open('admin');
  const s = auth.session(`other=1; fleetban_session=${id}`);
  t.equal(s?.role, 'admin', 'the session is found by its cookie');
  t.ok(s && WebAuth.csrfMatches(s, s.csrf), 'its CSRF token matches');
  t.notOk(s && WebAuth.csrfMatches(s, 'nope'), 'another does not');
  t.notOk(s && WebAuth.csrfMatches(s, undefined), 'nor a missing one');
  t.equal(auth.session('fleetban_session=forged'), undefined, 'an unknown id is no session');
  now = 13 * 3_600_000;
  t.equal(auth.session(`fleetban_session=${id}`), undefined, 'a session ends after 12 hours');
  const noAdmin = new WebAuth('read-token-0123456789', '', () => 0);
  t.equal(noAdmin.roleOf(''), null, 'without an admin token, the empty string is no admin');
  t.equal(cookieOf('a=1; b = 2', 'b'), '2');
});

t.test('resolveToken: inline, from a file, refused', async (t) => {
  const dir = testDir(t, {});
  const file = join(dir, 'web.token');
  writeFileSync(file, 'token-from-a-file-0123\n');
  t.equal(await resolveToken('web_token', `file:${file}`), 'token-from-a-file-0123', 'the first line, trimmed');
  t.equal(await resolveToken('web_token', 'inline-token-0123456789'), 'inline-token-0123456789');
  t.equal(await resolveToken('web_token', ''), '');
  await t.rejects(resolveToken('web_token', `file:${join(dir, 'missing')}`), WebTokenError, 'a missing file');
  writeFileSync(file, 'short\n');
  await t.rejects(resolveToken('web_admin_token', `file:${file}`), WebTokenError, 'a short token in a file');
});

t.test('config: web, web_token, web_admin_token', async (t) => {
  const conf = (lines: string) => parseConfig(`[fleetban]\nhost = ctl\n\n[controller]\n${lines}\n`, '/etc/fleetban/fleetban.conf');
  const c = conf('web = 127.0.0.1:9610\nweb_token = file:/etc/fleetban/web.token\nweb_admin_token = an-inline-admin-token-01').controller;
  t.same(c.web, { host: '127.0.0.1', port: 9610 });
  t.equal(c.webToken, 'file:/etc/fleetban/web.token');
  t.equal(c.webAdminToken, 'an-inline-admin-token-01');
  t.same(conf('').controller.web, null, 'off by default');
  t.throws(() => conf('web_token = short'), { message: /web_token/ }, 'a short inline token is refused on load');
  t.throws(() => conf('web_token = file:relative/path'), { message: /web_token/ }, 'a relative file is refused');
  t.throws(() => conf('web = 127.0.0.1'), { message: /web/ }, 'an address without a port is refused');
  const view = configView(conf('web_token = file:/etc/fleetban/web.token\nweb_admin_token = an-inline-admin-token-01'));
  const values = view.find((s) => s.section === 'controller')?.values ?? [];
  t.equal(values.find((v) => v.key === 'web_token')?.value, 'file:/etc/fleetban/web.token', 'config show shows a token file');
  t.equal(values.find((v) => v.key === 'web_admin_token')?.value, '********', 'and masks an inline token');
});

t.test('the login page escapes its message', async (t) => {
  t.equal(escapeHtml(`<a href="x">'&`), '&#60;a href=&#34;x&#34;&#62;&#39;&#38;');
  t.notMatch(loginHtml('<script>'), /<script>/);
});
