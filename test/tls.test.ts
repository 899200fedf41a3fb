// TLS with client certificates and nkey members: a nats-server requiring verified client
// certificates; a real controller and a dry-run agent configured with tls_ca/tls_cert/tls_key and
// their seeds ban on the agent's log; a client without a client certificate (or without TLS) is
// refused, and so is one with a certificate but no credentials.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { connect, nkeyAuthenticator } from '@nats-io/transport-node';
import { connectFleet, Membership, parseConfig, readSeedFile, renderAuthorization, seedFile, silentLogger } from '@fleetban/shared';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { makeTlsFiles } from './fixtures/tls-files.js';

t.test('controller and agent over TLS with client certificates and nkeys', async (t) => {
  const dir = testDir(t, { 'auth.log': '', tls: {} });
  const tls = makeTlsFiles(join(dir, 'tls'));
  const state = join(dir, 'members');
  const m = Membership.open(state);
  m.enroll('controller', 'controller');
  m.enroll('web-1', 'host');
  const nats = await startNatsServer(t, {
    config:
      `tls {\n  cert_file: "${tls.serverCert}"\n  key_file: "${tls.serverKey}"\n  ca_file: "${tls.ca}"\n  verify: true\n}\n` +
      renderAuthorization(m.members),
  });
  const conf = (host: string, member: string) => {
    const file = join(dir, `${host}.conf`);
    writeFileSync(
      file,
      `[fleetban]\nhost = ${host}\nnats = ${nats.url}\nnats_nkey = ${seedFile(state, member)}\n` +
        `tls_ca = ${tls.ca}\ntls_cert = ${tls.clientCert}\ntls_key = ${tls.clientKey}\nstate_dir = ${join(dir, host)}\n\n` +
        `[agent]\nenforcer = dry-run\nheartbeat = 1s\npoll = 20ms\n\n[DEFAULT]\nmaxretry = 2\nbantime = 1h\n\n` +
        `[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n`,
    );
    return file;
  };
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', conf('ctl', 'controller')]);
  await controller.waitForMsg('controller ready');
  const agent = FleetbanProcess.start(t, 'web-1', ['agent', '-c', conf('web-1', 'web-1')]);
  await agent.waitForMsg('agent ready');

  const enforced = agent.waitForNext((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes('203.0.113.42'));
  appendFileSync(
    join(dir, 'auth.log'),
    'Nov 21 12:00:00 web-1 sshd[10]: Failed password for root from 203.0.113.42 port 40000 ssh2\n' +
      'Nov 21 12:00:01 web-1 sshd[10]: Failed password for root from 203.0.113.42 port 40002 ssh2\n',
  );
  const ban = await controller.waitForMsg('ban');
  t.match(ban, { ip: '203.0.113.42', hosts: ['web-1'] }, 'the controller banned on web-1\'s report, over TLS');
  await enforced;
  t.pass('and the agent enforced it from the ban list');
  t.notOk(agent.entries.some((e) => e.msg === 'nats error'), 'no NATS error on the agent');

  // clients built the way fleetban builds them (connectFleet), missing one piece each
  const client = async (keys: string): Promise<Error | undefined> => {
    const fleet = parseConfig(`[fleetban]\nhost = web-1\nnats = ${nats.url}\nstate_dir = ${join(dir, 'nowhere')}\n${keys}`, '').fleet;
    try {
      const nc = await connectFleet(fleet, { name: 'tls-probe', role: 'agent', logger: silentLogger(), waitOnFirstConnect: false });
      await nc.close();
      return undefined;
    } catch (err) {
      return err as Error;
    }
  };
  const seed = `nats_nkey = ${seedFile(state, 'web-1')}\n`;
  const clientCert = `tls_cert = ${tls.clientCert}\ntls_key = ${tls.clientKey}\n`;
  const ca = `tls_ca = ${tls.ca}\n`;
  t.equal(await client(seed + ca + clientCert), undefined, 'with the CA, a client certificate and a seed, a client is let in');
  const noCert = await client(seed + ca);
  t.match(noCert, { code: 'NATS_FAILED' }, `without a client certificate it is refused, holding a valid seed (${String(noCert?.message)})`);
  t.match(await client(ca + clientCert), { code: 'NATS_FAILED', message: /Authorization Violation/ }, 'with a certificate but no seed it is refused');
  const plain = await connect({ servers: nats.url, reconnect: false, authenticator: nkeyAuthenticator(readSeedFile(seedFile(state, 'web-1'))) }).then(
    async (nc) => (await nc.close(), undefined),
    (err: unknown) => err as Error,
  );
  t.ok(plain, `a client without TLS is refused (${String(plain?.message)})`);
  const wrongCa = join(dir, 'tls', 'other');
  mkdirSync(wrongCa);
  const other = makeTlsFiles(wrongCa);
  const untrusted = await client(`${seed}tls_ca = ${other.ca}\n${clientCert}`);
  t.match(untrusted, { code: 'NATS_FAILED' }, `a server certificate from another CA is not trusted (${String(untrusted?.message)})`);

  await agent.stop('SIGTERM');
  await controller.stop('SIGTERM');
});
