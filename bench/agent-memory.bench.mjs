// Agent memory bench: `fleetban agent` (the command line, as systemd starts it) with the default
// configuration (deploy/fleetban.conf: one sshd jail) but `enforcer = dry-run`, a state directory
// and a log of its own, publishing to a real nats-server (JetStream, file storage) on a loopback
// port; no controller. Reports the agent's RSS idle (10 s after "agent ready"), then under a spray
// of failure lines from 1,000,000 distinct addresses (written by this bench into the sshd log,
// bounded rate; addresses from the benchmark range 198.18.0.0/15 and the documentation range
// 2001:db8::/32; nothing leaves loopback), and after it. Writes bench/results/agent-memory.md.
// Options: --addresses N (1000000), --rate N lines/s (50000), --idle N seconds (10), --node-flags
// "..." (the agent's V8 flags instead of deploy/agent-node-flags; "" = none), --keep.
import { agentNodeFlagsFromArgv } from './lib/agent-flags.mjs';
import { freePort } from './lib/net.mjs';
import { startNats } from './lib/nats-server.mjs';
import { FLEETBAN_MAIN } from './lib/fleet-process.mjs';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const root = fileURLToPath(new URL('..', import.meta.url));
const ADDRESSES = arg('addresses', 1_000_000);
const RATE = arg('rate', 50_000);
const IDLE_S = arg('idle', 10);
// the V8 flags `fleetban agent` runs with (deploy/agent-node-flags); --node-flags "..." replaces them
const NODE_FLAGS = agentNodeFlagsFromArgv();
const HOST = 'bench-mem';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mb = (b) => (b / 1048576).toFixed(1);
const num = (x) => x.toLocaleString('en');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** RSS, peak RSS (bytes) and CPU (ms) of a process, from /proc; null once it is gone. */
function procStat(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK };
  } catch {
    return null;
  }
}

/** The n-th sprayed address: 198.18.0.0/15 first (131,072 of them), then 2001:db8::/32. */
function address(n) {
  if (n < 131_072) return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
  const k = n - 131_072;
  return `2001:db8:${(k >> 16).toString(16)}:${(k & 0xffff).toString(16)}::1`;
}


/** The default configuration file, pointed at this bench's NATS, state directory and log. */
function agentConfig(port, state, authLog) {
  const conf = readFileSync(join(root, 'deploy', 'fleetban.conf'), 'utf8')
    .replace(/^nats = .*$/m, `host = ${HOST}\nnats = nats://127.0.0.1:${port}`)
    .replace(/^state_dir = .*$/m, `state_dir = ${state}`)
    .replace(/^enforcer = .*$/m, 'enforcer = dry-run\nheartbeat = 1s')
    .replace(/^logpath = \/var\/log\/auth\.log$/m, `logpath = ${authLog}`);
  if (!conf.includes(`logpath = ${authLog}`) || !conf.includes('enforcer = dry-run')) throw new Error('deploy/fleetban.conf changed: the bench cannot adapt it');
  return conf;
}

