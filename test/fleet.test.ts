// The walking skeleton, end to end on real parts: a controller and nats-server in one namespace,
// three hosts each with a real sshd, a fleetban agent and their own nftables, an attacker and an
// innocent client. Every address is inside namespaces this test creates; all are deleted at the end.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { FleetbanProcess, type LogEntry, runFleetban } from './fixtures/fleetban-process.js';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { createLan, tcpConnects } from './fixtures/netns.js';
import { nftElements } from './fixtures/nft-set.js';
import { waitUntil, waitUntilTrue } from './fixtures/wait-until.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { failedSshLogin, startSshd } from './fixtures/sshd.js';

// many processes and CLI runs: minutes on a loaded 2-core machine (the suite's default is 180 s)
t.setTimeout(420_000);

const HOSTS = ['hosta', 'hostb', 'hostc'] as const;

t.test('one attacker, one ban, every host', async (t) => {
  const dir = testDir(t, {});
  const lan = await createLan(t, 'e2e', ['ctl', ...HOSTS, 'attacker', 'client']);
  const ns = (name: string) => lan.hosts[name]!.ns.name;
  const ip = (name: string) => lan.hosts[name]!.ipv4;
  const attacker = ip('attacker');

  const nats = await startNatsServer(t, { netns: ns('ctl'), host: ip('ctl'), port: 4222 });
  // bantime 30 s: long enough for the status check after the ban on a loaded machine, short enough to see it expire
  const BANTIME = '30s';
  const ctlConf = writeTestConfig({ host: 'ctl', nats: nats.url, dir, bantime: BANTIME });
  const startController = () => FleetbanProcess.start(t, 'controller', ['controller', '-c', ctlConf], { netns: ns('ctl') });
  let controller = startController();
  await controller.waitForMsg('controller ready');

  const agents = new Map<string, FleetbanProcess>();
  const confs = new Map<string, string>();
  const startAgent = (h: string) => {
    const p = FleetbanProcess.start(t, h, ['agent', '-c', confs.get(h)!], { netns: ns(h) });
    agents.set(h, p);
    return p;
  };
  for (const h of HOSTS) {
    const sshd = await startSshd(t, ns(h), join(dir, h));
    confs.set(h, writeTestConfig({ host: h, nats: nats.url, dir, logpath: sshd.logFile, bantime: BANTIME }));
    startAgent(h);
  }
  await Promise.all(HOSTS.map((h) => agents.get(h)!.waitForMsg('agent ready')));
  const admin = (...args: string[]) => runFleetban([...args, '-c', ctlConf], { netns: ns('ctl') });
  const statusJson = async () => JSON.parse((await admin('status', '--json')).stdout) as { hosts: { host: string }[]; malformed: number };
  await waitUntil(async () => (await statusJson()).hosts.length === 3, 'three hosts in the controller');
  const reach = (from: string, to: string) => tcpConnects(ns(from), ip(to), 22, 2000);
  const setOf = (h: string) => nftElements(ns(h));

  await t.test('before any failure, everyone connects', async (t) => {
    for (const h of HOSTS) {
      t.ok(await waitUntilTrue(() => reach('attacker', h)), `attacker reaches ${h}`);
      t.ok(await reach('client', h), `client reaches ${h}`);
    }
  });

  await t.test('3 failed logins on hosta ban the attacker on all three hosts', async (t) => {
    const enforced = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === 'enforced' && includes(e.bans, attacker), 60_000, `${h} enforcing the ban`));
    const written = watchFailureWrites(join(dir, 'hosta', 'sshd.log'));
    await attackUntil(enforced[0]!, () => failedSshLogin(ns('attacker'), ip('hosta')));
    const done = await Promise.all(enforced);
    written.stop();
    const failures = agents.get('hosta')!.entries.filter((e) => e.msg === 'failure' && e.ip === attacker);
    t.ok(failures.length >= 3, `hosta reported ${failures.length} failures`);
    const crossedRead = failures[2]!.time as number;
    const lastEnforced = Math.max(...done.map((e) => e.time as number));
    const crossedWrite = written.times[2];
    t.comment(`ban propagation: threshold line read on hosta → element on all 3 hosts: ${lastEnforced - crossedRead} ms`);
    if (crossedWrite !== undefined) t.comment(`ban propagation: threshold line written by sshd → element on all 3 hosts: ${lastEnforced - crossedWrite} ms (write time seen by a 5 ms poll)`);
    for (const h of HOSTS) {
      t.same(await setOf(h), [attacker], `${h}'s set holds the attacker`);
      t.notOk(await reach('attacker', h), `attacker cannot connect to ${h}`);
      t.ok(await reach('client', h), `client still connects to ${h}`);
    }
  });

  await t.test('status shows fail2ban figures and the fleet', async (t) => {
    const overview = await admin('status');
    t.equal(overview.code, 0, overview.stderr);
    t.match(overview.stdout, /Jail list:\tsshd/);
    for (const h of HOSTS) t.match(overview.stdout, new RegExp(`${h}\\tlast heartbeat \\d+s ago`));
    const jail = await admin('status', 'sshd');
    t.equal(jail.code, 0, jail.stderr);
    t.match(jail.stdout, /Currently failed:\t\d+/);
    t.match(jail.stdout, /Total failed:\t[3-9]/);
    t.match(jail.stdout, /Currently banned:\t1/);
    t.match(jail.stdout, /Total banned:\t1/);
    t.match(jail.stdout, new RegExp(`Banned IP list:\\t${attacker.replaceAll('.', '\\.')}`));
    t.comment(jail.stdout);
  });

  await t.test('the ban expires after bantime on every host', async (t) => {
    await Promise.all(HOSTS.map((h) => agents.get(h)!.waitFor((e) => e.msg === 'enforced' && includes(e.unbans, attacker), 60_000, `${h} lifting the ban`)));
    for (const h of HOSTS) {
      t.same(await setOf(h), [], `${h}'s set is empty`);
      t.ok(await reach('attacker', h), `attacker connects to ${h} again`);
    }
  });

  await t.test('fleetban ban and unban act on every host; fleet hosts are never banned', async (t) => {
    const target = ip('client');
    const banned = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === 'enforced' && includes(e.bans, target), 15_000, `${h} manual ban`));
    const r = await admin('ban', target, '--jail', 'sshd', '--bantime', '1h');
    t.equal(r.code, 0, r.stderr);
    await Promise.all(banned);
    for (const h of HOSTS) t.notOk(await reach('client', h), `client cannot connect to ${h}`);
    const listed = await admin('banned');
    t.match(listed.stdout, new RegExp(`${target.replaceAll('.', '\\.')}\\tsshd\\tmanual`));
    const lifted = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === 'enforced' && includes(e.unbans, target), 15_000, `${h} manual unban`));
    const u = await admin('unban', target);
    t.equal(u.code, 0, u.stderr);
    await Promise.all(lifted);
    for (const h of HOSTS) t.ok(await reach('client', h), `client connects to ${h} again`);
    const refused = await admin('ban', ip('hostb'));
    t.not(refused.code, 0, 'banning a fleet host is refused');
    t.match(refused.stderr, /fleet host/);
  });

  await t.test('a restarted agent rebuilds its set from the list, without duplicates', async (t) => {
    const keep = '198.51.100.7';
    const whileDown = '198.51.100.8';
    const b = agents.get('hostb')!;
    const seen = b.waitForNext((e) => e.msg === 'enforced' && includes(e.bans, keep), 15_000);
    t.equal((await admin('ban', keep, '--bantime', '10m')).code, 0);
    await seen;
    await b.stop('SIGKILL');
    t.equal((await admin('ban', whileDown, '--bantime', '10m')).code, 0);
    const again = startAgent('hostb');
    await again.waitForMsg('firewall reconciled', 15_000, { why: 'start' });
    t.same(await setOf('hostb'), [keep, whileDown].sort(), 'set equals the list: nothing doubled, nothing missed');
    const stopped = again.waitFor((e) => e.msg === 'agent stopped');
    await again.stop('SIGTERM');
    await stopped;
    t.same(await setOf('hostb'), [keep, whileDown].sort(), 'on_stop = keep leaves the set');
    startAgent('hostb');
    await agents.get('hostb')!.waitForMsg('firewall reconciled', 15_000, { why: 'start' });
    t.same(await setOf('hostb'), [keep, whileDown].sort(), 'still exactly the list after a second restart');
    for (const target of [keep, whileDown]) t.equal((await admin('unban', target)).code, 0);
  });

  await t.test('a controller restarted mid-window keeps the counts in progress', async (t) => {
    const before = agents.get('hostb')!.entries.filter((e) => e.msg === 'failure' && e.ip === attacker).length;
    for (let i = 0; i < 2; i++) await failedSshLogin(ns('attacker'), ip('hostb'));
    await agents.get('hostb')!.waitFor(() => agents.get('hostb')!.entries.filter((e) => e.msg === 'failure' && e.ip === attacker).length >= before + 2);
    await controller.waitFor((e) => e.msg === 'failure counted' && e.ip === attacker && e.failures === 2, 10_000, 'two failures counted');
    t.equal(await controller.stop('SIGTERM'), 0, 'controller stops cleanly');
    controller = startController();
    const rebuilt = await controller.waitForMsg('event windows rebuilt from the stream');
    // the stopping controller saved a snapshot: the new one starts from it (nothing left to replay),
    // or, without one, replays the failures from the stream
    const fromSnapshot = rebuilt.afterSeq !== undefined;
    t.ok(fromSnapshot || (rebuilt.replayed as number) >= 2, fromSnapshot ? `windows from the snapshot, ${String(rebuilt.replayed)} events replayed after it` : `replayed ${String(rebuilt.replayed)} events`);
    const enforced = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === 'enforced' && includes(e.bans, attacker), 30_000, `${h} enforcing`));
    await attackUntil(enforced[2]!, () => failedSshLogin(ns('attacker'), ip('hostc')));
    await Promise.all(enforced);
    const ban = await controller.waitForMsg('ban');
    t.same(ban.hosts, ['hostb', 'hostc'], 'the ban counted failures from hostb (before the restart) and hostc');
    for (const h of HOSTS) t.notOk(await reach('attacker', h), `attacker cannot connect to ${h}`);
  });

  await t.test('a malformed message is counted and logged, not a crash', async (t) => {
    const script = new URL('./fixtures/nats-publish.mjs', import.meta.url).pathname;
    execFileSync('ip', ['netns', 'exec', ns('ctl'), process.execPath, script, nats.url, 'fleetban.events.hosta.sshd', 'deadbeef00ff']);
    await controller.waitForMsg('malformed event dropped');
    const s = await statusJson();
    t.equal(s.malformed, 1, 'status counts it');
    t.equal(controller.proc.exitCode, null, 'controller still running');
  });

  await t.test('through a NATS outage: bans stay, failures wait, the set is reconciled on reconnect', async (t) => {
    const kept = '198.51.100.20';
    const seen = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === 'enforced' && includes(e.bans, kept), 15_000));
    t.equal((await admin('ban', kept, '--bantime', '10m')).code, 0);
    await Promise.all(seen);
    const down = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === 'nats disconnect', 15_000, `${h} noticing the outage`));
    await nats.stop();
    await Promise.all(down);
    t.ok((await setOf('hostb')).includes(kept), 'the ban stays enforced while NATS is down');
    // drift while away: the element is removed by hand and a stranger added
    execFileSync('ip', ['netns', 'exec', ns('hostb'), 'nft', 'delete', 'element', 'inet', 'fleetban', 'ban4', `{ ${kept} }`]);
    execFileSync('ip', ['netns', 'exec', ns('hostb'), 'nft', 'add', 'element', 'inet', 'fleetban', 'ban4', '{ 198.51.100.99 }']);
    const client = ip('client');
    const reported = agents.get('hosta')!;
    const before = reported.entries.filter((e) => e.msg === 'failure' && e.ip === client).length;
    for (let i = 0; i < 3; i++) await failedSshLogin(ns('client'), ip('hosta'));
    await reported.waitFor(() => reported.entries.filter((e) => e.msg === 'failure' && e.ip === client).length >= before + 3, 15_000, 'three failures read while NATS is down');
    const reconciled = agents.get('hostb')!.waitForNext((e) => e.msg === 'firewall reconciled' && e.why === 'reconnect', 30_000, 'reconcile on reconnect');
    const clientBanned = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === 'enforced' && includes(e.bans, client), 30_000, `${h} banning the client`));
    await nats.restart();
    await reconciled;
    t.ok((await setOf('hostb')).includes(kept), 'the removed element is back');
    t.notOk((await setOf('hostb')).includes('198.51.100.99'), 'the stranger is gone');
    await Promise.all(clientBanned);
    t.pass('failures read during the outage were delivered and led to a ban on every host');
  });

  const UNREACHABLE = 'fleet unreachable: deciding locally with the jail thresholds';
  const REACHABLE = 'fleet reachable: the controller decides again';
  /** The link as hosta..c last logged it (nothing logged: reachable since start). */
  const linkUp = (h: string) => agents.get(h)!.entries.filter((e) => e.msg === UNREACHABLE || e.msg === REACHABLE).at(-1)?.msg !== UNREACHABLE;
  const addAttackerAddress = async (a: string) => lan.hosts.attacker!.ns.exec('ip', ['addr', 'add', `${a}/24`, 'dev', 'eth0']);
  const reachFrom = (from: string, to: string) => tcpConnects(ns('attacker'), ip(to), 22, 1500, from);

  await t.test('NATS down: hosta bans locally with the jail thresholds, hostb does not; back online, the controller bans on every host', async (t) => {
    const stray = '192.0.2.67';
    await addAttackerAddress(stray);
    await waitUntil(async () => HOSTS.every(linkUp), 'every host following the controller again');
    const down = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === UNREACHABLE && e.why === 'nats disconnected', 15_000, `${h} falling back`));
    await nats.stop();
    await Promise.all(down);
    const a = agents.get('hosta')!;
    const local = a.waitForNext((e) => e.msg === 'local ban' && e.ip === stray, 30_000, 'a local ban on hosta');
    await attackUntil(local, () => failedSshLogin(ns('attacker'), ip('hosta'), 'root', stray));
    const ban = await local;
    t.match(ban, { jail: 'sshd', why: 'nats disconnected', failures: 3 }, 'local ban logged with jail, address and why');
    t.ok((await setOf('hosta')).includes(stray), "hosta's set holds it");
    t.notOk(await reachFrom(stray, 'hosta'), 'it cannot connect to hosta');
    t.notOk((await setOf('hostb')).includes(stray), 'hostb, unreachable from the fleet, has not banned it');
    t.ok(await reachFrom(stray, 'hostb'), 'it still connects to hostb');
    const decided = controller.waitForNext((e) => e.msg === 'ban' && e.ip === stray, 30_000, 'the controller banning the replayed failures');
    const everywhere = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === 'enforced' && includes(e.bans, stray), 30_000, `${h} enforcing the fleet's ban`));
    await nats.restart();
    const fleetBan = await decided;
    await Promise.all(everywhere);
    t.same(fleetBan.hosts, ['hosta'], 'the replayed failures came from hosta');
    t.equal(fleetBan.failures, 3, 'each replayed failure counted once');
    for (const h of HOSTS) t.notOk(await reachFrom(stray, h), `it cannot connect to ${h}`);
    await a.waitFor((e) => e.msg === REACHABLE && (e.time as number) > (ban.time as number), 15_000, 'hosta following the controller again');
  });

  await t.test('NATS up, controller stopped: hosts fall back after two liveness intervals; the restarted controller counts the failures once', async (t) => {
    const other = '192.0.2.68';
    await addAttackerAddress(other);
    await waitUntil(async () => HOSTS.every(linkUp), 'every host following the controller');
    const gone = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === UNREACHABLE && e.why === 'no controller liveness', 15_000, `${h} missing the controller`));
    t.equal(await controller.stop('SIGTERM'), 0, 'controller stops cleanly');
    await Promise.all(gone);
    const a = agents.get('hosta')!;
    const local = a.waitForNext((e) => e.msg === 'local ban' && e.ip === other, 30_000, 'a local ban on hosta');
    await attackUntil(local, () => failedSshLogin(ns('attacker'), ip('hosta'), 'root', other));
    t.match(await local, { jail: 'sshd', why: 'no controller liveness' });
    t.notOk(await reachFrom(other, 'hosta'), 'it cannot connect to hosta');
    const hostbReached = await reachFrom(other, 'hostb');
    t.ok(hostbReached, `it still connects to hostb${hostbReached ? '' : ` (hostb's set: ${(await setOf('hostb')).join(' ') || 'empty'}; its last lines: ${agents.get('hostb')!.entries.slice(-5).map((e) => JSON.stringify(e)).join(' ')})`}`);
    const everywhere = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === 'enforced' && includes(e.bans, other), 30_000, `${h} enforcing the fleet's ban`));
    const back = HOSTS.map((h) => agents.get(h)!.waitForNext((e) => e.msg === REACHABLE, 30_000, `${h} hearing the controller again`));
    controller = startController();
    const fleetBan = await controller.waitFor((e) => e.msg === 'ban' && e.ip === other, 30_000, 'the controller banning');
    await Promise.all([...everywhere, ...back]);
    t.same(fleetBan.hosts, ['hosta']);
    t.equal(fleetBan.failures, 3, 'each failure counted once');
    for (const h of HOSTS) t.notOk(await reachFrom(other, h), `it cannot connect to ${h}`);
    // one reply read for both: hosta's local bans expire with their bantime, under load soon after
    let overview = '';
    await waitUntil(async () => {
      overview = (await admin('status')).stdout;
      return /autonomy: following the controller, [1-9]\d* local bans?/.test(overview);
    }, 'status: hosta back with its local bans');
    t.match(overview, /autonomy: following the controller, [1-9]\d* local bans?/, 'fleetban status shows the local bans hosta holds');
    const expired = await a.waitFor((e) => e.msg === 'local ban expired' && e.ip === '192.0.2.67', 60_000, 'the first local ban expiring');
    t.ok(expired, 'a local ban leaves the local set at its expiry');
  });

  await controller.stop('SIGTERM');
  for (const a of agents.values()) await a.stop('SIGTERM');
});

