// Joining in one command: on the controller host `fleetban enroll web` prints one line; run as
// root on a new host (a namespace of its own, its /etc and /var/lib overlaid so the machine's are
// untouched), it writes the seed and /etc/fleetban/fleetban.local and the host's agent joins the
// fleet: `fleetban hosts` lists it. `fleetban enroll --remove web` then shuts it out: its
// credentials are refused.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { Membership, natsDir, natsPidFile } from '@fleetban/shared';
import { FLEETBAN_MAIN, FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { createLan } from './fixtures/netns.js';
import { waitUntil } from './fixtures/wait-until.js';

interface HostsJson {
  hosts: { host: string; heartbeatAgeMs: number; backend: string }[];
}

t.test('fleetban enroll prints one command that joins a new host; --remove shuts it out', async (t) => {
  const dir = testDir(t);
  const lan = await createLan(t, 'join', ['ctl', 'web']);
  const { ctl, web } = lan.hosts;

  // the controller host: nats-server with the members' authorization, in its namespace
  const state = join(dir, 'state');
  Membership.open(state).writeAuthorization();
  mkdirSync(natsDir(state), { recursive: true });
  const serverConf = join(natsDir(state), 'nats-server.conf');
  writeFileSync(serverConf, `pid_file: "${natsPidFile(state)}"\njetstream { store_dir: "${join(dir, 'js')}" }\ninclude "authorization.conf"\n`);
  const nats = await startNatsServer(t, { netns: ctl.ns.name, host: ctl.ipv4, configFile: serverConf, jetstreamInConfig: true });
  const url = `nats://${ctl.ipv4}:${nats.port}`;
  const ctlConf = join(dir, 'ctl.conf');
  writeFileSync(ctlConf, `[fleetban]\nhost = ctl\nnats = ${url}\nstate_dir = ${state}\n\n[sshd]\nenabled = true\n`);

  const enrolled = await runFleetban(['enroll', 'web', '--json', '-c', ctlConf], { netns: ctl.ns.name });
  t.equal(enrolled.code, 0, enrolled.stderr);
  t.match(enrolled.stdout, /"reloaded": true/, 'the running server reloaded');
  const { join: command, seed } = JSON.parse(enrolled.stdout) as { join: string; seed: string };
  t.match(command, /^echo [A-Za-z0-9+/=]+ \| base64 -d \| gunzip \| sh$/, 'one line to paste on the new host');
  const text = await runFleetban(['enroll', 'web2', '-c', ctlConf], { netns: ctl.ns.name });
  t.match(text.stdout, /one command[^\n]*\n\n {2}echo [A-Za-z0-9+/=]+ \| base64 -d \| gunzip \| sh\n/, 'the text output shows it too');
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', ctlConf], { netns: ctl.ns.name });
  await controller.waitForMsg('controller ready', 30_000);

  // the new host: fleetban installed (a `fleetban` on PATH) and its packaged configuration, which
  // the join keeps; everything it writes lands in overlays of /etc and /var/lib
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'fleetban'), `#!/bin/sh\nexec "${process.execPath}" "${FLEETBAN_MAIN}" "$@"\n`);
  chmodSync(join(bin, 'fleetban'), 0o755);
  const authLog = join(dir, 'auth.log');
  writeFileSync(authLog, '');
  for (const d of ['etc-up', 'etc-work', 'lib-up', 'lib-work']) mkdirSync(join(dir, d));
  const packaged = join(dir, 'packaged.conf');
  writeFileSync(packaged, `# as the package installs it\n[agent]\nenforcer = nftables\n\n[sshd]\nenabled = true\nlogpath = ${authLog}\n`);
  const script = [
    'set -e',
    `mount -t overlay overlay -o lowerdir=/etc,upperdir=${dir}/etc-up,workdir=${dir}/etc-work /etc`,
    `mount -t overlay overlay -o lowerdir=/var/lib,upperdir=${dir}/lib-up,workdir=${dir}/lib-work /var/lib`,
    'rm -rf /etc/fleetban /var/lib/fleetban',
    `mkdir -p /etc/fleetban && cp ${packaged} /etc/fleetban/fleetban.conf`,
    command,
    'exec fleetban agent -c /etc/fleetban/fleetban.conf',
  ].join('\n');
  const agent = FleetbanProcess.startCommand(t, 'web', 'ip', ['netns', 'exec', web.ns.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script], {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
  });
  await agent.waitForMsg('agent ready', 30_000);
  t.ok(agent.output.some((l) => l.includes('fleetban: web configured; start its agent with: fleetban agent -c /etc/fleetban/fleetban.conf')), 'without systemd, the join says how to start the agent');
  t.equal(readFileSync(join(dir, 'etc-up', 'fleetban', 'web.nk'), 'utf8').trim(), seed, 'its seed in /etc/fleetban/web.nk');
  t.match(readFileSync(join(dir, 'etc-up', 'fleetban', 'fleetban.local'), 'utf8'), `[fleetban]\nhost = web\nnats = ${url}\nnats_nkey = /etc/fleetban/web.nk\n`, 'and its place in the fleet in fleetban.local');
  t.equal(readFileSync(join(dir, 'etc-up', 'fleetban', 'fleetban.conf'), 'utf8'), readFileSync(packaged, 'utf8'), 'the packaged fleetban.conf is kept');

  let listed: HostsJson['hosts'][number] | undefined;
  await waitUntil(async () => {
    const r = await runFleetban(['hosts', '--json', '-c', ctlConf], { netns: ctl.ns.name });
    listed = r.code === 0 ? (JSON.parse(r.stdout) as HostsJson).hosts.find((h) => h.host === 'web') : undefined;
    return listed !== undefined;
  }, 'web in fleetban hosts', 20_000);
  t.match(listed, { host: 'web', backend: 'nftables' }, 'fleetban hosts lists the new host, enforcing with nftables');

  // revoked: the server reloads, its connection is closed and its key refused from then on
  const removed = await runFleetban(['enroll', '--remove', 'web', '-c', ctlConf], { netns: ctl.ns.name });
  t.equal(removed.code, 0, removed.stderr);
  t.match(removed.stdout, /removed web \(host\): its key is refused from now on\nnats-server reloaded/);
  const webConf = join(dir, 'web-check.conf');
  const seedCopy = join(dir, 'web.nk');
  writeFileSync(seedCopy, `${seed}\n`, { mode: 0o600 });
  writeFileSync(webConf, `[fleetban]\nhost = web\nnats = ${url}\nnats_nkey = ${seedCopy}\n`);
  const refused = await runFleetban(['status', '-c', webConf], { netns: web.ns.name });
  t.not(refused.code, 0, 'a client with its seed is turned away');
  t.match(refused.stderr, /authori[sz]ation/i, refused.stderr);
  await agent.waitFor((e) => /authori[sz]ation/i.test(JSON.stringify(e)), 20_000, 'the agent told its key is refused');
  t.pass('the agent hears that its key is refused');
});
