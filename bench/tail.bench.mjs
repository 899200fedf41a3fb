// Tail bench: a whole agent (its own process: tail → npm-access filter → report → JetStream, a
// real nats-server, enforcer dry-run) following 10 Nginx Proxy Manager access logs that receive
// 200,000 lines per second in total for a minute (written by a separate process), then a 100 MB
// line and 50 MB of random binary. Reports the agent's CPU% and RSS, bytes behind (from its
// heartbeats), and the lag from a failing line's write to its event in the stream. Then the same
// load through the file tail alone (no filter, no NATS), for comparison.
// Writes bench/results/tail.md.
// Options: --seconds N (60), --rate N lines/s (200000), --fail N percent of lines that are probes
// (2), --cpu-prof (profiles the agent: <tmpdir>/tail-agent.cpuprofile, and a summary by stage on
// stdout), --agent-only (no tail-alone run), --keep (keeps the temporary directory: logs, agent
// log, state), --node-flags "..." (the agent's V8 flags instead of deploy/agent-node-flags).
import { agentNodeFlagsFromArgv } from './lib/agent-flags.mjs';
import { freePort } from './lib/net.mjs';
import { startNats } from './lib/nats-server.mjs';
import { execFileSync, fork } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const FILES = 10;
const HOST = 'bench-1';
const JAIL = 'npm';
const here = fileURLToPath(import.meta.url);


// ---------------------------------------------------------------------------------------------
// The log writer: FILES files, `rate` lines/s in total, in 10 ms batches, for `seconds`. About
// `failPct`% of lines are scanner probes answered 404 (what npm-access counts), from many
// addresses in the documentation ranges, each carrying its write time (`?t=<ms>`) so the bench can
// measure the lag to the stream; the rest is ordinary traffic (200, 304, some harmless 404s).
async function writer(dir, rate, seconds, failPct) {
  const fds = Array.from({ length: FILES }, (_, i) => openSync(join(dir, `proxy-host-${i}_access.log`), 'a'));
  const perTick = rate / 100 / FILES;
  const failEvery = Math.round(100 / failPct);
  const probes = ['/wp-login.php', '/.env', '/.git/config', '/phpmyadmin/index.php', '/xmlrpc.php', '/wp-admin/setup-config.php', '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php'];
  const pages = ['/', '/api/v1/items?page=2', '/assets/app.3f9a1c.js', '/assets/app.3f9a1c.css', '/login', '/dashboard', '/api/v1/session', '/img/logo.svg'];
  const agents = ['"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" "https://app.example.com/"', '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36" "-"', '"curl/8.5.0" "-"'];
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p2 = (x) => String(x).padStart(2, '0');
  let dateSec = -1;
  let date = '';
  let n = 0;
  let failing = 0;
  const t0 = Date.now();
  let ticks = 0;
  const tick = () => {
    const now = Date.now();
    const due = Math.floor((now - t0) / 10);
    if (Math.floor(now / 1000) !== dateSec) {
      dateSec = Math.floor(now / 1000);
      const d = new Date(now);
      date = `[${p2(d.getUTCDate())}/${mon[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000]`;
    }
    for (; ticks < due; ticks++) {
      for (let f = 0; f < FILES; f++) {
        let s = '';
        for (let i = 0; i < perTick; i++) {
          n++;
          const ua = agents[n % 3];
          if (n % failEvery === 0) {
            failing++;
            const k = failing % 3000; // 3,000 scanners: IPv4 of the three documentation ranges and IPv6
            const ip = k < 762 ? `203.0.113.${(k % 254) + 1}` : k < 1524 ? `198.51.100.${(k % 254) + 1}` : k < 2286 ? `192.0.2.${(k % 254) + 1}` : `2001:db8:${(k % 97).toString(16)}::${(k % 251).toString(16)}`;
            s += `${date} - 404 404 - GET https host${f}.example.com "${probes[n % probes.length]}?t=${now}" [Client ${ip}] [Length 150] [Gzip -] [Sent-to 172.17.0.3] ${ua}\n`;
          } else {
            const st = n % 23 === 0 ? '404 404' : n % 7 === 0 ? '304 304' : '200 200';
            s += `${date} - ${st} - GET https host${f}.example.com "${pages[n % pages.length]}" [Client 198.51.100.${n % 250}] [Length ${1000 + (n % 9000)}] [Gzip 3.21] [Sent-to 172.17.0.3] ${ua}\n`;
          }
        }
        writeSync(fds[f], s);
      }
    }
    if (Date.now() - t0 < seconds * 1000) setTimeout(tick, 5);
    else {
      for (const fd of fds) closeSync(fd);
      process.send?.({ written: n, failing });
      process.exit(0);
    }
  };
  tick();
}

