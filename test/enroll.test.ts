// fleetban enroll against a running nats-server that includes the rendered authorization file:
// the printed seed lets the new host in (its own subjects only), --rotate replaces its key,
// --remove shuts it out again, and a client without credentials is never let in.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { connect, type NatsConnection, nkeyAuthenticator } from '@nats-io/transport-node';
import { heartbeatSubject, Membership, natsDir, natsPidFile, seedFile } from '@fleetban/shared';
import { runFleetban } from './fixtures/fleetban-process.js';
import { startNatsServer } from './fixtures/nats-server.js';

/** Connects with `seed` (or none); resolves to the connection or the error. */
async function tryConnect(url: string, seed?: string): Promise<NatsConnection | Error> {
  try {
    return await connect({ servers: url, name: 'enroll-test', reconnect: false, ...(seed ? { authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)) } : {}) });
  } catch (err) {
    return err as Error;
  }
}

/** Retries {@link tryConnect} until `want` (the server applies a reload a moment after SIGHUP). */
async function connectUntil(url: string, seed: string | undefined, want: 'connected' | 'refused'): Promise<NatsConnection | Error> {
  let r = await tryConnect(url, seed);
  for (let i = 0; i < 50 && (r instanceof Error) !== (want === 'refused'); i++) {
    if (!(r instanceof Error)) await r.close();
    await new Promise((res) => setTimeout(res, 100));
    r = await tryConnect(url, seed);
  }
  return r;
}

t.test('fleetban enroll: add, rotate, remove, list', async (t) => {
  const dir = testDir(t);
  const state = join(dir, 'state');
  // the server the controller host runs: its config next to the rendered file, a pid file
  Membership.open(state).writeAuthorization();
  mkdirSync(natsDir(state), { recursive: true });
  const serverConf = join(natsDir(state), 'nats-server.conf');
  writeFileSync(serverConf, `pid_file: "${natsPidFile(state)}"\ninclude "authorization.conf"\n`);
  const nats = await startNatsServer(t, { configFile: serverConf });
  const conf = join(dir, 'fleetban.conf');
  writeFileSync(conf, `[fleetban]\nhost = ctl\nnats = ${nats.url}\nstate_dir = ${state}\n`);

  const anonymous = await tryConnect(nats.url);
  t.match(anonymous, { name: 'AuthorizationError' }, 'with no member yet, a client without credentials is refused');

  const added = await runFleetban(['enroll', 'web-9', '-c', conf, '--nats', 'nats://10.0.0.1:4222']);
  t.equal(added.code, 0, added.stderr);
  const seed = /echo '(SU[A-Z2-7]+)' > \/etc\/fleetban\/web-9\.nk/.exec(added.stdout)?.[1];
  t.ok(seed, 'it prints the seed to write on the new host');
  t.equal(readFileSync(seedFile(state, 'web-9'), 'utf8').trim(), seed, 'the same seed as in its file on this host');
  t.equal(statSync(seedFile(state, 'web-9')).mode & 0o777, 0o600, 'the seed file is mode 0600');
  t.match(added.stdout, /nats-server reloaded \(pid \d+\)/, 'it reloaded the running server');
  t.match(added.stdout, /\[fleetban\]\n {2}host = web-9\n {2}nats = nats:\/\/10\.0\.0\.1:4222\n {2}nats_nkey = \/etc\/fleetban\/web-9\.nk\n/, 'and prints the host\'s [fleetban] lines');
  t.notOk(readFileSync(join(natsDir(state), 'authorization.conf'), 'utf8').includes(seed!), 'the server\'s files hold no seed');

  const listed = await runFleetban(['enroll', '--list', '--json', '-c', conf]);
  const members = (JSON.parse(listed.stdout) as { members: { name: string; role: string }[] }).members;
  t.same(members.map((m) => [m.name, m.role]), [['controller', 'controller'], ['admin', 'admin'], ['web-9', 'host']], 'the first enrollment also made the controller and the admin');

  const web9 = await connectUntil(nats.url, seed, 'connected');
  if (web9 instanceof Error) throw web9;
  const ctl = await connectUntil(nats.url, readFileSync(seedFile(state, 'controller'), 'utf8').trim(), 'connected');
  if (ctl instanceof Error) throw ctl;
  t.teardown(() => ctl.close());
  const heard = ctl.subscribe(heartbeatSubject('web-9'), { max: 1 });
  await ctl.flush();
  web9.publish(heartbeatSubject('web-9'), 'alive');
  await web9.flush();
  for await (const m of heard) t.equal(m.string(), 'alive', 'web-9 publishes its own heartbeat');
  const foreign = await web9.subscribe('fleetban.heartbeat.*').closed;
  t.match(foreign, { name: 'PermissionViolationError' }, 'and is confined to a host\'s permissions');
  await web9.close();

  const again = await runFleetban(['enroll', 'web-9', '-c', conf]);
  t.equal(again.code, 1, 'an enrolled name is refused');
  t.match(again.stderr, /web-9 is already enrolled \(host\); --rotate gives it a new key/);

  const rotated = await runFleetban(['enroll', 'web-9', '--rotate', '--json', '-c', conf]);
  t.equal(rotated.code, 0, rotated.stderr);
  const r = JSON.parse(rotated.stdout) as { seed: string; rotated: boolean; reload: { reloaded: boolean }; fleetban: Record<string, string> };
  t.match(r, { rotated: true, reload: { reloaded: true }, fleetban: { host: 'web-9', nats_nkey: '/etc/fleetban/web-9.nk' } });
  t.not(r.seed, seed, 'a new seed');
  t.match(await connectUntil(nats.url, seed, 'refused'), { name: 'AuthorizationError' }, 'the old seed is refused after --rotate');
  const fresh = await connectUntil(nats.url, r.seed, 'connected');
  if (fresh instanceof Error) throw fresh;
  t.pass('the new one is let in');

  const removed = await runFleetban(['enroll', '--remove', 'web-9', '-c', conf]);
  t.equal(removed.code, 0, removed.stderr);
  t.match(removed.stdout, /removed web-9 \(host\)/);
  t.match(removed.stdout, /The controller still lists web-9 and never bans its addresses\. .*\n\n  fleetban hosts --forget web-9\n/, 'and names the next step: forget the host');
  await fresh.closed();
  t.pass('its open connection is closed by the reload');
  t.match(await connectUntil(nats.url, r.seed, 'refused'), { name: 'AuthorizationError' }, 'after --remove, its seed is refused');
  t.match(await tryConnect(nats.url), { name: 'AuthorizationError' }, 'a client without credentials is still refused');
  const notThere = await runFleetban(['enroll', '--remove', 'web-9', '-c', conf]);
  t.equal(notThere.code, 1);
  t.match(notThere.stderr, /web-9 is not enrolled/);
  const listedAfter = await runFleetban(['enroll', '--list', '-c', conf]);
  t.notMatch(listedAfter.stdout, /web-9/, '--list no longer shows it');
});

