/**
 * The controller's ban policies over the history, in memory: the offence book's index by address
 * (bantime.overalljails), recidive over the fleet's bans, and the dbpurgeage rule. Bans and
 * offences are plain data, time is a number. No NATS.
 */
import t from 'tap';
import { type BanDecision, type FailureEvent, historyKey, type JailConfig, type Offence } from '@fleetban/shared';
import { JailTrackers } from '../src/aggregate/jail-tracker.js';
import { BanDecider } from '../src/decide/ban-decider.js';
import { fleetGuard } from '../src/decide/fleet-guard.js';
import { HostRegistry } from '../src/fleet/host-registry.js';
import { RecidivePolicy } from '../src/recidive/recidive-policy.js';
import { OffenceBook, purgeableKeys } from '../src/store/offence-book.js';
import { type JailOverrides, testJail } from '../../../test/fixtures/jail-config.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const NOW = 1_700_000_000_000;
const LIMITS = { minPrefixV4: 16, minPrefixV6: 32, maxBantimeMs: 365 * DAY };

const recidiveJail = (over: JailOverrides = {}): JailConfig =>
  testJail({ name: 'recidive', policy: 'recidive', maxretry: 3, findtimeMs: DAY, bantimeMs: WEEK, logpath: [], ...over });

/** The world the policies read: the store's maps, and what storing a ban does to them (as BanStore.ban). */
class World {
  readonly bans = new Map<string, BanDecision>();
  readonly offences = new OffenceBook();
  readonly hosts = new HostRegistry();
  readonly guard;
  readonly recidive: RecidivePolicy;
  constructor(jails: JailConfig[], ignoreip: string[] = []) {
    this.guard = fleetGuard({ hosts: this.hosts, natsServers: [], controller: [], ignoreip, limits: LIMITS });
    this.recidive = new RecidivePolicy(jails, { bans: this.bans, offences: this.offences, guard: this.guard });
  }

  /** Stores a ban as BanStore.ban records it. */
  store(b: BanDecision): void {
    this.bans.set(b.ip, b);
    const key = historyKey(b.jail, b.ip);
    const before = this.offences.get(key);
    const endsMs = b.expiresMs === 0 ? Number.MAX_SAFE_INTEGER : b.expiresMs;
    const times = before?.banTimesMs ?? [];
    this.offences.set(key, {
      count: b.reason === 'manual' ? (before?.count ?? 0) : b.banCount,
      lastBanMs: b.atMs,
      clearedAtMs: endsMs,
      endsMs,
      banTimesMs: b.reason === 'threshold' && b.scope.length === 0 ? [...times, b.atMs] : times,
    });
  }

  /** A threshold ban of `ip` in `jail` at `atMs` for 10 minutes, stored; returns what recidive made of it. */
  banIn(jail: string, ip: string, atMs: number, scope: string[] = []) {
    const b: BanDecision = { ip, jail, atMs, expiresMs: atMs + 10 * MIN, reason: 'threshold', banCount: (this.offences.get(historyKey(jail, ip))?.count ?? 0) + 1, hosts: ['web-1'], matches: [`line from ${ip}`], failures: 3, scope };
    this.store(b);
    const out = this.recidive.after(b, atMs);
    for (const r of out) if (r.kind === 'ban') this.store(r.decision);
    return out;
  }
}

t.test('offence book: every jail of an address, and the sum of its ban counts (overalljails)', async (t) => {
  const book = new OffenceBook();
  const o = (count: number): Offence => ({ count, lastBanMs: NOW, clearedAtMs: NOW, endsMs: NOW, banTimesMs: [] });
  book.set(historyKey('sshd', '192.0.2.1'), o(2));
  book.set(historyKey('nginx', '192.0.2.1'), o(3));
  book.set(historyKey('sshd', '2001:db8::1'), o(1));
  t.same([...book.ofTarget('192.0.2.1').keys()].sort(), ['nginx', 'sshd']);
  t.equal(book.countAllJails('192.0.2.1'), 5, "fail2ban's sum(bancount) over the address's jails");
  t.equal(book.countAllJails('2001:db8::1'), 1, 'IPv6 keys parse back');
  t.equal(book.countAllJails('198.51.100.1'), 0);
  book.set(historyKey('sshd', '192.0.2.1'), o(4));
  t.equal(book.countAllJails('192.0.2.1'), 7, 'a new count replaces the old');
  book.delete(historyKey('nginx', '192.0.2.1'));
  t.equal(book.countAllJails('192.0.2.1'), 4, 'deleted from the index too');
  t.equal(book.get(historyKey('sshd', '192.0.2.1'))?.count, 4, 'still a Map');
  t.same(OffenceBook.parseKey('sshd.v4.192.0.2.0/24'), { jail: 'sshd', target: '192.0.2.0/24' });
  t.equal(OffenceBook.parseKey('nonsense'), null);
});