// ---------------------------------------------------------------------------------------------
// The agent, in its own process (so CPU and RSS are its own): what `fleetban agent` does.
async function agentProcess(confPath, logPath) {
  const { runAgent } = await import('../packages/agent/dist/index.js');
  const { createLogger, loadConfig } = await import('../packages/shared/dist/index.js');
  const logger = createLogger({ component: 'agent', destination: logPath, maxBacklogBytes: 4 * 1024 * 1024 }); // as `fleetban agent` (cli/src/commands/daemon.ts)
  const agent = await runAgent(loadConfig(confPath), { logger });
  process.send?.({ ready: true });
  process.once('SIGTERM', () => {
    void agent.stop().then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------

/** CPU (ms, user + system) and RSS (bytes) of a process, from /proc. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuMs = ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    return { cpuMs, rss };
  } catch {
    return null;
  }
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;



const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const avg = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pct = (xs, p) => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const mbs = (b) => (b / 1048576).toFixed(1);
const kib = (b) => (b / 1024).toFixed(0);
const num = (x) => x.toLocaleString('en');

async function main() {
  const seconds = arg('seconds', 60);
  const rate = arg('rate', 200_000);
  const failPct = arg('fail', 2);
  const prof = process.argv.includes('--cpu-prof');
  const agentRun = await agentBench(seconds, rate, failPct, prof);
  // the tail alone, in a fresh process of its own (its RSS is not this one's)
  const tailRun = process.argv.includes('--agent-only') ? null : await new Promise((resolve, reject) => {
    const p = fork(here, ['tail', String(seconds), String(rate), String(failPct)]);
    p.once('message', resolve);
    p.once('exit', (code) => reject(new Error(`tail bench exited with ${code}`)));
  });
  const mem = `${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
  const machine = `${cpus().length} CPUs (nproc ${execFileSync('nproc').toString().trim()}, ${cpus()[0]?.model ?? '?'}), ${mem} RAM, Node ${process.version}, nats-server ${execFileSync('nats-server', ['--version']).toString().trim().replace(/^nats-server:\s*/, '')}, ${new Date().toISOString().slice(0, 10)}`;
  const md = `## Tail: one agent, 10 files, ${num(rate)} lines/s for ${seconds} s

\`bench/tail.bench.mjs\`: one agent (\`runAgent\` from packages/agent/dist in its own process, as
\`fleetban agent\` runs it, with its V8 flags: ${agentNodeFlagsFromArgv().join(' ') || 'none'}; logging at info to a file) with one jail, \`filter = npm-access\`,
\`logpath = proxy-host-*_access.log\` (10 files, default options: poll 100 ms, max_line 64 KiB),
\`[agent] enforcer = dry-run\`, \`heartbeat = 1s\`, publishing to a real nats-server (JetStream,
file storage) on a loopback port; no controller (the failures go to the stream). A separate process
appends ${num(rate)} lines/s in total (10 ms batches; Nginx Proxy Manager proxy-host lines of about
${agentRun.lineBytes} bytes: ${agentRun.mbPerS} MB/s) of which ${failPct}% are scanner probes
answered 404 from ${num(3000)} addresses in the documentation ranges (what npm-access counts), the
rest ordinary traffic (200, 304, harmless 404s). CPU% (of one core) and RSS are the agent
process's, from /proc, every second; bytes behind and lines are the agent's own counters, from
its heartbeats; lag is the time from a probe line's write to its failure event arriving at a
stream consumer (write → read → filter → publish → JetStream → consumer). Machine: ${machine}.

| | |
|---|---|
| lines written / read by the agent | ${num(agentRun.written)} / ${num(agentRun.linesRead)} (${agentRun.written === agentRun.linesRead ? 'all' : 'MISMATCH'}) |
| failing lines written / events in the stream | ${num(agentRun.failing)} / ${num(agentRun.events)} (${agentRun.events === agentRun.failing && agentRun.uniqueIds === agentRun.events ? 'each once' : `MISMATCH, ${num(agentRun.uniqueIds)} distinct ids`}) |
| keeps up | bytes behind (heartbeats, from second 6 on): median ${kib(agentRun.behindMedFirst)} KiB in the first half, ${kib(agentRun.behindMedSecond)} KiB in the second (mean ${kib(agentRun.behindFirst)} / ${kib(agentRun.behindSecond)} KiB, max ${kib(agentRun.behindSteadyMax)} KiB; ${kib(agentRun.behindMax)} KiB at most in the first seconds); ${agentRun.drainMs === null ? 'DID NOT DRAIN' : `every line read and every event in the stream as of the first heartbeat after the writer stopped (${num(Math.round(agentRun.drainMs))} ms)`} |
| lag, line written → event in the stream | p50 ${agentRun.lag.p50} ms, p99 ${agentRun.lag.p99} ms, max ${agentRun.lag.max} ms |
| agent CPU | mean ${agentRun.cpuMean.toFixed(0)}% of one core (max ${agentRun.cpuMax.toFixed(0)}%); nats-server mean ${agentRun.natsCpu.toFixed(0)}%, writer mean ${agentRun.writerCpu.toFixed(0)}% |
| agent RSS | ${mbs(agentRun.rss[0])} MB after 1 s, ${mbs(agentRun.rssMax)} MB max, ${mbs(agentRun.rss[agentRun.rss.length - 1])} MB at the end of the load |
| a 100 MB line, and a file of 50 MB of random bytes | ${agentRun.abuse} |

| second | lines read | events in stream | agent CPU % | agent RSS MB | behind KiB | lag p99 ms |
|---:|---:|---:|---:|---:|---:|---:|
${agentRun.table}
${tailRun ? `
### The file tail alone

The same writer and files, read by one \`FileTail\` (the agent's file backend) in a process of its
own with a consumer that only counts lines: no filter, no NATS. CPU% and RSS are that process's.
Bytes behind is the tail's counter (as of its last look at the files), sampled every second.

| | |
|---|---|
| lines written / read | ${num(tailRun.written)} / ${num(tailRun.read)} (${tailRun.written === tailRun.read ? 'all, none twice' : 'MISMATCH'}) |
| keeps up | bytes behind: mean ${kib(tailRun.behindMean)} KiB, max ${kib(tailRun.behindMax)} KiB; every line read ${tailRun.drainMs.toFixed(0)} ms after the writer stopped |
| CPU | mean ${tailRun.cpuMean.toFixed(0)}% of one core (max ${tailRun.cpuMax.toFixed(0)}%) |
| RSS | ${mbs(tailRun.rssFirst)} MB after 1 s, ${mbs(tailRun.rssMax)} MB max |
` : ''}`;
  writeFileSync(fileURLToPath(new URL('./results/tail.md', import.meta.url)), md);
  process.stdout.write(md);
  if (prof) process.stdout.write(`\nthe agent's CPU profile, ${join(tmpdir(), 'tail-agent.cpuprofile')}, by stage (each sample counted for the innermost fleetban or library frame):\n${profileByStage(join(tmpdir(), 'tail-agent.cpuprofile'))}\n`);
}

