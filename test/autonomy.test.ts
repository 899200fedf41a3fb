// A host protects itself whatever happens to its link, on real parts: nats-server and the
// controller in one namespace, two hosts with a real sshd, an agent and their own nftables, an
// attacker. The link of a host is cut by a table of the test in that host's namespace (never the
// root namespace's firewall); every namespace is deleted at the end. The test waits for log lines
// and set contents; it asserts no wall-clock time.
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { FleetbanProcess, type LogEntry } from './fixtures/fleetban-process.js';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { createLan, tcpConnects } from './fixtures/netns.js';
import { nftElements } from './fixtures/nft-set.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { failedSshLogin, startSshd } from './fixtures/sshd.js';
import { waitUntil, waitUntilTrue } from './fixtures/wait-until.js';

const HOSTS = ['hosta', 'hostb'] as const;
const UNREACHABLE = 'fleet unreachable: deciding locally with the jail thresholds';
const bansOf = (e: LogEntry, ip: string) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes(ip);

t.test('autonomy without a gap', async (t) => {
  const dir = testDir(t, {});
  const lan = await createLan(t, 'auto', ['ctl', ...HOSTS, 'attacker']);
  const ns = (name: string) => lan.hosts[name]!.ns.name;
  const ip = (name: string) => lan.hosts[name]!.ipv4;
  const attacker = ip('attacker');
  const nats = await startNatsServer(t, { netns: ns('ctl'), host: ip('ctl'), port: 4222 });
  // bans outlive the whole test on a loaded machine (the fixture's 15 s did not: a local ban
  // expired before the restart that must restore it)
  const bantime = '10m';
  const ctlConf = writeTestConfig({ host: 'ctl', nats: nats.url, dir, bantime });
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', ctlConf], { netns: ns('ctl') });
  await controller.waitForMsg('controller ready');

  const confs = new Map<string, string>();
  const agents = new Map<string, FleetbanProcess>();
  const startAgent = (h: string) => {
    const p = FleetbanProcess.start(t, h, ['agent', '-c', confs.get(h)!], { netns: ns(h) });
    agents.set(h, p);
    return p;
  };
  for (const h of HOSTS) {
    const sshd = await startSshd(t, ns(h), join(dir, h));
    // flush: what a restarted agent enforces can only come from what it saved, not from the kernel
    confs.set(h, writeTestConfig({ host: h, nats: nats.url, dir, logpath: sshd.logFile, onStop: 'flush', bantime }));
    startAgent(h);
  }
  await Promise.all(HOSTS.map((h) => agents.get(h)!.waitForMsg('agent ready')));
  /** The elements of `h`'s ban4 set; none when the table is not there. */
  const setOf = (h: string) => nftElements(ns(h)).catch(() => [] as string[]);
  const reach = (h: string) => tcpConnects(ns('attacker'), ip(h), 22, 1500);
  for (const h of HOSTS) t.ok(await waitUntilTrue(() => reach(h)), `the attacker reaches ${h}'s sshd`);
  // hosta's link to the fleet: a table of the test in hosta's namespace drops everything to and from ctl
  const cut = () => lan.hosts.hosta!.ns.exec('nft', ['-f', '-'], { input: `table inet testcut {
  chain out { type filter hook output priority 0; ip daddr ${ip('ctl')} drop; }
  chain in { type filter hook input priority 0; ip saddr ${ip('ctl')} drop; }
}\n` });
  const restore = () => lan.hosts.hosta!.ns.exec('nft', ['delete', 'table', 'inet', 'testcut']);

  await t.test('cut off, then attacked in the same second: hosta bans locally as soon as the cut is noticed', async (t) => {
    await cut();
    const local = agents.get('hosta')!.waitForNext((e) => e.msg === 'local ban' && e.ip === attacker, 30_000, 'a local ban on hosta');
    for (let i = 0; i < 3; i++) await failedSshLogin(ns('attacker'), ip('hosta'));
    const ban = await local;
    const failures = agents.get('hosta')!.entries.filter((e) => e.msg === 'failure' && e.ip === attacker);
    t.equal(failures.length, 3, 'exactly maxretry failures were read');
    const down = agents.get('hosta')!.entries.find((e) => e.msg === UNREACHABLE && (e.time as number) >= (failures[0]!.time as number));
    t.ok(down, 'the fleet was found unreachable after the failures began');
    t.match(ban, { jail: 'sshd', failures: 3 }, 'the local ban counts the failures from before the cut was noticed');
    t.ok((await setOf('hosta')).includes(attacker), "hosta's set holds the attacker");
    t.notOk(await reach('hosta'), 'the attacker cannot connect to hosta');
    t.notOk((await setOf('hostb')).includes(attacker), 'hostb has not banned it: the fleet has not decided yet');
  });

  await t.test('restarted while still cut off: the local ban is back before anything else', async (t) => {
    t.equal(await agents.get('hosta')!.stop('SIGTERM'), 0, 'the cut-off agent stops');
    t.notOk((await setOf('hosta')).includes(attacker), 'on_stop = flush removed the table');
    const again = startAgent('hosta');
    await again.waitForMsg('agent started: protecting this host, joining the fleet');
    const restored = again.entries.find((e) => e.msg === 'saved bans restored to the firewall');
    t.match(restored, { local: 1 }, 'the saved local ban was restored');
    t.ok((await setOf('hosta')).includes(attacker), "hosta's set holds the attacker again, still cut off");
    t.notOk(await reach('hosta'), 'the attacker still cannot connect');
  });

  await t.test('link restored: the failures reach the controller once and the fleet bans on every host', async (t) => {
    const decided = controller.waitForNext((e) => e.msg === 'ban' && e.ip === attacker, 30_000, 'the controller banning');
    // hosta may get the ban while it reads the list on joining (no "enforced" line then): its set tells
    const onHostb = agents.get('hostb')!.waitForNext((e) => bansOf(e, attacker), 60_000, "hostb enforcing the fleet's ban");
    await restore();
    const fleetBan = await decided.catch((err: unknown) => {
      t.comment(controller.entries.filter((e) => e.ip === attacker).map((e) => JSON.stringify(e)).join('\n'));
      t.comment(agents.get('hosta')!.entries.filter((e) => e.stage === 'report' || e.msg?.startsWith('nats')).map((e) => JSON.stringify(e)).join('\n'));
      throw err;
    });
    t.equal(fleetBan.failures, 3, 'each failure counted once');
    t.same(fleetBan.hosts, ['hosta']);
    await onHostb;
    // hosta may take the ban from the list it reads on joining, after hostb: wait for it (bounded)
    for (const h of HOSTS) t.ok(await waitUntilTrue(async () => (await setOf(h)).includes(attacker), 30_000), `${h}'s set holds the attacker`);
    t.notOk(await reach('hostb'), 'the attacker cannot connect to hostb either');
  });

  await t.test('started while NATS is down: bans locally at once, then joins the fleet', async (t) => {
    const stranger = '192.0.2.77';
    await lan.hosts.attacker!.ns.exec('ip', ['addr', 'add', `${stranger}/24`, 'dev', 'eth0']);
    t.equal(await agents.get('hostb')!.stop('SIGTERM'), 0);
    await nats.stop();
    const b = startAgent('hostb');
    await b.waitForMsg('agent started: protecting this host, joining the fleet');
    const local = b.waitFor((e) => e.msg === 'local ban' && e.ip === stranger, 30_000, 'a local ban on hostb');
    for (let i = 0; i < 3; i++) await failedSshLogin(ns('attacker'), ip('hostb'), 'root', stranger);
    t.match(await local, { why: 'nats disconnected', failures: 3 }, 'a local ban without ever having reached NATS');
    t.ok((await setOf('hostb')).includes(stranger), "hostb's set holds it");
    t.notOk(await tcpConnects(ns('attacker'), ip('hostb'), 22, 1500, stranger), 'it cannot connect to hostb');
    const ready = b.waitForMsg('agent ready', 30_000);
    const fleetBan = HOSTS.map((h) => agents.get(h)!.waitFor((e) => bansOf(e, stranger), 60_000, `${h} enforcing the fleet's ban of ${stranger}`));
    await nats.restart();
    await ready;
    t.pass('hostb joined the fleet once NATS was back');
    await Promise.all(fleetBan);
    await waitUntil(async () => (await setOf('hosta')).includes(stranger), "hosta holding the fleet's ban");
    t.pass("hostb's failures reached the controller, and the fleet banned the address on every host");
  });
});