t.test('decider: bantime.overalljails counts previous bans in every jail; a recidive jail takes no failures', async (t) => {
  const jails = [
    testJail({ maxretry: 1, bantimeMs: 10 * MIN, increment: { enabled: true, overalljails: true } }),
    testJail({ name: 'local', maxretry: 1, bantimeMs: 10 * MIN, increment: { enabled: true } }),
    recidiveJail(),
  ];
  const offences = new OffenceBook();
  const guard = fleetGuard({ hosts: new HostRegistry(), natsServers: [], controller: [], ignoreip: [], limits: LIMITS });
  const decider = new BanDecider({ trackers: new JailTrackers(jails, (name) => testJail({ name }), 100), bans: new Map(), offences, guard });
  const ip = '203.0.113.9';
  const o = (count: number): Offence => ({ count, lastBanMs: NOW - DAY, clearedAtMs: NOW - DAY, endsMs: NOW - DAY, banTimesMs: [] });
  offences.set(historyKey('nginx', ip), o(2));
  offences.set(historyKey('postfix', ip), o(1));
  const ev = (jail: string): FailureEvent => ({ id: `web-1:1:${jail}`, host: 'web-1', jail, ip, timeMs: NOW, user: '', line: 'x' });
  const all = decider.decide(ev('sshd'), NOW);
  t.match(all, { kind: 'ban', decision: { banCount: 4, expiresMs: NOW + 80 * MIN } }, 'overalljails: 3 previous bans elsewhere → ban #4, 10m × 2^3');
  const own = decider.decide(ev('local'), NOW);
  t.match(own, { kind: 'ban', decision: { banCount: 1, expiresMs: NOW + 10 * MIN } }, 'without it: only this jail counts');
  t.same(decider.decide(ev('recidive'), NOW), { kind: 'ignored', why: 'policy' }, 'failures named for a recidive jail are ignored (a host cannot feed it)');
});

t.test('recidive: maxretry bans in other jails within findtime → a long ban, reason recidive, on every host', async (t) => {
  const w = new World([recidiveJail()]);
  const ip = '198.51.100.23';
  t.same(w.banIn('sshd', ip, NOW), [], 'first ban');
  t.same(w.banIn('nginx', ip, NOW + HOUR), [], 'second ban, another jail');
  const third = w.banIn('sshd', ip, NOW + 2 * HOUR);
  t.equal(third.length, 1, 'the third ban within a day escalates');
  t.match(third[0], {
    kind: 'ban',
    decision: { ip, jail: 'recidive', reason: 'recidive', atMs: NOW + 2 * HOUR, expiresMs: NOW + 2 * HOUR + WEEK, banCount: 1, failures: 3, scope: [], hosts: ['web-1'], matches: [`line from ${ip}`] },
  });
  t.same(w.banIn('postfix', ip, NOW + 3 * HOUR), [], 'while the recidive ban holds, no second one');
});

t.test('recidive: the window, answered bans, scoped bans, other recidive jails', async (t) => {
  const w = new World([recidiveJail(), recidiveJail({ name: 'recidive-long', maxretry: 2, findtimeMs: 2 * DAY, bantimeMs: 4 * WEEK, enabled: false })]);
  const ip = '198.51.100.24';
  w.banIn('sshd', ip, NOW);
  w.banIn('sshd', ip, NOW + HOUR);
  t.same(w.banIn('sshd', ip, NOW + DAY + HOUR), [], 'the first ban left the 1-day window: two in it');
  t.same(w.banIn('sshd', ip, NOW + DAY + 2 * HOUR, ['web-1']), [], 'a scoped ban (below min_hosts) does not count');
  t.same(w.banIn('nginx', ip, NOW + DAY + 3 * HOUR), [], 'two fleet-wide bans in the window (one is exactly findtime old: out)');
  const r = w.banIn('postfix', ip, NOW + DAY + 4 * HOUR);
  t.equal(r.length, 1, 'three fleet-wide bans in the window');
  // the recidive ban expires; the next threshold ban must not escalate on the bans already answered
  const later = NOW + DAY + 4 * HOUR + WEEK + MIN;
  t.same(w.banIn('sshd', ip, later), [], 'answered bans do not count again');
  w.banIn('sshd', ip, later + HOUR);
  const again = w.banIn('sshd', ip, later + 2 * HOUR);
  t.match(again, [{ kind: 'ban', decision: { banCount: 2 } }], 'three new bans: the second recidive ban');
  t.same(w.recidive.jails.map((j) => j.name), ['recidive'], 'a disabled recidive jail does nothing');
});