t.test('a malformed config names the file, the key and what was expected', async (t) => {
  const dir = testDir(t, {});
  const file = join(dir, 'bad.conf');
  writeFileSync(file, '[fleetban]\nhost = web-1\n\n[sshd]\nenabled = true\nmaxretry = lots\n');
  const r = await runFleetban(['agent', '-c', file]);
  t.equal(r.code, 1);
  t.match(r.stderr, file);
  t.match(r.stderr, /sshd\.maxretry/);
  t.match(r.stderr, /expected/);
  const missing = await runFleetban(['status', '-c', join(dir, 'nope.conf')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'nope.conf');
  t.equal(readFileSync(file, 'utf8').includes('lots'), true, 'the file is left as it was');
});

function includes(list: unknown, v: string): boolean {
  return Array.isArray(list) && list.includes(v);
}

/** Failed logins, one at a time, until `banned` resolves (at most 6 attempts, each bounded by ssh's timeouts). */
async function attackUntil(banned: Promise<LogEntry>, attempt: () => Promise<unknown>): Promise<void> {
  let done = false;
  void banned.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 6 && !done; i++) {
    await attempt();
    await Promise.race([banned.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
  }
}

/** Records when sshd writes each failure line (polled every 5 ms) until stop(). */
function watchFailureWrites(file: string): { times: number[]; stop(): void } {
  const times: number[] = [];
  let seen = 0;
  const timer = setInterval(() => {
    const n = (readFileSync(file, 'utf8').match(/^Failed password/gm) ?? []).length;
    for (; seen < n; seen++) times.push(Date.now());
  }, 5);
  return { times, stop: () => clearInterval(timer) };
}
