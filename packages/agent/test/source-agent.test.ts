// The whole agent (in-process) against a real nats-server: every failure line reaches the
// events stream exactly once across an agent restart and across a NATS outage (on-disk spool).
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  connectFleet, decodeFailure, ensureEventsStream, EVENTS_STREAM, jetstream, type NatsConnection, parseConfig, silentLogger,
} from '@fleetban/shared';
import { type Agent, runAgent } from '../src/main.js';
import { freePort } from '../../../test/fixtures/nats-server.js';

const WAIT_MS = 20_000;

/** nats-server with JetStream on `port`, its store in `store`: restartable with the same stream. */
async function natsServer(tt: Test, port: number, store: string): Promise<{ stop(): Promise<void> }> {
  const proc: ChildProcess = spawn('nats-server', ['-js', '-sd', store, '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const gone = new Promise((r) => proc.once('exit', r));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    await gone;
  };
  tt.teardown(stop);
  await new Promise<void>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`nats-server did not start: ${err}`)), 10_000);
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Server is ready')) { clearTimeout(timer); resolve(); }
    });
  });
  return { stop };
}

/** Every event in the stream now, as the port numbers of their lines. */
async function streamPorts(nc: NatsConnection): Promise<number[]> {
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM);
  const out: number[] = [];
  for (;;) {
    const m = await consumer.next({ expires: 1000 });
    if (!m) return out;
    out.push(Number(/port (\d+)/.exec(decodeFailure(m.data).line)?.[1]));
    if (m.info.pending === 0) return out;
  }
}

/** Resolves once `cond()` holds (checked every 50 ms: conditions on other processes' state). */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + WAIT_MS;
  // a request right after the server restarts may fail: that is "not yet"
  while (!(await Promise.resolve().then(cond).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Records in the spool's segment files (u32 length, u32 crc, bytes). */
function spooled(state: string): number {
  const dir = join(state, 'spool');
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.seg'))) {
    const b = readFileSync(join(dir, f));
    for (let off = 0; off + 8 <= b.length; off += 8 + b.readUInt32LE(off)) n++;
  }
  return n;
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);

t.test('agent restart and NATS outage: every failure published exactly once', async (tt) => {
  const dir = tt.testdir({ 'auth.log': '', state: {}, nats: {} });
  const port = await freePort();
  let nats = await natsServer(tt, port, join(dir, 'nats'));
  const log = join(dir, 'auth.log');
  const state = join(dir, 'state');
  const conf = `[fleetban]\nhost = web-1\nnats = nats://127.0.0.1:${port}\nstate_dir = ${state}\n\n` +
    `[agent]\nenforcer = dry-run\npoll = 20ms\nheartbeat = 1s\n\n[sshd]\nenabled = true\nlogpath = ${log}\n` +
    // the jail's own failregex: this test is about reading and publishing, not about filter files
    'filter =\nfailregex = Failed password for \\S+ from <HOST> port \\d+\n';
  writeFileSync(join(dir, 'agent.conf'), conf);
  const config = parseConfig(conf, join(dir, 'agent.conf'));
  const nc = await connectFleet(config.fleet, { name: 'test', role: 'controller', logger: silentLogger() });
  tt.teardown(() => nc.close());
  await ensureEventsStream(nc, 3_600_000);

  let written = 0;
  const fail = (count: number) => {
    let s = '';
    for (let i = 0; i < count; i++) s += `Nov 21 12:00:00 web-1 sshd[10]: Failed password for root from 203.0.113.5 port ${++written} ssh2\n`;
    appendFileSync(log, s);
  };
  const published = async (n: number) => until(async () => (await streamPorts(nc)).length >= n, `${n} events in the stream`);

  let agent: Agent | null = null;
  const start = async () => { agent = await runAgent(config, { logger: silentLogger() }); };
  const stop = async () => { const a = agent; agent = null; await a?.stop(); };
  tt.teardown(stop);
  await start();
  fail(20);
  await published(20);
  await stop();
  fail(20); // while the agent is down
  await start();
  fail(20);
  await published(60);
  tt.same(sorted(await streamPorts(nc)), range(1, 60), 'agent restart: 60 lines, 60 events, each once');

  await nats.stop(); // NATS outage: failures go to the spool
  fail(100);
  await until(() => spooled(state) >= 100, '100 failures in the spool');
  fail(5);
  nats = await natsServer(tt, port, join(dir, 'nats'));
  await published(165);
  fail(5);
  await published(170);
  const ports = await streamPorts(nc);
  tt.same(sorted(ports), range(1, 170), 'NATS outage: 170 lines, 170 events, each once');
  await stop();
  tt.equal(spooled(state), 0, 'the spool is empty once sent');
  const saved = JSON.parse(readFileSync(join(state, 'tail', 'sshd.json'), 'utf8')) as { files: Array<{ path: string; pos: number }> };
  tt.same(saved.files.map((f) => [f.path, f.pos]), [[log, readFileSync(log).length]], 'position saved at the end of the log');
});