async function main() {
  const { connectFleet, decodeHeartbeat, ensureEventsStream, heartbeatSubject, parseConfig, silentLogger } = await import('../packages/shared/dist/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'fb-mem-bench-'));
  const state = join(dir, 'state');
  const authLog = join(dir, 'auth.log');
  mkdirSync(state);
  writeFileSync(authLog, '');
  const port = await freePort();
  const nats = await startNats(port, join(dir, 'nats'));
  const children = [nats];
  try {
    const conf = agentConfig(port, state, authLog);
    const confPath = join(dir, 'fleetban.conf');
    writeFileSync(confPath, conf);
    const nc = await connectFleet(parseConfig(conf, confPath).fleet, { name: 'bench', role: 'controller', logger: silentLogger() });
    await ensureEventsStream(nc, 3_600_000);
    let hb = null;
    const hbSub = nc.subscribe(heartbeatSubject(HOST));
    void (async () => { for await (const m of hbSub) hb = decodeHeartbeat(m.data); })();

    const agentLog = join(dir, 'agent.log');
    const logFd = openSync(agentLog, 'a');
    const t0 = performance.now();
    const agent = spawn(process.execPath, [...NODE_FLAGS, FLEETBAN_MAIN, 'agent', '-c', confPath], { stdio: ['ignore', 'pipe', logFd] });
    children.push(agent);
    const exited = new Promise((r) => agent.once('exit', (code, signal) => r({ code, signal })));
    let out = '';
    const seen = [];
    agent.stdout.setEncoding('utf8');
    agent.stdout.on('data', (d) => {
      writeSync(logFd, d);
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        try { seen.push(JSON.parse(line).msg); } catch { /* not JSON */ }
      }
    });
    while (!seen.includes('agent ready')) {
      if (agent.exitCode !== null) throw new Error(`agent exited at start; see ${agentLog}`);
      if (performance.now() - t0 > 30_000) throw new Error(`agent not ready within 30 s; see ${agentLog}`);
      await sleep(20);
    }
    const readyMs = performance.now() - t0;
    const atReady = procStat(agent.pid);
    await sleep(IDLE_S * 1000);
    const idle = procStat(agent.pid);
    const idleLoad = loadavg()[0];

    // the spray: ADDRESSES failure lines, one per address, RATE lines/s in 10 ms batches
    const fd = openSync(authLog, 'a');
    const perTick = Math.max(1, Math.round(RATE / 100));
    const samples = [];
    let written = 0;
    const sprayStart = performance.now();
    let last = { cpuMs: idle.cpuMs, t: sprayStart };
    const sampler = setInterval(() => {
      const s = procStat(agent.pid);
      if (!s) return;
      const now = performance.now();
      samples.push({ s: samples.length + 1, written, read: hb?.lines ?? 0, rss: s.rss, cpu: (100 * (s.cpuMs - last.cpuMs)) / (now - last.t) });
      last = { cpuMs: s.cpuMs, t: now };
    }, 1000);
    const p2 = (x) => String(x).padStart(2, '0');
    const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    while (written < ADDRESSES) {
      const due = Math.min(ADDRESSES, Math.floor(((performance.now() - sprayStart) / 10) + 1) * perTick);
      if (written < due) {
        const d = new Date();
        const stamp = `${mon[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
        let s = '';
        for (; written < due; written++) s += `${stamp} ${HOST} sshd[${1000 + (written % 30000)}]: Failed password for root from ${address(written)} port ${1024 + (written % 60000)} ssh2\n`;
        writeSync(fd, s);
      }
      await sleep(5);
    }
    closeSync(fd);
    const sprayMs = performance.now() - sprayStart;
    // drain: every line read, per the heartbeats
    const drainStart = performance.now();
    let drainMs = null;
    while (performance.now() - drainStart < 120_000) {
      if (hb && hb.lines >= ADDRESSES && hb.bytesBehind === 0) { drainMs = performance.now() - drainStart; break; }
      await sleep(50);
    }
    await sleep(2000);
    clearInterval(sampler);
    const after = procStat(agent.pid);
    const lastHb = hb;
    // after the spray, idle again
    await sleep(IDLE_S * 1000);
    const settled = procStat(agent.pid);
    const load = loadavg();

    agent.kill('SIGTERM');
    const exit = await exited;
    closeSync(logFd);
    hbSub.unsubscribe();
    await nc.close();
    if (exit.code !== 0) throw new Error(`agent exited with ${JSON.stringify(exit)}; see ${agentLog}`);

    const rssMax = Math.max(...samples.map((x) => x.rss));
    const quarter = (q) => samples.find((x) => x.read >= (q * ADDRESSES) / 4) ?? samples.at(-1);
    const every = Math.max(1, Math.floor(samples.length / 12));
    const machine = `${cpus().length} CPUs (nproc ${execFileSync('nproc').toString().trim()}, ${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, nats-server ${execFileSync('nats-server', ['--version']).toString().trim().replace(/^nats-server:\s*/, '')}, ${new Date().toISOString().slice(0, 10)}; load average ${idleLoad.toFixed(2)} when idle was measured, ${load.map((x) => x.toFixed(2)).join(' / ')} (1/5/15 min) at the end (a shared machine)`;
    const md = `## Agent memory: idle, and a spray from ${num(ADDRESSES)} addresses

\`bench/agent-memory.bench.mjs\`: \`fleetban agent\` (packages/cli/dist/main.js, as the systemd
unit starts it, with the V8 flags of its launcher, deploy/agent-node-flags: ${NODE_FLAGS.length ? `\`${NODE_FLAGS.join(' ')}\`` : 'none'}) with the default configuration
(deploy/fleetban.conf: one sshd jail, \`[DEFAULT]\` findtime 10m, maxretry 5) but
\`enforcer = dry-run\` and \`heartbeat = 1s\`, its state directory and sshd log in a temporary
directory, publishing to a real nats-server (JetStream, file storage) on a loopback port; no
controller (the failures go to the stream; the agent's local window counts them, as it always
does). Idle is ${IDLE_S} s after "agent ready". The spray appends one \`Failed password\` line per
address, ${num(ADDRESSES)} distinct addresses (198.18.0.0/15, then 2001:db8::/32), ${num(RATE)}
lines/s in 10 ms batches, written by the bench itself. RSS is the agent process's, from /proc,
every second. Goals (issue 12): ≤ 64 MB idle, flat under the spray. Machine: ${machine}.

| | |
|---|---|
| start → "agent ready" | ${num(Math.round(readyMs))} ms; RSS ${mb(atReady.rss)} MB then |
| idle RSS, ${IDLE_S} s after ready | **${mb(idle.rss)} MB** (peak so far ${mb(idle.hwm)} MB) |
| spray | ${num(ADDRESSES)} lines written in ${(sprayMs / 1000).toFixed(1)} s; ${num(lastHb?.lines ?? 0)} read by the agent, ${drainMs === null ? 'NOT all within 120 s' : `all ${num(Math.round(drainMs))} ms after the last write`}; ${num(lastHb?.failures ?? 0)} failures published, ${num(lastHb?.buffered ?? 0)} buffered, spool ${num(lastHb?.spoolBytes ?? 0)} bytes |
| RSS while ¼ / ½ / ¾ / all of the addresses were read | ${[1, 2, 3, 4].map((q) => mb(quarter(q).rss)).join(' / ')} MB |
| RSS under the spray | max **${mb(rssMax)} MB**; ${mb(after.rss)} MB 2 s after the drain |
| RSS ${IDLE_S} s later | ${mb(settled.rss)} MB (peak of the run ${mb(settled.hwm)} MB) |
| agent CPU under the spray | mean ${(samples.reduce((a, x) => a + x.cpu, 0) / Math.max(1, samples.length)).toFixed(0)}% of one core |

| second | lines written | lines read | agent CPU % | agent RSS MB |
|---:|---:|---:|---:|---:|
${samples.filter((x, i) => i % every === 0 || i === samples.length - 1).map((x) => `| ${x.s} | ${num(x.written)} | ${num(x.read)} | ${x.cpu.toFixed(0)} | ${mb(x.rss)} |`).join('\n')}
`;
    writeFileSync(fileURLToPath(new URL('./results/agent-memory.md', import.meta.url)), md);
    process.stdout.write(md);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  }
}

await main();