t.test('recidive: its own bantime.increment, never shorter than the ban in force, refused by its ignoreip', async (t) => {
  const w = new World([recidiveJail({ maxretry: 2, bantimeMs: HOUR, increment: { enabled: true } })]);
  const ip = '203.0.113.30';
  w.offences.set(historyKey('recidive', ip), { count: 2, lastBanMs: NOW - 20 * DAY, clearedAtMs: NOW - 19 * DAY, endsMs: NOW - 19 * DAY, banTimesMs: [] });
  w.banIn('sshd', ip, NOW);
  t.match(w.banIn('sshd', ip, NOW + HOUR), [{ kind: 'ban', decision: { banCount: 3, expiresMs: NOW + HOUR + 4 * HOUR } }], 'third recidive ban: 1h × 2^2');

  const long = new World([recidiveJail({ maxretry: 2, bantimeMs: MIN })]);
  const ip2 = '203.0.113.31';
  long.banIn('sshd', ip2, NOW);
  const b: BanDecision = { ip: ip2, jail: 'nginx', atMs: NOW + HOUR, expiresMs: NOW + 5 * HOUR, reason: 'threshold', banCount: 1, hosts: [], matches: [], failures: 3, scope: [] };
  long.store(b);
  t.match(long.recidive.after(b, NOW + HOUR), [{ kind: 'ban', decision: { expiresMs: NOW + 5 * HOUR } }], 'a recidive bantime shorter than the ban in force keeps its expiry');

  const allowed = new World([recidiveJail({ maxretry: 2, ignoreip: ['203.0.113.0/24'] })]);
  allowed.banIn('sshd', ip, NOW);
  t.match(allowed.banIn('sshd', ip, NOW + HOUR), [{ kind: 'refused', jail: 'recidive', refusal: { code: 'jail-ignoreip' } }], "the recidive jail's ignoreip");

  const manual = new World([recidiveJail({ maxretry: 1 })]);
  const m: BanDecision = { ip, jail: 'sshd', atMs: NOW, expiresMs: NOW + HOUR, reason: 'manual', banCount: 1, hosts: [], matches: [], failures: 0, scope: [] };
  manual.store(m);
  t.same(manual.recidive.after(m, NOW), [], 'manual bans do not count');
});

t.test('dbpurgeage: offences whose last ban ended longer ago are purgeable, unless banned now or permanent', async (t) => {
  const book = new OffenceBook();
  const o = (endsMs: number): Offence => ({ count: 1, lastBanMs: endsMs - 10 * MIN, clearedAtMs: endsMs, endsMs, banTimesMs: [endsMs - 10 * MIN] });
  book.set(historyKey('sshd', '192.0.2.1'), o(NOW - DAY - 1));
  book.set(historyKey('sshd', '192.0.2.2'), o(NOW - DAY));
  book.set(historyKey('sshd', '192.0.2.3'), o(Number.MAX_SAFE_INTEGER));
  book.set(historyKey('nginx', '192.0.2.4'), o(NOW - 2 * DAY));
  book.set(historyKey('sshd', '192.0.2.4'), o(NOW - 2 * DAY));
  const bans = new Map<string, BanDecision>([
    ['192.0.2.4', { ip: '192.0.2.4', jail: 'sshd', atMs: NOW - 3 * DAY, expiresMs: 0, reason: 'manual', banCount: 1, hosts: [], matches: [], failures: 0, scope: [] }],
  ]);
  t.same(purgeableKeys(book, bans, NOW, DAY).sort(), [historyKey('nginx', '192.0.2.4'), historyKey('sshd', '192.0.2.1')], 'ended more than 1d ago; not the one exactly 1d ago, not the permanent, not the jail of a ban in force');
  t.same(purgeableKeys(book, new Map(), NOW, 3 * DAY), [], 'nothing older than 3d');
});
