// Banned bench: `fleetban banned` with 100,000 and 1,000,000 bans in the ban list's KV bucket (a
// real nats-server, JetStream file storage, on a loopback port). The bans are written straight
// into the bucket with BanList.put, `--in-flight` puts awaiting their acknowledgement at once (the
// write time and rate are reported), then `fleetban banned` runs --runs times (default 3; the run
// with the median wall time is kept) under /usr/bin/time -v (wall time, CPU, peak RSS), its
// stdout read through a pipe by this process, which counts the lines (they must equal the bans).
// Then `banned --json` once, `banned TARGET` once, and a controller started on that list: the time
// to "controller ready" (it loads the list in one pass), its RSS, and `fleetban status sshd`.
// Bans: IPv4 in 198.18.0.0/15 (RFC 2544) for the first 131,072, then IPv6 in 2001:db8::/32, jail
// sshd, one day long, three evidence lines each (what a threshold ban with maxmatches 3 holds).
// Writes bench/results/banned.md. Options: --sizes 100000,1000000, --runs N (3), --in-flight N
// (2000), --keep (keep the temporary directory).
import { freePort } from './lib/net.mjs';
import { startUntil } from './lib/fleet-process.mjs';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : dflt);
const SIZES = opt('sizes', '100000,1000000').split(',').map(Number);
const RUNS = Number(opt('runs', 3));
const IN_FLIGHT = Number(opt('in-flight', 2000));
const MAIN = fileURLToPath(new URL('../packages/cli/dist/main.js', import.meta.url));
const { BanList, connectFleet, encodeBan, normalizeTarget, parseConfig, silentLogger } = await import('../packages/shared/dist/index.js');

const num = (x) => Math.round(x).toLocaleString('en');
const mb = (kib) => (kib / 1024).toFixed(1);
const secs = (ms) => (ms / 1000).toFixed(2);
const median = (runs) => [...runs].sort((a, b) => a.wall - b.wall)[Math.floor(runs.length / 2)];

