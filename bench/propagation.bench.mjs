// Propagation bench: how long from the log line that completes maxretry on one host until the ban
// is in the kernel of every host, on real parts: nats-server and `fleetban controller` in one
// network namespace, agents in others, on a bridge (as test/fleet.test.ts builds the fleet), all
// with default settings but maxretry = 3. Measures:
//   1. 3 hosts, each with its own namespace and nftables: --bans addresses (200), one at a time;
//      two failure lines on one host, then (after a random 20-120 ms pause) the third on another;
//      propagation = that write → the element in `inet fleetban` set ban4 of every host, seen by
//      an `nft monitor` per namespace; with the agents' and the controller's JSON logs, the bench's
//      own subscription to the events and its watch of the KV list, the time of each stage;
//   2. --agents agents (50), --fleet-bans bans (100: on 2 CPUs shared with 50 agents a ban takes ~1 s): the 3 above plus 47 with `enforcer = dry-run` sharing one more
//      namespace (fleetban's table name is fixed, so one namespace holds one nft enforcer);
//      propagation to all of them (kernel for the 3, "enforced" log line for the 47);
//   3. one agent's RSS and CPU under --lines failure lines (200,000) from as many distinct
//      addresses, appended at --rate lines/s (200,000), from /proc/<pid>/status and /proc/<pid>/stat.
// The bench runs itself again (--inner) inside the controller's namespace, so that its NATS client
// reaches the server there; this outer process creates the namespaces and, whatever happens
// (error, signal), kills what runs in them by pid and deletes them, nft tables included. The root
// namespace's network and firewall are never touched.
// Agents and the controller run with the V8 flags their launcher gives them (deploy/agent-node-flags,
// deploy/controller-node-flags), as in production.
// Writes bench/results/propagation.md. Options: --bans N, --agents N, --fleet-bans N, --lines N, --rate N.
import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentNodeFlags, controllerEnv, controllerNodeFlags } from './lib/agent-flags.mjs';
import { createLan, deleteLan, liveNamespaces } from './lib/lan.mjs';

const self = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REAL = ['hosta', 'hostb', 'hostc'];
/** How long after "agent ready" an agent's RSS is taken as idle (as bench/agent-memory.bench.mjs does). */
const IDLE_MS = 10_000;

if (process.argv.includes('--inner')) await inner();
else await outer();

