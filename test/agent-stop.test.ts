// SIGTERM ends an agent in every state: connected, with NATS gone (reconnecting, failures waiting),
// and before NATS was ever reached. The test waits for the exit; it asserts no wall-clock time.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { freePort, startNatsServer } from './fixtures/nats-server.js';

const config = (dir: string, nats: string) => {
  const file = join(dir, 'web1.conf');
  writeFileSync(
    file,
    `[fleetban]\nhost = web1\nnats = ${nats}\nstate_dir = ${join(dir, 'state')}\n\n[agent]\nenforcer = dry-run\nheartbeat = 1s\npoll = 20ms\n\n` +
      `[DEFAULT]\nmaxretry = 2\nbantime = 1h\n\n[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n`,
  );
  return file;
};
const failures = (n: number) =>
  Array.from({ length: n }, (_, i) => `Nov 21 12:00:00 web1 sshd[${i}]: Failed password for root from 203.0.113.${(i % 200) + 1} port ${40000 + i} ssh2\n`).join('');

t.test('connected: SIGTERM stops the agent', async (t) => {
  const dir = t.testdir({ 'auth.log': '' });
  const nats = await startNatsServer(t);
  const agent = FleetbanProcess.start(t, 'web1', ['agent', '-c', config(dir, nats.url)]);
  await agent.waitForMsg('agent ready');
  t.equal(await agent.stop('SIGTERM'), 0, 'exit 0');
  t.ok(agent.entries.some((e) => e.msg === 'agent stopped'), '"agent stopped" logged');
});

t.test('NATS gone, failures waiting: SIGTERM stops the agent, the failures stay in the spool', async (t) => {
  const dir = t.testdir({ 'auth.log': '' });
  const nats = await startNatsServer(t);
  const agent = FleetbanProcess.start(t, 'web1', ['agent', '-c', config(dir, nats.url)]);
  await agent.waitForMsg('agent ready');
  const gone = agent.waitForNext((e) => e.msg === 'nats disconnect');
  await nats.stop();
  await gone;
  appendFileSync(join(dir, 'auth.log'), failures(500));
  await agent.waitFor((e) => e.msg === 'failure' && e.ip === '203.0.113.200');
  t.equal(await agent.stop('SIGTERM'), 0, 'exit 0 while reconnecting');
  t.ok(agent.entries.some((e) => e.msg === 'agent stopped'), '"agent stopped" logged');
  t.ok(agent.entries.some((e) => e.msg === 'stopping with unpublished failures; they are in the spool for the next start'), 'nothing lost: spooled');
});

t.test('NATS never reached: SIGTERM stops the agent', async (t) => {
  const dir = t.testdir({ 'auth.log': '' });
  const port = await freePort(); // nothing listens there
  const agent = FleetbanProcess.start(t, 'web1', ['agent', '-c', config(dir, `nats://127.0.0.1:${port}`)]);
  await agent.waitForMsg('agent started: protecting this host, joining the fleet');
  t.equal(await agent.stop('SIGTERM'), 0, 'exit 0');
  t.ok(agent.entries.some((e) => e.msg === 'agent stopped' && e.joined === false), 'it says it never joined the fleet');
});
