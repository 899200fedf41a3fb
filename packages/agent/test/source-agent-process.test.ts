// The agent as its own process (`fleetban agent`) against a real nats-server: a full spool holds
// reading back while NATS is down (nothing dropped, nothing held in memory), and an agent killed
// with SIGKILL right after reading lines reads them again at its next start without a failure
// reaching the stream twice (stable event ids: JetStream drops the repeats).
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  connectFleet, decodeFailure, decodeHeartbeat, ensureEventsStream, EVENTS_STREAM, type Heartbeat, heartbeatSubject, jetstream,
  type NatsConnection, parseConfig, silentLogger,
} from '@fleetban/shared';
import { FleetbanProcess } from '../../../test/fixtures/fleetban-process.js';
import { startNatsServer } from '../../../test/fixtures/nats-server.js';

const WAIT_MS = 30_000;
const HOST = 'web-1';

/** Resolves once `cond()` holds (checked every 20 ms: conditions on other processes' state). */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + WAIT_MS;
  // a request right after the server restarts may fail: that is "not yet"
  while (!(await Promise.resolve().then(cond).catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Messages in the events stream now. */
async function streamCount(nc: NatsConnection): Promise<number> {
  return (await (await jetstream(nc).streams.get(EVENTS_STREAM)).info()).state.messages;
}

/** Every event in the stream, as the port numbers of their lines, and their ids. */
async function streamEvents(nc: NatsConnection): Promise<{ ports: number[]; ids: string[] }> {
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM);
  const ports: number[] = [];
  const ids: string[] = [];
  for (let more = (await streamCount(nc)) > 0; more; ) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
    let got = 0;
    for await (const m of batch) {
      const e = decodeFailure(m.data);
      ports.push(Number(/port (\d+)/.exec(e.line)?.[1]));
      ids.push(e.id);
      got++;
      more = m.info.pending > 0;
    }
    if (got === 0) break;
  }
  return { ports, ids };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);

/** A test host: its log, state, configuration, the failure lines it writes, and a NATS client. */
async function host(tt: Test, agentKeys: string) {
  const dir = tt.testdir({ 'auth.log': '', state: {} });
  const nats = await startNatsServer(tt);
  const log = join(dir, 'auth.log');
  const state = join(dir, 'state');
  const conf = `[fleetban]\nhost = ${HOST}\nnats = ${nats.url}\nstate_dir = ${state}\n\n` +
    `[agent]\nenforcer = dry-run\npoll = 20ms\nheartbeat = 1s\n${agentKeys}\n\n[sshd]\nenabled = true\nlogpath = ${log}\n` +
    // the jail's own failregex: these tests are about reading and publishing, not about filter files
    'filter =\nfailregex = Failed password for \\S+ from <HOST> port \\d+\n';
  const confPath = join(dir, 'agent.conf');
  writeFileSync(confPath, conf);
  const nc = await connectFleet(parseConfig(conf, confPath).fleet, { name: 'test', role: 'controller', logger: silentLogger() });
  tt.teardown(() => nc.close());
  await ensureEventsStream(nc, 3_600_000);
  const heartbeats: Heartbeat[] = [];
  const sub = nc.subscribe(heartbeatSubject(HOST));
  void (async () => { for await (const m of sub) heartbeats.push(decodeHeartbeat(m.data)); })();
  let written = 0;
  return {
    nats, nc, log, state, heartbeats,
    get written() { return written; },
    /** `count` failure lines (ports written+1 ...), as one string. */
    failures(count: number): string {
      let s = '';
      for (let i = 0; i < count; i++) s += `Nov 21 12:00:00 ${HOST} sshd[10]: Failed password for root from 203.0.113.5 port ${++written} ssh2\n`;
      return s;
    },
    agent(name: string): FleetbanProcess {
      return FleetbanProcess.start(tt, name, ['agent', '-c', confPath]);
    },
    /** The position saved for the log (the start of the first line not delivered), or -1. */
    savedPos(): number {
      try {
        const s = JSON.parse(readFileSync(join(state, 'tail', 'sshd.json'), 'utf8')) as { files: Array<{ path: string; pos: number }> };
        return s.files.find((f) => f.path === log)?.pos ?? -1;
      } catch {
        return -1;
      }
    },
  };
}

/** Records in the spool's segment files (u32 length, u32 crc, bytes) and their bytes. */
function spool(state: string): { records: number; bytes: number } {
  const dir = join(state, 'spool');
  let records = 0;
  let bytes = 0;
  if (!existsSync(dir)) return { records, bytes };
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.seg'))) {
    const b = readFileSync(join(dir, f));
    for (let off = 0; off + 8 <= b.length; off += 8 + b.readUInt32LE(off)) records++;
    bytes += b.length;
  }
  return { records, bytes };
}

/** Resident memory of a process, in bytes. */
function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
}