async function outer() {
  const dir = mkdtempSync(join(tmpdir(), 'fbpb-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  let code = 1;
  try {
    const lan = createLan('prop', ['ctl', ...REAL, 'fleet']);
    const argv = ['netns', 'exec', lan.hosts.ctl.ns, process.execPath, '--expose-gc', self, '--inner', JSON.stringify(lan), dir, ...process.argv.slice(2)];
    const child = spawn('ip', argv, { stdio: ['ignore', 'inherit', 'inherit'] });
    code = await new Promise((r) => child.once('exit', (c, s) => r(c ?? (s ? 1 : 0))));
  } finally {
    deleteLan();
    rmSync(dir, { recursive: true, force: true });
    const left = liveNamespaces();
    if (left.length) process.stderr.write(`namespaces left: ${left.join(' ')}\n`);
  }
  if (code !== 0) {
    process.stderr.write(`propagation bench failed (inner exit ${code})\n`);
    process.exitCode = 1;
  }
}

// ------------------------------------------------------------------------------------------------
// Inside the controller's namespace.

async function inner() {
  const { NsProcess, FLEETBAN_MAIN } = await import('./lib/fleet-process.mjs');
  const { adminRequest, BanList, connectFleet, decodeFailure, silentLogger } = await import('@fleetban/shared');
  const i = process.argv.indexOf('--inner');
  const lan = JSON.parse(process.argv[i + 1]);
  const dir = process.argv[i + 2];
  const BANS = arg('bans', 200);
  const AGENTS = arg('agents', 50);
  const FLEET_BANS = arg('fleet-bans', 100);
  const LINES = arg('lines', 100_000);
  const RATE = arg('rate', 200_000);
  const ctlIp = lan.hosts.ctl.ipv4;
  const url = `nats://${ctlIp}:4222`;
  const started = [];
  const load0 = loadavg();
  const began = Date.now();
  const options = process.argv.slice(i + 3).join(' ');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  const stopAll = async () => {
    // agents first (on_stop = flush removes their table), then monitors, controller, server
    await Promise.all(started.filter((p) => p.kind === 'agent').map((p) => p.stop('SIGTERM')));
    for (const p of started.filter((p) => p.kind !== 'agent').reverse()) await p.stop('SIGTERM');
  };
  const onSignal = () => void stopAll().finally(() => process.exit(1));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  /** Per address: when each stage happened (ms since the epoch). */
  const recs = new Map();
  const rec = (ip) => recs.get(ip);
  let settle = () => {};
  const touched = (r) => r.check?.();

  const conf = (host, enforcer) => {
    const state = join(dir, host);
    mkdirSync(state, { recursive: true });
    const log = join(state, 'auth.log');
    writeFileSync(log, '');
    const file = join(dir, `${host}.conf`);
    writeFileSync(
      file,
      `[fleetban]\nhost = ${host}\nnats = ${url}\nstate_dir = ${state}\n\n` +
        (enforcer === 'dry-run' ? '[agent]\nenforcer = dry-run\n\n' : '') +
        `[DEFAULT]\nmaxretry = 3\n\n[sshd]\nenabled = true\nfilter = sshd\nlogpath = ${log}\n`,
    );
    return { file, log };
  };

  const hosts = new Map(); // name → { proc, log, real }
  let loadHost = ''; // part 3: this agent's failure lines are counted, not parsed
  let loadLogLines = 0;
  const loadWarnings = new Map(); // part 3: the load agent's warnings and errors, by message
  const startAgent = (host, ns, real) => {
    const { file, log } = conf(host, real ? 'nftables' : 'dry-run');
    const p = new NsProcess(host, ns, [process.execPath, ...agentNodeFlags(), FLEETBAN_MAIN, 'agent', '-c', file], {
      json: true,
      onLine: (line) => {
        if (host === loadHost && line.includes('"msg":"failure"')) {
          loadLogLines++;
          return false;
        }
        return true;
      },
      onEntry: (e) => {
        if (host === loadHost && e.level >= 40) loadWarnings.set(e.msg, (loadWarnings.get(e.msg) ?? 0) + 1);
        if (e.msg === 'failure') {
          const r = rec(e.ip);
          if (r && r.writer === host && r.failureAt === undefined && r.t0 !== undefined) r.failureAt = e.time;
        } else if (e.msg === 'ban received') {
          const r = rec(e.ip);
          if (r && !r.received.has(host)) r.received.set(host, e.time);
        } else if (e.msg === 'enforced') {
          for (const ip of e.bans) {
            const r = rec(ip);
            if (r && !r.enforced.has(host)) (r.enforced.set(host, e.time), touched(r));
          }
        }
      },
    });
    p.kind = 'agent';
    started.push(p);
    hosts.set(host, { proc: p, log, real, ns });
    return p;
  };

  // nats-server and controller
  const nats = new NsProcess('nats-server', lan.hosts.ctl.ns, ['nats-server', '-js', '-sd', join(dir, 'js'), '-a', ctlIp, '-p', '4222']);
  nats.kind = 'nats';
  started.push(nats);
  try {
    let errText = '';
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server not ready: ${errText}`)), 10_000);
      nats.proc.stderr.on('data', (d) => {
        errText += d;
        if (errText.includes('Server is ready')) (clearTimeout(timer), resolve());
      });
    });
    const ctlConf = conf('ctl', 'nftables').file;
    const controller = new NsProcess('controller', lan.hosts.ctl.ns, [process.execPath, ...controllerNodeFlags(), FLEETBAN_MAIN, 'controller', '-c', ctlConf], {
      env: { GLIBC_TUNABLES: controllerEnv().GLIBC_TUNABLES },
      json: true,
      onEntry: (e) => {
        if (e.msg === 'ban') {
          const r = rec(e.ip);
          if (r && r.banAt === undefined) r.banAt = e.time;
        }
      },
    });
    controller.kind = 'controller';
    started.push(controller);
    await controller.waitForMsg('controller ready');

    // the bench's own view: failure events as published, and the KV list
    const fleet = { host: 'bench', servers: [url], user: '', password: '', token: '', creds: '', nkey: '', adminNkey: '', tlsCa: '', tlsCert: '', tlsKey: '', stateDir: dir, addresses: [] };
    const nc = await connectFleet(fleet, { name: 'bench', role: 'controller', logger: silentLogger(), waitOnFirstConnect: false });
    let pairsPublished = 0;
    let loadEvents = 0;
    const loadIds = new Set();
    let loadLastAt = 0;
    const loadSubject = () => `fleetban.events.${loadHost}.sshd`;
    const sub = nc.subscribe('fleetban.events.>');
    void (async () => {
      for await (const m of sub) {
        if (loadHost && m.subject === loadSubject()) {
          loadEvents++;
          const id = decodeFailure(m.data).id;
          if (!loadIds.has(id)) (loadIds.add(id), (loadLastAt = Date.now()));
          continue;
        }
        const now = Date.now();
        const e = decodeFailure(m.data);
        const r = rec(e.ip);
        if (!r) continue;
        if (r.t0 !== undefined && e.host === r.writer) r.published ??= now;
        else if (e.host === r.first) pairsPublished++;
      }
    })();
    const list = await BanList.open(nc, false);
    const watch = await list.watch({
      onChange: (c) => {
        if (c.kind !== 'put') return;
        const r = rec(c.ban.ip);
        if (r && r.kvAt === undefined) r.kvAt = Date.now();
      },
      onInitialized: () => undefined,
      onMalformed: () => undefined,
    });
    const counted = async () => (await adminRequest(nc, { verb: 'status', jail: '', ip: '', bantimeMs: 0 }, 30_000)).counters['events.counted'] ?? 0;

    // the 3 hosts, and a monitor of each one's kernel set
    const monitors = [];
    for (const h of REAL) startAgent(h, lan.hosts[h].ns, true);
    await Promise.all(REAL.map((h) => hosts.get(h).proc.waitForMsg('agent ready')));
    for (const h of REAL) {
      const m = new NsProcess(`nft monitor ${h}`, lan.hosts[h].ns, ['nft', 'monitor', 'new', 'elements'], {
        onLine: (line) => {
          if (!line.includes('inet fleetban ban4')) return false;
          const now = Date.now();
          for (const ip of line.match(/\b\d+\.\d+\.\d+\.\d+\b/g) ?? []) {
            const r = rec(ip);
            if (r && !r.kernel.has(h)) (r.kernel.set(h, now), touched(r));
          }
          return false;
        },
      });
      m.kind = 'monitor';
      started.push(m);
      monitors.push(m);
    }
    // idle as bench/agent-memory.bench.mjs measures it: 10 s after "agent ready" (V8 shrinks its heap
    // after a few idle seconds; 2 s after start the agents were at 64-65 MB, settled 59-60 MB)
    await sleep(IDLE_MS);
    const idle3 = REAL.map((h) => hosts.get(h).proc.memory().rssMb);

    const syslogTime = () => {
      const d = new Date();
      const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getMonth()];
      const p2 = (x) => String(x).padStart(2, '0');
      return `${mon} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
    };
    let pid = 1000;
    const line = (host, ip) => `${syslogTime()} ${host} sshd[${++pid}]: Failed password for root from ${ip} port ${40_000 + (pid % 20_000)} ssh2\n`;
    /** The n-th address of 198.18.0.0/15 (RFC 2544, benchmarking). */
    const addr = (n) => `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;

    /**
     * `count` bans of fresh addresses from `n0` on: two lines on one real host for every address
     * (all at once, then the controller has counted them), then one address at a time, the third
     * line on the next host; resolves when every host has it (real: kernel and log; dry-run: log).
     */
    const propagate = async (n0, count) => {
      const all = [...hosts.keys()];
      const real = all.filter((h) => hosts.get(h).real);
      const ips = [];
      const firstLines = new Map(REAL.map((h) => [h, '']));
      for (let k = 0; k < count; k++) {
        const ip = addr(n0 + k);
        const first = REAL[k % 3];
        const writer = REAL[(k + 1) % 3];
        recs.set(ip, { ip, first, writer, received: new Map(), enforced: new Map(), kernel: new Map() });
        ips.push(ip);
        firstLines.set(first, firstLines.get(first) + line(first, ip) + line(first, ip));
      }
      const base = await counted();
      pairsPublished = 0;
      for (const [h, text] of firstLines) appendFileSync(hosts.get(h).log, text);
      for (let k = 0; k < 300 && ((pairsPublished < 2 * count) || (await counted()) < base + 2 * count); k++) await sleep(100);
      if (pairsPublished < 2 * count) throw new Error(`only ${pairsPublished} of ${2 * count} first failures published`);
      let missed = 0;
      let checked = 0;
      let confirmed = 0;
      for (const [k, ip] of ips.entries()) {
        const r = rec(ip);
        await sleep(20 + Math.random() * 100);
        const done = new Promise((resolve) => {
          const timer = setTimeout(() => ((r.missed = true), resolve()), 10_000);
          r.check = () => {
            if (real.every((h) => r.kernel.has(h)) && all.every((h) => r.enforced.has(h))) (clearTimeout(timer), (r.check = undefined), resolve());
          };
        });
        r.t0 = Date.now();
        appendFileSync(hosts.get(r.writer).log, line(r.writer, ip));
        await done;
        if (r.missed) missed++;
        if (k % 10 === 0) {
          // cross-check: the element is there, asked with `nft get element`
          for (const h of real) {
            checked++;
            try {
              execFileSync('ip', ['netns', 'exec', hosts.get(h).ns, 'nft', 'get', 'element', 'inet', 'fleetban', 'ban4', `{ ${ip} }`], { stdio: 'ignore' });
              confirmed++;
            } catch {
              // absent
            }
          }
        }
      }
      return { ips, real, all, missed, checked, confirmed };
    };

    const out = [];
    const t1 = Date.now();
    const r1 = await propagate(1, BANS);
    out.push(part1(r1, idle3, Date.now() - t1));
    process.stdout.write(`${out.at(-1)}\n\n`);

    // part 2: AGENTS agents
    const extra = [];
    for (let k = REAL.length + 1; k <= AGENTS; k++) extra.push(`agent-${String(k).padStart(2, '0')}`);
    for (let k = 0; k < extra.length; k += 8) {
      const wave = extra.slice(k, k + 8).map((h) => startAgent(h, lan.hosts.fleet.ns, false));
      await Promise.all(wave.map((p) => p.waitForMsg('agent ready', 60_000)));
    }
    await sleep(IDLE_MS);
    const idleAll = [...hosts.values()].map((h) => h.proc.memory().rssMb);
    const t2 = Date.now();
    const r2 = await propagate(4096, FLEET_BANS);
    out.push(part2(r2, idleAll, Date.now() - t2));
    process.stdout.write(`${out.at(-1)}\n\n`);
    await Promise.all(extra.map((h) => hosts.get(h).proc.stop('SIGTERM')));
    for (const h of extra) hosts.delete(h);

    // part 3: one agent under LINES failure lines
    loadHost = 'hostc';
    const agent = hosts.get(loadHost).proc;
    global.gc?.();
    await sleep(1_000);
    const idleBefore = agent.memory();
    const cpu0 = agent.cpuTicks();
    const fd = openSync(hosts.get(loadHost).log, 'a');
    const perTick = Math.max(1, Math.round(RATE / 100));
    const a10 = (n) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    let written = 0;
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, agent.memory().rssMb)), 100);
    const w0 = Date.now();
    for (let tick = 0; written < LINES && tick < 100_000; tick++) {
      const due = w0 + tick * 10;
      if (Date.now() < due) await sleep(due - Date.now());
      const ts = syslogTime();
      let s = '';
      for (let j = 0; j < perTick && written < LINES; j++, written++) s += `${ts} ${loadHost} sshd[${7000 + (written % 3000)}]: Failed password for root from ${a10(written + 65_536)} port ${1024 + (written % 60_000)} ssh2\n`;
      writeSync(fd, s);
    }
    closeSync(fd);
    const wroteMs = Date.now() - w0;
    for (let k = 0; k < 1800 && loadIds.size < LINES; k++) await sleep(100);
    const doneMs = loadLastAt - w0;
    clearInterval(sampler);
    const cpu1 = agent.cpuTicks();
    const underLoad = agent.memory();
    global.gc?.();
    await sleep(2_000);
    const after = agent.memory();
    const ticksPerSec = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    out.push(part3({ lines: LINES, rate: RATE, wroteMs, doneMs, events: loadEvents, distinct: loadIds.size, warnings: [...loadWarnings], logLines: loadLogLines, cpuSec: (cpu1 - cpu0) / ticksPerSec, idleBefore, peakRss, underLoad, after }));
    process.stdout.write(`${out.at(-1)}\n\n`);

    watch.stop();
    sub.unsubscribe();
    await nc.close();
    await stopAll();

    const nftVersion = execFileSync('nft', ['--version'], { encoding: 'utf8' }).trim();
    const natsVersion = execFileSync('nats-server', ['--version'], { encoding: 'utf8' }).trim();
    const md =
      `## Propagation (bench/propagation.bench.mjs)\n\n` +
      `Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}, load average (1, 5, 15 min) ${load0.map((l) => l.toFixed(1)).join(' ')} when the bench started and ${loadavg().map((l) => l.toFixed(1)).join(' ')} when it ended (other work shared the machine: the figures are from a busy ${cpus().length}-CPU box), Node ${process.version}, ${natsVersion}, ${nftVersion}; ${new Date().toISOString()}.\n` +
      `Run as \`node --expose-gc bench/propagation.bench.mjs${options ? ` ${options}` : ''}\`; ${((Date.now() - began) / 1000).toFixed(0)} s in all. ` +
      `Every process on this one machine: nats-server (JetStream, file storage) and \`fleetban controller\` in one network namespace, each agent host in its own, on a bridge (192.0.2.0/24); the bench creates the namespaces and deletes them. ` +
      `Agents run with the V8 flags of their launcher (deploy/agent-node-flags: \`${agentNodeFlags().join(' ') || 'none'}\`), the controller with its own (deploy/controller-node-flags: \`${controllerNodeFlags().join(' ') || 'none'}\`). ` +
      `Default settings everywhere (poll 100 ms, reconcile 30 s, heartbeat 5 s, bantime 10m, findtime 10m, log level info) except \`maxretry = 3\`. ` +
      `Each agent follows one file, \`auth.log\`, that the bench appends sshd lines to (\`<syslog time> <host> sshd[pid]: Failed password for root from <ip> port <port> ssh2\`); the \`sshd\` filter. Addresses: 198.18.0.0/15 (RFC 2544) for bans, 10.0.0.0/8 for the load.\n\n` +
      `How each time is taken: *written* is the bench's clock just before it appends the line; *read* is the agent's "failure" log line; *published* is the failure event reaching the bench's own subscription to \`fleetban.events.>\`; *decided* is the controller's "ban" log line (written once the ban is stored in the KV list); *in the list* is the put reaching the bench's watch of the list; *received* and *enforced* are each agent's "ban received" and "enforced" log lines ("enforced" is logged once \`nft\` has returned); *in the kernel* is the element appearing in the output of an \`nft monitor new elements\` the bench runs in each host's namespace (the kernel's own notification of the commit). All clocks are the same machine's; log times have 1 ms resolution. After every 10th ban, \`nft get element inet fleetban ban4 { ip }\` in each namespace confirms the element is there.\n\n` +
      `${out.join('\n\n')}\n`;
    writeFileSync(join(root, 'bench', 'results', 'propagation.md'), md);
    process.stdout.write('wrote bench/results/propagation.md\n');
  } finally {
    await stopAll();
  }

  // ----------------------------------------------------------------------------------------------
  // Figures and Markdown

  function pct(xs, p) {
    const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    if (s.length === 0) return NaN;
    return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
  }
  function row(label, xs) {
    const v = xs.filter((x) => Number.isFinite(x));
    const mean = v.reduce((a, b) => a + b, 0) / (v.length || 1);
    return `| ${label} | ${pct(v, 50)} | ${pct(v, 90)} | ${pct(v, 99)} | ${Math.max(...v)} | ${mean.toFixed(1)} | ${v.length} |`;
  }
  function fmt(n) {
    return Math.round(n).toLocaleString('en-US');
  }
  function mb(x) {
    return `${x.toFixed(1)} MB`;
  }

  /** Per-ban times of the stages, for the hosts in `hostsOf`. */
  function stages(r) {
    const done = r.ips.map(rec).filter((x) => !x.missed);
    const last = (m, hs) => Math.max(...hs.map((h) => m.get(h)));
    const pooled = (f) => done.flatMap((x) => r.all.map((h) => f(x, h)));
    const pooledReal = (f) => done.flatMap((x) => r.real.map((h) => f(x, h)));
    return {
      done,
      kernelAll: done.map((x) => last(x.kernel, r.real) - x.t0),
      everyHost: done.map((x) => Math.max(last(x.kernel, r.real), ...r.all.filter((h) => !r.real.includes(h)).map((h) => x.enforced.get(h))) - x.t0),
      enforcedAll: done.map((x) => last(x.enforced, r.all) - x.t0),
      read: done.map((x) => x.failureAt - x.t0),
      published: done.map((x) => x.published - x.t0),
      readToPublished: done.map((x) => x.published - x.failureAt),
      decided: done.map((x) => x.banAt - x.published),
      listed: done.map((x) => x.kvAt - x.published),
      received: pooled((x, h) => x.received.get(h) - x.banAt),
      receivedFromList: pooled((x, h) => x.received.get(h) - x.kvAt),
      enforce: pooled((x, h) => x.enforced.get(h) - x.received.get(h)),
      kernelVsLog: pooledReal((x, h) => x.kernel.get(h) - x.enforced.get(h)),
    };
  }

  function table(s, totalLabel, total) {
    return [
      '| ms | p50 | p90 | p99 | max | mean | n |\n|---|---:|---:|---:|---:|---:|---:|',
      row(`**${totalLabel}**`, total),
      row('written → read (the writing host\'s "failure" log line)', s.read),
      row('written → published (event at the bench\'s subscription)', s.published),
      row('read → published', s.readToPublished),
      row('published → decided (controller "ban" log line, written after its KV writes: often after the agents have the ban)', s.decided),
      row('published → in the list (bench\'s KV watch)', s.listed),
      row('in the list → "ban received" (every host, pooled)', s.receivedFromList),
      row('"ban received" → "enforced" (every host, pooled)', s.enforce),
      row('"enforced" log → in the kernel (nft monitor; negative: seen before the log line)', s.kernelVsLog),
    ].join('\n');
  }

  /**
   * The critical path of each ban: the host that had it last, and its four stages (they add up to
   * the total): detection (written → published), controller (published → in the list), delivery
   * (in the list → that host's "ban received"), enforcement ("ban received" → its kernel, or its
   * "enforced" log line for a dry-run agent).
   */
  function share(r, s) {
    const at = (x, h) => (r.real.includes(h) ? x.kernel.get(h) : x.enforced.get(h));
    const paths = s.done.map((x) => {
      const h = r.all.reduce((a, b) => (at(x, b) > at(x, a) ? b : a));
      return [x.published - x.t0, x.kvAt - x.published, x.received.get(h) - x.kvAt, at(x, h) - x.received.get(h)];
    });
    const names = ['detection (written → published)', 'controller (published → in the list)', 'delivery (in the list → "ban received" on the last host)', 'enforcement (its "ban received" → in its kernel)'];
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
    const total = mean(paths.map((p) => p[0] + p[1] + p[2] + p[3]));
    const rows = names.map((n, k) => {
      const v = paths.map((p) => p[k]);
      return `| ${n} | ${pct(v, 50)} | ${pct(v, 99)} | ${mean(v).toFixed(1)} | ${Math.round((100 * mean(v)) / total)}% |`;
    });
    return `Where the time goes, on each ban's critical path (the host that had it last; the four stages add up to the total):\n\n| stage | p50 ms | p99 ms | mean ms | share of the mean |\n|---|---:|---:|---:|---:|\n${rows.join('\n')}\n| total | | | ${total.toFixed(1)} | |`;
  }

  function part1(r, idle, ms) {
    const s = stages(r);
    const p99 = pct(s.kernelAll, 99);
    return (
      `### 3 hosts, each in its own namespace with nftables\n\n` +
      `${fmt(r.ips.length)} bans, one at a time (${(ms / 1000).toFixed(0)} s); ${r.missed} not in every kernel within 10 s. ` +
      `Propagation, line written → element in all 3 kernels: **p50 ${pct(s.kernelAll, 50)} ms, p90 ${pct(s.kernelAll, 90)} ms, p99 ${p99} ms** (goal: p99 < 50 ms: ${p99 < 50 ? 'met' : '**missed**'}). ` +
      `\`nft get element\` after every 10th ban: ${r.confirmed} of ${r.checked} present. Agent RSS idle (10 s after start): ${idle.map(mb).join(', ')} (goal ≤ 64 MB: ${idle.every((x) => x <= 64) ? 'met' : '**missed**'}).\n\n` +
      `${table(s, 'written → in all 3 kernels', s.kernelAll)}\n${row('written → last "enforced" log line', s.enforcedAll)}\n\n${share(r, s)}`
    );
  }

  function part2(r, idle, ms) {
    const s = stages(r);
    const p99 = pct(s.everyHost, 99);
    const sorted = idle.slice().sort((a, b) => a - b);
    return (
      `### ${r.all.length} agents\n\n` +
      `The 3 hosts above (nftables, own namespaces) and ${r.all.length - r.real.length} more agents with \`enforcer = dry-run\` sharing one namespace (fleetban's nft table name is fixed, so each nft enforcer needs a namespace of its own; a dry-run agent does all the same work but the \`nft\` exec, and logs "enforced" after it). ${r.all.length} agent processes and the controller on ${cpus().length} CPUs. ` +
      `${fmt(r.ips.length)} bans, one at a time (${(ms / 1000).toFixed(0)} s); ${r.missed} not everywhere within 10 s. ` +
      `Propagation, line written → in the 3 kernels and logged "enforced" by the ${r.all.length - r.real.length} others: **p50 ${pct(s.everyHost, 50)} ms, p90 ${pct(s.everyHost, 90)} ms, p99 ${p99} ms** (goal: p99 < 100 ms: ${p99 < 100 ? 'met' : '**missed**'}). ` +
      `\`nft get element\` after every 10th ban: ${r.confirmed} of ${r.checked} present. Agent RSS idle (10 s after the last started), the ${idle.length} agents: median ${mb(pct(sorted, 50))}, max ${mb(sorted.at(-1))} (goal ≤ 64 MB: ${sorted.at(-1) <= 64 ? 'met' : '**missed**'}).\n\n` +
      `${table(s, `written → on all ${r.all.length}`, s.everyHost)}\n${row('written → in the 3 kernels', s.kernelAll)}\n\n${share(r, s)}`
    );
  }

  function part3(x) {
    const per100k = (x.cpuSec * 100_000) / x.lines;
    const rate = x.lines / (x.doneMs / 1000);
    return (
      `### One agent under ${fmt(x.lines)} failure lines\n\n` +
      `The agent of hostc (after the bans above; the ${AGENTS - 3} dry-run agents stopped) follows its auth.log while the bench appends ${fmt(x.lines)} sshd failure lines, each from a different address of 10.0.0.0/8 (no ban: one failure each), at ${fmt(x.rate)} lines/s in 10 ms batches (written in ${(x.wroteMs / 1000).toFixed(2)} s). ` +
      `The agent logs each failure at info (${fmt(x.logLines)} "failure" lines) and publishes it; ${fmt(x.distinct)} distinct events (${fmt(x.events)} messages: ${fmt(x.events - x.distinct)} published again) reached the bench's subscription, the last new one ${(x.doneMs / 1000).toFixed(2)} s after the first line was written: **${fmt(rate)} lines/s** handled end to end. The controller counts them meanwhile, on the same ${cpus().length} CPUs. Agent warnings and errors meanwhile: ${x.warnings.length ? x.warnings.map(([m, n]) => `"${m}" ×${n}`).join(', ') : 'none'}.\n\n` +
      `| | | goal |\n|---|---:|---|\n` +
      `| CPU (utime + stime, /proc/<pid>/stat) per 100,000 lines | **${per100k.toFixed(2)} s** | |\n` +
      `| RSS idle, before the load | ${mb(x.idleBefore.rssMb)} | ≤ 64 MB: ${x.idleBefore.rssMb <= 64 ? 'met' : '**missed**'} |\n` +
      `| RSS under the load (max of 100 ms samples of VmRSS) | **${mb(x.peakRss)}** | ≤ 96 MB at 200,000 lines/s: ${x.peakRss <= 96 ? 'met' : '**missed**'}${rate < x.rate ? ` (the agent handled ${fmt(rate)} lines/s, not ${fmt(x.rate)})` : ''} |\n` +
      `| RSS when the last event was published | ${mb(x.underLoad.rssMb)} | |\n` +
      `| RSS 2 s later | ${mb(x.after.rssMb)} | |\n` +
      `| VmHWM (peak RSS of the agent's life) | ${mb(x.after.hwmMb)} | |`
    );
  }
}