t.test('fleetban enroll refuses reserved and malformed names, and a stale pid file is not signalled', async (t) => {
  const dir = testDir(t);
  const state = join(dir, 'state');
  const conf = join(dir, 'fleetban.conf');
  writeFileSync(conf, `[fleetban]\nhost = ctl\nstate_dir = ${state}\n`);
  for (const [name, why] of [['controller', /reserved for the controller/], ['admin', /reserved for the admin/], ['web.1', /a name is 1 to 64 letters/]] as const) {
    const r = await runFleetban(['enroll', name, '-c', conf]);
    t.equal(r.code, 1, `${name} refused`);
    t.match(r.stderr, why);
  }
  const removeCtl = await runFleetban(['enroll', '--remove', 'controller', '-c', conf]);
  t.equal(removeCtl.code, 2, 'the controller\'s own member cannot be removed');
  mkdirSync(natsDir(state), { recursive: true });
  writeFileSync(natsPidFile(state), `${process.pid}\n`);
  const r = await runFleetban(['enroll', 'ops', '--role', 'admin', '--json', '-c', conf]);
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { member: { role: string }; reload: { reloaded: boolean; reason: string }; fleetban: Record<string, string> };
  t.equal(out.member.role, 'admin');
  t.same(out.fleetban, { nats: 'nats://127.0.0.1:4222', admin_nkey: '/etc/fleetban/ops.nk' }, 'an admin gets admin_nkey');
  t.match(out.reload, { reloaded: false, reason: /not a nats-server: not signalled/ }, 'a pid that is not a nats-server is left alone');
  const gone = await runFleetban(['enroll', '--remove', 'ops', '--json', '-c', conf]);
  t.equal(gone.code, 0, gone.stderr);
  t.notOk('next' in (JSON.parse(gone.stdout) as object), 'an admin has no host record to forget: no next step');
});