t.test('spool full while NATS is down: reading stops, nothing dropped, memory flat; each failure sent once when NATS is back', async (tt) => {
  const SPOOL = 16 * 1024;
  const h = await host(tt, `buffer = 50\nspool = ${SPOOL}`);
  const agent = h.agent('agent');
  await agent.waitForMsg('agent ready');
  appendFileSync(h.log, h.failures(10));
  await until(async () => (await streamCount(h.nc)) === 10, '10 events in the stream');

  await h.nats.stop();
  appendFileSync(h.log, h.failures(300)); // ~50 KB of failures: more than the spool may hold
  await agent.waitForMsg('spool full: holding log reading back until it drains');
  const full = spool(h.state);
  tt.ok(full.bytes >= SPOOL, `the spool is full (${full.bytes} bytes)`);
  tt.ok(full.records <= 300, 'only what was read before the gate closed is spooled');
  const readUpTo = statSync(h.log).size;
  const rssBlocked = rss(agent.proc.pid as number);

  // 20 MB more, failures among ordinary lines: none of it may be read while the gate is closed
  const harmless = `Nov 21 12:00:00 ${HOST} CRON[77]: pam_unix(cron:session): session opened for user root ${'x'.repeat(30)}\n`.repeat(100);
  let backlog = '';
  for (let i = 0; i < 2000; i++) backlog += h.failures(1) + harmless;
  appendFileSync(h.log, backlog);
  const behind = statSync(h.log).size - readUpTo;
  // nothing happening can only be watched for a while: 2 s is 100 polls and 2 position saves
  const end = Date.now() + 2000;
  let rssMax = rssBlocked;
  while (Date.now() < end) {
    rssMax = Math.max(rssMax, rss(agent.proc.pid as number));
    await new Promise((r) => setTimeout(r, 50));
  }
  tt.ok(h.savedPos() <= readUpTo && h.savedPos() > 0, `reading stopped: position ${h.savedPos()} ≤ ${readUpTo}, ${(behind / 1048576).toFixed(1)} MB behind`);
  tt.same(spool(h.state), full, 'the spool did not grow');
  tt.ok(rssMax - rssBlocked < 8 * 1048576, `memory flat while ${(behind / 1048576).toFixed(1)} MB wait: RSS +${((rssMax - rssBlocked) / 1048576).toFixed(1)} MB`);
  tt.ok(agent.proc.exitCode === null, 'the agent runs on');

  await h.nats.restart();
  await agent.waitForMsg('spool drained: reading logs again');
  await until(async () => (await streamCount(h.nc)) === h.written, `${h.written} events in the stream`);
  appendFileSync(h.log, h.failures(5));
  await until(async () => (await streamCount(h.nc)) === h.written, `${h.written} events in the stream`);
  const { ports } = await streamEvents(h.nc);
  tt.same(sorted(ports), range(1, h.written), `${h.written} failure lines, ${h.written} events, each once`);
  await until(() => h.heartbeats.at(-1)?.bytesBehind === 0 && h.heartbeats.at(-1)?.buffered === 0, 'a heartbeat with nothing behind');
  tt.equal(await agent.stop(), 0, 'clean stop');
  tt.equal(spool(h.state).records, 0, 'the spool is empty once sent');
  tt.equal(h.savedPos(), statSync(h.log).size, 'position saved at the end of the log');
});

t.test('SIGKILL right after reading: the lines are read again, yet each failure is in the stream once', async (tt) => {
  const h = await host(tt, '');
  let agent = h.agent('agent');
  await agent.waitForMsg('agent ready');
  appendFileSync(h.log, `Nov 21 12:00:00 ${HOST} CRON[77]: a line that is no failure\n`);
  const saved = statSync(h.log).size;
  await until(() => h.savedPos() === saved, 'its position saved (positions are saved every second)');
  appendFileSync(h.log, h.failures(20)); // right after a save: read and published well before the next
  await until(async () => (await streamCount(h.nc)) === 20, '20 events in the stream');
  await agent.kill();
  tt.equal(h.savedPos(), saved, 'killed before the next save: the 20 lines will be read again');

  h.heartbeats.length = 0;
  agent = h.agent('agent-2');
  await agent.waitForMsg('agent ready');
  await until(() => agent.entries.filter((e) => e.msg === 'failure').length === 20, 'the 20 failures found again');
  await until(() => (h.heartbeats.at(-1)?.failures ?? 0) === 20, 'the 20 failures published again (acknowledged as duplicates)');
  tt.equal(await streamCount(h.nc), 20, 'the stream holds 20 events, not 40');
  appendFileSync(h.log, h.failures(5));
  await until(async () => (await streamCount(h.nc)) === 25, '25 events in the stream');
  const { ports, ids } = await streamEvents(h.nc);
  tt.same(sorted(ports), range(1, 25), '25 failure lines, 25 events, each once');
  tt.equal(new Set(ids).size, 25, 'distinct ids');
  tt.ok(ids.every((id) => id.startsWith(`${HOST}:sshd:`)), 'ids are <host>:<jail>:<line id>');
  tt.equal(await agent.stop(), 0, 'clean stop');
});