/** Share of a CPU profile's samples per stage of the agent (idle and garbage collection apart). */
function profileByStage(path) {
  const p = JSON.parse(readFileSync(path, 'utf8'));
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = (n) => {
    const { url, functionName } = n.callFrame;
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(garbage collector)') return 'garbage collection';
    const m = /packages\/(\w+)\/dist\/(\w+)/.exec(url);
    if (m) return m[1] === 'agent' ? `agent ${m[2]}/` : `${m[1]} package`;
    if (/@nats-io/.test(url)) return 'NATS client';
    if (/pino|sonic-boom/.test(url)) return 'logging (pino)';
    if (/protobufjs/.test(url)) return 'protobuf';
    return null;
  };
  const by = new Map();
  let total = 0;
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    total += us;
    let stage = null;
    for (let cur = id; cur !== undefined && stage === null; cur = parent.get(cur)) stage = stageOf(nodes.get(cur));
    by.set(stage ?? 'other (node internals)', (by.get(stage ?? 'other (node internals)') ?? 0) + us);
  });
  return [...by].sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${(100 * v / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
}

/** The agent under load. */
async function agentBench(seconds, rate, failPct, prof) {
  const { connectFleet, decodeFailure, decodeHeartbeat, ensureEventsStream, EVENTS_STREAM, heartbeatSubject, jetstream, parseConfig, silentLogger } =
    await import('../packages/shared/dist/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'fb-agent-bench-'));
  const logs = join(dir, 'logs');
  const state = join(dir, 'state');
  mkdirSync(logs);
  for (let i = 0; i < FILES; i++) writeFileSync(join(logs, `proxy-host-${i}_access.log`), '');
  const port = await freePort();
  const nats = await startNats(port, join(dir, 'nats'));
  const children = [nats];
  try {
    const conf = `[fleetban]\nhost = ${HOST}\nnats = nats://127.0.0.1:${port}\nstate_dir = ${state}\n\n` +
      '[agent]\nenforcer = dry-run\nheartbeat = 1s\n\n' +
      `[${JAIL}]\nenabled = true\nfilter = npm-access\nlogpath = ${join(logs, 'proxy-host-*_access.log')}\n`;
    const confPath = join(dir, 'agent.conf');
    writeFileSync(confPath, conf);
    const config = parseConfig(conf, confPath);
    const nc = await connectFleet(config.fleet, { name: 'bench', role: 'controller', logger: silentLogger() });
    await ensureEventsStream(nc, 3_600_000);

    // heartbeats: the agent's own counters
    let hb = null;
    const hbSub = nc.subscribe(heartbeatSubject(HOST));
    void (async () => { for await (const m of hbSub) hb = decodeHeartbeat(m.data); })();

    // the stream, as a consumer sees it
    const ids = new Set();
    let events = 0;
    let lags = [];
    const allLags = [];
    const markers = new Set();
    const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM);
    const messages = await consumer.consume();
    void (async () => {
      for await (const m of messages) {
        const e = decodeFailure(m.data);
        events++;
        ids.add(e.id);
        const t = /[?&]t=(\d+)/.exec(e.line);
        if (t) {
          const lag = Date.now() - Number(t[1]);
          lags.push(lag);
          allLags.push(lag);
        }
        const marker = /after-the-[a-z-]+/.exec(e.line);
        if (marker) markers.add(marker[0]);
      }
    })();

    const agentLog = join(dir, 'agent.log');
    // the V8 flags of `fleetban agent` (deploy/agent-node-flags), as the .deb's launcher gives them
    const execArgv = [...agentNodeFlagsFromArgv(), ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${tmpdir()}`, '--cpu-prof-name=tail-agent.cpuprofile'] : [])];
    const agent = fork(here, ['agent', confPath, agentLog], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(agent);
    const agentExit = new Promise((r) => agent.once('exit', (code, signal) => r({ code, signal })));
    await new Promise((resolve, reject) => {
      agent.once('message', resolve);
      agent.once('exit', () => reject(new Error(`agent exited at start; see ${agentLog}`)));
    });
    while (!hb) await sleep(50);

    const samples = [];
    let last = { a: procStat(agent.pid), n: procStat(nats.pid), t: performance.now() };
    const writerProc = fork(here, ['writer', logs, String(rate), String(seconds), String(failPct)]);
    children.push(writerProc);
    let writerCpu = 0;
    const writerStart = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      const a = procStat(agent.pid);
      const n = procStat(nats.pid);
      const w = procStat(writerProc.pid);
      if (w) writerCpu = w.cpuMs;
      if (!a || !last.a) return;
      samples.push({
        s: samples.length + 1,
        cpu: (100 * (a.cpuMs - last.a.cpuMs)) / (now - last.t),
        natsCpu: n && last.n ? (100 * (n.cpuMs - last.n.cpuMs)) / (now - last.t) : 0,
        rss: a.rss,
        behind: hb?.bytesBehind ?? 0,
        lines: hb?.lines ?? 0,
        events,
        lagP99: pct(lags, 99),
      });
      lags = [];
      last = { a, n, t: now };
    }, 1000);
    const { written, failing } = await new Promise((resolve) => writerProc.once('message', resolve));
    const writerCpuPct = (100 * writerCpu) / (performance.now() - writerStart);
    clearInterval(timer);

    // drain: every line read (heartbeat) and every failure in the stream
    const drainStart = performance.now();
    let drainMs = null;
    while (performance.now() - drainStart < 60_000) {
      if (hb && hb.lines >= written && hb.bytesBehind === 0 && events >= failing) { drainMs = performance.now() - drainStart; break; }
      await sleep(20);
    }
    await sleep(1500); // a heartbeat after the drain: the final counts
    const linesRead = hb.lines;
    const eventsAfterLoad = events;
    const uniqueIds = ids.size;

    // abuse: a 100 MB line then a probe in a followed file, and a new followed file of 50 MB of
    // random bytes ending with a probe; both probes must reach the stream
    const before = { skipped: hb.skipped, lines: hb.lines };
    const d = new Date();
    const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
    const p2 = (x) => String(x).padStart(2, '0');
    const probe = (marker) => `[${p2(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000] - 404 404 - GET https host0.example.com "/.env?${marker}" [Client 203.0.113.250] [Length 150] [Gzip -] [Sent-to 172.17.0.3] "-" "-"\n`;
    const t1 = performance.now();
    let fd = openSync(join(logs, 'proxy-host-0_access.log'), 'a');
    const mb = Buffer.alloc(1 << 20, 0x41);
    for (let i = 0; i < 100; i++) writeSync(fd, mb);
    writeSync(fd, `\n${probe('after-the-long-line')}`);
    closeSync(fd);
    fd = openSync(join(logs, 'proxy-host-10_access.log'), 'w');
    const rnd = Buffer.alloc(1 << 20);
    for (let i = 0; i < 50; i++) {
      for (let j = 0; j < rnd.length; j += 4) rnd.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, j);
      writeSync(fd, rnd);
    }
    writeSync(fd, `\n${probe('after-the-binary')}`);
    closeSync(fd);
    let peakAbuseRss = 0;
    while (performance.now() - t1 < 60_000 && !(markers.has('after-the-long-line') && markers.has('after-the-binary'))) {
      peakAbuseRss = Math.max(peakAbuseRss, procStat(agent.pid)?.rss ?? 0);
      await sleep(20);
    }
    const abuseMs = performance.now() - t1;
    await sleep(1500);
    const alive = agent.exitCode === null && agent.signalCode === null;
    const abuse = markers.size === 2 && alive
      ? `survived: the probes after the long line and at the end of the binary file (found by the glob's rescan, read from its start) were in the stream ${num(Math.round(abuseMs))} ms after the writes began; ${num(hb.skipped - before.skipped)} lines skipped (the long line and NUL-bearing runs of random bytes), ${num(hb.lines - before.lines)} read (runs of random bytes between two newlines with no NUL in them, and the two probes); peak RSS ${mbs(peakAbuseRss)} MB`
      : `FAILED (${alive ? `probes in the stream: ${[...markers].join(', ') || 'none'}` : 'the agent died'})`;

    agent.kill('SIGTERM');
    const exit = await agentExit;
    await messages.close();
    hbSub.unsubscribe();
    await nc.close();
    if (exit.code !== 0) throw new Error(`agent exited with ${JSON.stringify(exit)}; see ${agentLog}`);

    const steady = samples.slice(5, -1);
    const half = Math.floor(steady.length / 2);
    const every = Math.max(1, Math.floor(samples.length / 12));
    const lineBytes = Math.round(readFileSync(join(logs, 'proxy-host-1_access.log')).length / (written / FILES));
    return {
      written, failing, linesRead, events: eventsAfterLoad, uniqueIds, drainMs,
      lineBytes, mbPerS: Math.round((rate * lineBytes) / 1e6),
      behindFirst: avg(steady.slice(0, half).map((x) => x.behind)),
      behindSecond: avg(steady.slice(half).map((x) => x.behind)),
      behindMedFirst: pct(steady.slice(0, half).map((x) => x.behind), 50),
      behindMedSecond: pct(steady.slice(half).map((x) => x.behind), 50),
      behindSteadyMax: steady.reduce((m, x) => Math.max(m, x.behind), 0),
      behindMax: Math.max(...samples.map((x) => x.behind)),
      lag: { p50: pct(allLags, 50), p99: pct(allLags, 99), max: allLags.reduce((a, b) => Math.max(a, b), 0) },
      cpuMean: avg(steady.map((x) => x.cpu)), cpuMax: Math.max(...steady.map((x) => x.cpu)),
      natsCpu: avg(steady.map((x) => x.natsCpu)), writerCpu: writerCpuPct,
      rss: samples.map((x) => x.rss), rssMax: Math.max(...samples.map((x) => x.rss)),
      abuse,
      table: samples.filter((x, i) => i % every === 0 || i === samples.length - 1)
        .map((x) => `| ${x.s} | ${num(x.lines)} | ${num(x.events)} | ${x.cpu.toFixed(0)} | ${mbs(x.rss)} | ${kib(x.behind)} | ${x.lagP99} |`).join('\n'),
    };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  }
}

/** The file tail alone, in this process. */
async function tailBench(seconds, rate, failPct) {
  const { FileTail } = await import('../packages/agent/dist/tail/file-tail.js');
  const { silentLogger } = await import('../packages/shared/dist/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'fb-tail-bench-'));
  try {
    for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `proxy-host-${i}_access.log`), '');
    let lines = 0;
    const tail = new FileTail({ globs: [join(dir, 'proxy-host-*_access.log')], pollMs: 100, logger: silentLogger(), clock: Date.now });
    await tail.start(() => { lines++; });
    const samples = [];
    let cpu = process.cpuUsage();
    let t = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      const c = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      samples.push({ cpu: (100 * (c.user + c.system)) / 1000 / (now - t), rss: process.memoryUsage().rss, behind: tail.counters().bytesBehind });
      t = now;
    }, 1000);
    const writerProc = fork(here, ['writer', dir, String(rate), String(seconds), String(failPct)]);
    const { written } = await new Promise((resolve) => writerProc.once('message', resolve));
    const drainStart = performance.now();
    while (lines < written && performance.now() - drainStart < 30_000) await sleep(20);
    const drainMs = performance.now() - drainStart;
    clearInterval(timer);
    await tail.stop();
    const steady = samples.slice(5, -1);
    return {
      written, read: lines, drainMs,
      behindMean: avg(steady.map((x) => x.behind)), behindMax: Math.max(...samples.map((x) => x.behind)),
      cpuMean: avg(steady.map((x) => x.cpu)), cpuMax: Math.max(...steady.map((x) => x.cpu)),
      rssFirst: samples[0]?.rss ?? 0, rssMax: Math.max(...samples.map((x) => x.rss)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const role = process.argv[2];
if (role === 'writer') await writer(process.argv[3], Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6]));
else if (role === 'agent') await agentProcess(process.argv[3], process.argv[4]);
else if (role === 'tail') process.send?.(await tailBench(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])), () => process.exit(0));
else await main();