/** The i-th bench target: 198.18.0.0/15, then 2001:db8::/32. */
function target(i) {
  if (i < 131_072) return `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  const j = i - 131_072;
  return normalizeTarget(`2001:db8:${(j >> 16).toString(16)}:${(j & 0xffff).toString(16)}::1`);
}

function ban(i, nowMs) {
  const ip = target(i);
  const line = (n) => `Nov 21 12:00:0${n} web-${i % 40} sshd[${1000 + n}]: Failed password for root from ${ip} port ${40000 + n} ssh2`;
  return { ip, jail: 'sshd', atMs: nowMs, expiresMs: nowMs + 86_400_000, reason: 'threshold', banCount: 1, hosts: [`web-${i % 40}`], matches: [line(1), line(2), line(3)], failures: 3, scope: [] };
}


/** Runs `fleetban <args>` under /usr/bin/time -v, counting its stdout's lines through a pipe. */
function timed(args) {
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/time', ['-v', process.execPath, MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let err = '';
    const t0 = performance.now();
    p.stdout.on('data', (d) => {
      for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
    });
    p.stderr.on('data', (d) => (err += d.toString()));
    p.once('exit', (code) => {
      const wall = performance.now() - t0;
      const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1] ?? 0);
      const cpu = Number(/User time \(seconds\): ([\d.]+)/.exec(err)?.[1] ?? 0) + Number(/System time \(seconds\): ([\d.]+)/.exec(err)?.[1] ?? 0);
      const status = Number(/Exit status: (\d+)/.exec(err)?.[1] ?? code);
      if (status !== 0 && status !== 1) reject(new Error(`fleetban ${args.join(' ')} exited ${status}: ${err.slice(0, 2000)}`));
      else resolve({ wall, cpu, rss, lines, status, err });
    });
  });
}

function rssOf(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'fb-banned-bench-'));
  const children = [];
  try {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const store = join(dir, 'js');
    children.push(await startUntil('nats-server', ['-js', '-sd', store, '-a', '127.0.0.1', '-p', String(port)], /Server is ready/));
    const conf = join(dir, 'bench.conf');
    writeFileSync(conf, `[fleetban]\nhost = bench\nnats = ${url}\nstate_dir = ${join(dir, 'state')}\n\n[sshd]\nenabled = true\nlogpath = ${join(dir, 'auth.log')}\n`);
    const fleet = parseConfig(readFileSync(conf, 'utf8'), conf).fleet;
    const nc = await connectFleet(fleet, { name: 'banned-bench', role: 'controller', logger: silentLogger(), waitOnFirstConnect: false });
    const list = await BanList.open(nc);
    const rows = [];
    let written = 0;
    for (const size of SIZES) {
      // fill up to `size`
      const now = Date.now();
      const t0 = performance.now();
      let next = written;
      const worker = async () => {
        while (next < size) await list.put(ban(next++, now));
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      const fillMs = performance.now() - t0;
      const fillCount = size - written;
      written = size;
      const storeMb = Number(execFileSync('du', ['-sk', store]).toString().split('\t')[0]) / 1024;
      process.stdout.write(`${num(size)} bans: wrote ${num(fillCount)} in ${secs(fillMs)} s (${num((fillCount * 1000) / fillMs)}/s), store ${storeMb.toFixed(0)} MB\n`);

      const runs = [];
      for (let r = 0; r < RUNS; r++) {
        const run = await timed(['banned', '-c', conf]);
        if (run.lines !== size) throw new Error(`fleetban banned printed ${run.lines} lines, expected ${size}: ${run.err.slice(0, 2000)}`);
        runs.push(run);
        process.stdout.write(`  banned: ${secs(run.wall)} s, CPU ${run.cpu.toFixed(2)} s, peak RSS ${mb(run.rss)} MB\n`);
      }
      const json = await timed(['banned', '--json', '-c', conf]);
      if (json.lines !== size) throw new Error(`fleetban banned --json printed ${json.lines} lines, expected ${size}`);
      process.stdout.write(`  banned --json: ${secs(json.wall)} s, peak RSS ${mb(json.rss)} MB\n`);
      const one = await timed(['banned', target(size - 1), '-c', conf]);
      if (one.lines !== 1 || one.status !== 0) throw new Error('fleetban banned TARGET did not show the ban');

      // a controller loading that list
      const tc = performance.now();
      const ctl = await startUntil(process.execPath, [MAIN, 'controller', '-c', conf], /"controller ready"/, { ...process.env, FLEETBAN_LOG_LEVEL: 'info' });
      const readyMs = performance.now() - tc;
      const ctlRss = rssOf(ctl.pid);
      const status = await timed(['status', 'sshd', '-c', conf]);
      if (status.status !== 0) throw new Error('fleetban status sshd failed');
      const gone = new Promise((r) => ctl.once('exit', r));
      ctl.kill('SIGTERM');
      await gone;
      process.stdout.write(`  controller ready in ${secs(readyMs)} s, RSS ${mb(ctlRss)} MB; status sshd ${secs(status.wall)} s\n`);
      rows.push({ size, fillCount, fillMs, storeMb, runs, best: median(runs), json, one, readyMs, ctlRss, status });
    }
    await nc.close();

    const machine = `${cpus().length} CPUs (nproc ${execFileSync('nproc').toString().trim()}, ${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, load average at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}, Node ${process.version}, nats-server ${execFileSync('nats-server', ['--version']).toString().trim().replace(/^nats-server:\s*/, '')}, ${new Date().toISOString().slice(0, 10)}`;
    const md = `## Banned: \`fleetban banned\` with a big ban list

\`bench/banned.bench.mjs\`: bans written straight into the ban list's KV bucket (\`BanList.put\`,
${num(IN_FLIGHT)} puts in flight) on a real nats-server (JetStream, file storage, loopback); IPv4
in 198.18.0.0/15 then IPv6 in 2001:db8::/32, jail sshd, three evidence lines each (values of
${encodeBan(ban(0, 0)).length} bytes, IPv4, to ${encodeBan(ban(1_000_000, 0)).length}, IPv6). \`fleetban banned\` reads the bucket in one
pass and prints each active ban as it arrives; its stdout goes through a pipe to the bench, which
counts the lines (they must equal the bans). Wall time, CPU (user + system) and peak RSS from
\`/usr/bin/time -v\`, median of ${RUNS} runs. The controller row: a \`fleetban controller\`
started on that list, time to "controller ready" (the list loaded in one pass) and its RSS then,
and \`fleetban status sshd\` (counts and 100 addresses) against it. Machine: ${machine}.

| bans | written in | write rate | JetStream store | \`banned\` | CPU | peak RSS | \`banned --json\` | \`banned TARGET\` | controller ready | controller RSS | \`status sshd\` |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.map((r) => `| ${num(r.size)} | ${secs(r.fillMs)} s (${num(r.fillCount)} new) | ${num((r.fillCount * 1000) / r.fillMs)}/s | ${r.storeMb.toFixed(0)} MB | ${secs(r.best.wall)} s (${num((r.size * 1000) / r.best.wall)} bans/s) | ${r.best.cpu.toFixed(2)} s | ${mb(r.best.rss)} MB | ${secs(r.json.wall)} s, ${mb(r.json.rss)} MB | ${secs(r.one.wall)} s | ${secs(r.readyMs)} s | ${mb(r.ctlRss)} MB | ${secs(r.status.wall)} s |`).join('\n')}

${rows.map((r) => `- ${num(r.size)} bans, seconds of each \`banned\` run: ${r.runs.map((x) => secs(x.wall)).join(' / ')}; peak RSS ${r.runs.map((x) => mb(x.rss)).join(' / ')} MB`).join('\n')}

Wall time counts waiting for a CPU when the machine is busy (see its load average): CPU time is the
steadier figure. The CLI's memory is bounded by what it has not printed yet, not by the list, but
the NATS client queues what the server delivers faster than it is printed (it answers flow
control on arrival): the longer JSON lines fall further behind, hence the larger RSS of
\`--json\`.
`;
    writeFileSync(fileURLToPath(new URL('./results/banned.md', import.meta.url)), md);
    process.stdout.write(md);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
    if (!argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${dir}\n`);
  }
}

await main();
