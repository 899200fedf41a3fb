// The failure handler decides in arrival order without awaiting each ban's writes (the intake
// keeps them in flight): the decisions, counters, bans, history and the KV list it ends with are
// those of handling the same failures one at a time, each awaited. Real nats-server, real store.
import t, { type Test } from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { type BanDecision, BanList, type FailureEvent, type JailConfig, silentLogger } from '@fleetban/shared';
import { JailTrackers } from '../packages/controller/src/aggregate/jail-tracker.js';
import { BanDecider } from '../packages/controller/src/decide/ban-decider.js';
import { FailureHandler } from '../packages/controller/src/decide/failure-handler.js';
import { fleetGuard } from '../packages/controller/src/decide/fleet-guard.js';
import { HostRegistry } from '../packages/controller/src/fleet/host-registry.js';
import { CounterSet } from '../packages/controller/src/metrics/counter-set.js';
import { RecidivePolicy } from '../packages/controller/src/recidive/recidive-policy.js';
import { BanStore } from '../packages/controller/src/store/ban-store.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { testJail } from './fixtures/jail-config.js';
import { startNatsServer } from './fixtures/nats-server.js';

const HOUR = 3_600_000;
const NOW = 1_700_000_000_000;
const LIMITS = { minPrefixV4: 16, minPrefixV6: 32, maxBantimeMs: 365 * 24 * HOUR };

/**
 * sshd bans fleet-wide at 3 failures, for longer each time (bantime.increment); web bans the
 * reporting hosts below 2 hosts (then widens); recidive after 2 bans. Bans are short, so
 * addresses are banned again and again.
 */
const JAILS: JailConfig[] = [
  testJail({ name: 'sshd', maxretry: 3, bantimeMs: 20_000, increment: { enabled: true } }),
  testJail({ name: 'web', maxretry: 2, minHosts: 2, bantimeMs: 10_000 }),
  testJail({ name: 'recidive', policy: 'recidive', maxretry: 2, findtimeMs: 24 * HOUR, bantimeMs: 24 * HOUR, logpath: [] }),
];

/** 6,000 failures, one every 100 ms, from 300 addresses on 3 hosts in 2 jails, in a fixed pseudo-random order. */
function failures(): FailureEvent[] {
  let x = 12345;
  const next = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), Math.floor(x / 65536) % n);
  const nets = ['192.0.2', '198.51.100', '203.0.113'];
  return Array.from({ length: 6000 }, (_, i) => {
    const a = next(300);
    const ip = a < 200 ? `${nets[a % 3]}.${Math.floor(a / 3) + 1}` : `2001:db8:${a.toString(16)}::1`;
    const host = `web-${next(3) + 1}`;
    return { id: `${host}:1:${i}`, host, jail: next(2) === 0 ? 'sshd' : 'web', ip, timeMs: NOW + i * 100, user: 'root', line: `failure ${i} from ${ip}` };
  });
}

/** Handles every failure on a fresh server, pipelined or one at a time; returns what the controller ends with. */
async function run(t: Test, pipelined: boolean) {
  const nats = await startNatsServer(t);
  const nc = await controllerClient(t, nats.url, 'test', testDir(t));
  const guard = fleetGuard({ hosts: new HostRegistry(), natsServers: [], controller: [], ignoreip: [], limits: LIMITS });
  const store = await BanStore.open(nc, guard, silentLogger());
  const trackers = new JailTrackers(JAILS, (name) => testJail({ name }), 1000);
  const counters = new CounterSet();
  const decider = new BanDecider({ trackers, bans: store.bans, offences: store.offences, guard });
  const recidive = new RecidivePolicy(JAILS, { bans: store.bans, offences: store.offences, guard });
  // the controller's clock: 50 ms after the failure being handled
  let nowMs = NOW;
  const handler = new FailureHandler(decider, store, counters, () => nowMs, silentLogger(), recidive);
  const all: Promise<void>[] = [];
  let inFlight = 0;
  let most = 0;
  for (const e of failures()) {
    nowMs = e.timeMs + 50;
    const stored = handler.handle(e, false);
    if (!stored) continue;
    if (!pipelined) {
      await stored;
      continue;
    }
    most = Math.max(most, ++inFlight);
    all.push(stored.finally(() => inFlight--));
  }
  await Promise.all(all);
  const byIp = (a: BanDecision, b: BanDecision) => a.ip.localeCompare(b.ip);
  return {
    most,
    counters: counters.snapshot(),
    bans: [...store.bans.values()].sort(byIp),
    shown: [...store.activeBans(0)].sort(byIp),
    offences: [...store.offences].sort(([a], [b]) => a.localeCompare(b)),
    list: (await (await BanList.open(nc, false)).all()).sort(byIp),
  };
}

t.test('pipelined decisions are those of one-at-a-time handling', async (t) => {
  const serial = await run(t, false);
  const pipelined = await run(t, true);
  t.ok(serial.counters['bans.made']! > 10 && serial.counters['bans.widened']! > 0 && serial.counters['bans.recidive']! > 0, 'the failures make bans, widen scoped ones and lead to recidive bans');
  t.ok(pipelined.most > 10, `writes were in flight together (${pipelined.most} failures at most)`);
  t.same(pipelined.counters, serial.counters, 'the same verdicts, counted the same');
  t.same(pipelined.bans, serial.bans, 'the same bans');
  t.same(pipelined.offences, serial.offences, 'the same history');
  t.same(pipelined.list, serial.list, 'the same list in the bucket');
  t.same(pipelined.list, pipelined.bans, 'the bucket holds what memory holds');
  t.same(pipelined.shown, pipelined.bans, 'once written, every ban is shown');
});
