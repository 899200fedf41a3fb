// Enforcement throughput: fleetban's batched backends against fail2ban's one-exec-per-address
// way, inside a network namespace this script creates and deletes (the host's firewall is never
// touched). Writes bench/results/enforce.md.
//   1. 100,000 bans applied in one batch: nftables (one `nft -f -`), iptables + ipset (one `ipset restore`)
//   2. 10,000 bans as fail2ban applies them (iptables-multiport: one `iptables -I f2b-<jail> 1 -s IP -j REJECT` exec each),
//      next to fleetban's batch of the same 10,000
//   3. reconcile of a 100,000-entry list: nothing to do (cheap look, and the periodic full read), and after the kernel set was flushed
//   4. ban received -> element in the kernel: 200+ single-ban `apply` calls, one at a time, through the nft -i
//      session, into an empty table and into one holding 100,000 bans; and 50 through a process per batch
//   5. 1,000,000 bans applied in one batch (nftables): split in parts of 125,000 written by `nft -f -`,
//      two at a time (the default from 20,000 operations), and, for comparison, as one transaction
//      (splitFrom 0); the list is made before the clock starts
// Addresses come from 198.18.0.0/15 (RFC 2544, benchmarking) and 2001:db8::/32 (documentation).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const self = fileURLToPath(import.meta.url);
const here = join(self, '..');

if (process.argv.includes('--inner')) {
  await inner();
} else {
  outer();
}

function outer() {
  const ns = `fb-bench-${randomBytes(2).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', ns]);
  let out;
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const extra = process.argv.slice(2);
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--expose-gc', self, '--inner', ...extra], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20, timeout: 2_400_000,
    });
    if (r.status !== 0) throw new Error(`bench inner run failed (${r.status ?? r.signal})`);
    out = JSON.parse(r.stdout.trim().split('\n').pop());
  } finally {
    spawnSync('ip', ['netns', 'delete', ns]);
  }
  if (process.argv.includes('--nft-only')) {
    process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
    return;
  }
  writeFileSync(join(here, 'results', 'enforce.md'), markdown(out));
  process.stdout.write(markdown(out));
}

/** The n-th bench address: IPv4 from 198.18.0.0/15 for n < 131072, else IPv6 in 2001:db8::/32. */
function addr(n) {
  if (n < 131_072) return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
  return `2001:db8:${(n >> 16).toString(16)}::${(n & 0xffff).toString(16)}`;
}

async function inner() {
  const { silentLogger } = await import('@fleetban/shared');
  const { NftablesEnforcer } = await import('../packages/agent/dist/enforce/nftables.js');
  const { IptablesEnforcer } = await import('../packages/agent/dist/enforce/iptables.js');
  const { createRunner } = await import('../packages/agent/dist/enforce/exec.js');
  const runner = createRunner({ timeoutMs: 600_000 });
  const logger = silentLogger();
  const clock = Date.now;
  const sh = (file, args, input) => execFileSync(file, args, { input: input ?? '', encoding: 'utf8', maxBuffer: 256 << 20 });
  const time = async (fn) => { const t0 = performance.now(); const r = await fn(); return { ms: performance.now() - t0, r }; };
  const bans = (n, offset = 0) => Array.from({ length: n }, (_, i) => ({ target: addr(offset + i), expiresMs: Date.now() + 3_600_000 }));
  const results = {};
  const loadStart = loadavg().map((x) => x.toFixed(1)).join(', ');

  const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };
  /** `n` single bans applied one after the other; each call resolves once nft has committed it. */
  const latencies = async (enf, n, offset) => {
    const ms = [];
    for (let i = 0; i < n; i++) {
      const ban = { target: addr(offset + i), expiresMs: Date.now() + 3_600_000 };
      const t0 = performance.now();
      await enf.apply([ban], []);
      ms.push(performance.now() - t0);
    }
    return { n, p50: pct(ms, 50), p99: pct(ms, 99), max: Math.max(...ms) };
  };
  // 4: ban -> kernel latency, 1 + 3: nftables
  {
    const enf = new NftablesEnforcer({ runner, clock, logger });
    await enf.start();
    const latEmpty = await latencies(enf, 300, 120_000);
    await enf.stop('flush');
    const list = bans(100_000);
    // 100,000 bans applied three times, each into a new table (the first also compiles the code
    // paths): the figure is the median; the last leaves its table for the parts below
    const applies = [];
    for (let k = 0; k < 2; k++) {
      const e = new NftablesEnforcer({ runner, clock, logger });
      await e.start();
      applies.push((await time(() => e.apply(list, []))).ms);
      await e.stop('flush');
    }
    await enf.start();
    const last = await time(() => enf.apply(list, []));
    applies.push(last.ms);
    const apply = { ms: pct(applies, 50), runs: applies };
    const count = sh('nft', ['-j', 'list', 'set', 'inet', 'fleetban', 'ban4']).split('"elem"').length > 1;
    const lat100k = await latencies(enf, 300, 120_000);
    await enf.apply([], Array.from({ length: 300 }, (_, i) => addr(120_000 + i)));
    // the first reconcile after start reads every element (as every 10th one does, and one after a repair)
    const fullRead = await time(() => enf.reconcile(list));
    const cheap = [];
    let noop;
    for (let i = 0; i < 5; i++) {
      noop = await time(() => enf.reconcile(list));
      cheap.push(noop.ms);
    }
    noop = { ms: pct(cheap, 50), max: Math.max(...cheap), r: noop.r };
    // a process per batch (a runner without spawn), for comparison
    const perProcess = new NftablesEnforcer({ runner: (f, a, i) => runner(f, a, i), clock, logger });
    await perProcess.start();
    const latProcess = await latencies(perProcess, 50, 121_000);
    await perProcess.stop('keep');
    await enf.stop('keep');
    // a flushed set is found by the periodic full read: an enforcer that reads everything each time
    const full = new NftablesEnforcer({ runner, clock, logger, fullReadEvery: 1 });
    await full.start();
    sh('nft', ['flush', 'set', 'inet', 'fleetban', 'ban4']);
    const refill = await time(() => full.reconcile(list));
    sh('nft', ['flush', 'ruleset']);
    const rebuild = await time(() => full.reconcile(list));
    const listed = (await full.list()).length;
    await full.stop('flush');
    const enf10 = new NftablesEnforcer({ runner, clock, logger });
    await enf10.start();
    const apply10k = await time(() => enf10.apply(bans(10_000), []));
    await enf10.stop('flush');
    const enf1m = new NftablesEnforcer({ runner, clock, logger });
    await enf1m.start();
    // the list is made before the clock starts: the figure is the apply, not the bench's own list
    const list1m = bans(1_000_000);
    const apply1m = await time(() => enf1m.apply(list1m, []));
    const listed1m = (await enf1m.list()).length;
    await enf1m.stop('flush');
    const one1m = new NftablesEnforcer({ runner, clock, logger, splitFrom: 0 });
    await one1m.start();
    const apply1mOne = await time(() => one1m.apply(list1m, []));
    await one1m.stop('flush');
    results.nft = {
      apply100k: apply.ms, apply100kRuns: apply.runs, noop: noop.ms, noopMax: noop.max, noopResult: noop.r, fullRead: fullRead.ms, refill: refill.ms, refillResult: refill.r,
      rebuild: rebuild.ms, listed, present: count, apply10k: apply10k.ms, apply1m: apply1m.ms, apply1mOne: apply1mOne.ms, listed1m,
      latEmpty, lat100k, latProcess, loadAfter: loadavg().map((x) => x.toFixed(1)).join(', '),
    };
    if (process.argv.includes('--nft-only')) { process.stdout.write(`${JSON.stringify(results)}\n`); process.exit(0); }
  }
  // 1 + 3: iptables + ipset
  {
    const enf = new IptablesEnforcer({ runner, clock, logger, iptables: 'iptables-nft' });
    await enf.start();
    const list = bans(100_000);
    const apply = await time(() => enf.apply(list, []));
    const noop = await time(() => enf.reconcile(list));
    sh('ipset', ['flush', 'fleetban4']);
    const refill = await time(() => enf.reconcile(list));
    const listed = (await enf.list()).length;
    await enf.stop('flush');
    const enf10 = new IptablesEnforcer({ runner, clock, logger, iptables: 'iptables-nft' });
    await enf10.start();
    const apply10k = await time(() => enf10.apply(bans(10_000), []));
    await enf10.stop('flush');
    results.ipset = { apply100k: apply.ms, noop: noop.ms, noopResult: noop.r, refill: refill.ms, refillResult: refill.r, listed, apply10k: apply10k.ms };
  }
  // 2: fail2ban's iptables-multiport actionban, one exec per address, for both iptables flavours
  for (const ipt of ['iptables-nft', 'iptables-legacy']) {
    sh(ipt, ['-w', '-N', 'f2b-sshd']);
    sh(ipt, ['-w', '-A', 'f2b-sshd', '-j', 'RETURN']);
    sh(ipt, ['-w', '-I', 'INPUT', '-p', 'tcp', '-m', 'multiport', '--dports', '22', '-j', 'f2b-sshd']);
    const n = 10_000;
    const marks = {};
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      execFileSync(ipt, ['-w', '-I', 'f2b-sshd', '1', '-s', addr(i), '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'], { stdio: 'ignore' });
      if (i + 1 === 1000 || i + 1 === 5000) marks[i + 1] = performance.now() - t0;
    }
    const total = performance.now() - t0;
    const rules = sh(ipt, ['-w', '-S', 'f2b-sshd']).split('\n').filter((l) => l.startsWith('-A')).length;
    sh(`${ipt}-restore`, [], '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n');
    results[ipt] = { total, first1000: marks[1000], first5000: marks[5000], rules };
  }
  results.machine = {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    memGiB: Math.round(totalmem() / 2 ** 30),
    kernel: sh('uname', ['-r']).trim(),
    nft: sh('nft', ['--version']).trim(),
    iptables: sh('iptables-nft', ['--version']).trim(),
    ipset: sh('ipset', ['--version']).trim().split(',')[0],
    node: process.version,
    date: new Date().toISOString(),
    load: loadStart,
  };
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

function markdown(r) {
  const s = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`);
  const rate = (n, ms) => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;
  const goal = (ms, limit) => (ms < limit ? `met (< ${s(limit)})` : `**missed** (goal < ${s(limit)})`);
  const m = r.machine;
  const n = r.nft;
  const f2bNft = r['iptables-nft'];
  const f2bLeg = r['iptables-legacy'];
  return `## Enforcement (bench/enforce.bench.mjs)

Machine: ${m.nproc} CPUs (${m.cpu}), ${m.memGiB} GiB, Linux ${m.kernel}, ${m.nft}, ${m.iptables}, ${m.ipset}, Node ${m.node}; ${m.date}; load average at the start ${m.load}.
Everything runs inside a network namespace the bench creates and deletes. Addresses: 198.18.0.0/15 (RFC 2544), then 2001:db8::/32.
Each ban has a 1 h timeout. Times are wall-clock for the whole call, commands included.

### nftables against its goals

| what | figure | goal |
|---|---:|---|
| ban received → element in the kernel, p50 / p99 / max of ${n.lat100k.n} single-ban \`apply\` calls, table holding 100,000 bans (\`nft -i\` session) | ${s(n.lat100k.p50)} / ${s(n.lat100k.p99)} / ${s(n.lat100k.max)} | p99 ${goal(n.lat100k.p99, 5)} |
| the same into an empty table | ${s(n.latEmpty.p50)} / ${s(n.latEmpty.p99)} / ${s(n.latEmpty.max)} | p99 ${goal(n.latEmpty.p99, 5)} |
| the same with a process per batch (\`nft -f -\`, a runner without \`spawn\`), ${n.latProcess.n} bans, table holding 100,000 | ${s(n.latProcess.p50)} / ${s(n.latProcess.p99)} / ${s(n.latProcess.max)} | for comparison |
| reconcile of an unchanged 100,000-entry list (structure look only), median of 5 (max) | ${s(n.noop)} (${s(n.noopMax)}); added ${n.noopResult.added}, removed ${n.noopResult.removed} | ${goal(n.noop, 500)} |
| reconcile with the full read (first after start, every 10th, every 5 min, after a repair) | ${s(n.fullRead)} | — |
| 100,000 bans in one \`apply\` (four parts, two \`nft -f -\` at a time, from \`splitFrom\`), median of 3 into a new table each | ${s(n.apply100k)} (${rate(100_000, n.apply100k)}); the three in order: ${n.apply100kRuns.map(s).join(', ')} | ${goal(n.apply100k, 500)} |
| 1,000,000 bans in one \`apply\` (131,072 IPv4, the rest IPv6; 9 parts, the first of about 25,000, two \`nft -f -\` at a time, one transaction each) | ${s(n.apply1m)} (${rate(1_000_000, n.apply1m)}); ${n.listed1m.toLocaleString('en-US')} listed back | ${goal(n.apply1m, 5000)} |
| the same as one transaction (\`splitFrom: 0\`, one \`nft -f -\`) | ${s(n.apply1mOne)} (${rate(1_000_000, n.apply1mOne)}) | for comparison |

Load average at the start ${m.load}, after the nftables part ${n.loadAfter} (on ${m.nproc} CPUs; other work on the machine slows every figure).
A batch of 20,000 element operations or more (\`splitFrom\`) is written in parts of at most
125,000 (four at least) by \`nft -f -\` processes, two at a time: nft parses on one CPU per process,
the kernel commits one part at a time (one lock per namespace), so the commit of one part overlaps
the parse of the next. The price is atomicity: the batch is several transactions, a reader may see
one part before another, and when nft refuses one part the others stand (the enforcer records
them, re-reads the kernel and applies the rest by halves). Smaller batches stay one transaction.
The batch is planned as it is written: the first part is what was planned when the split was
decided, and its nft starts at once; the next parts are planned while nft parses.

### Applying bans

| what | bans | time | rate |
|---|---:|---:|---:|
| fleetban nftables: one \`apply\` (four parts, two \`nft -f -\` at a time) | 100,000 | ${s(n.apply100k)} | ${rate(100_000, n.apply100k)} |
| fleetban iptables + ipset: one \`apply\` (one \`ipset restore\`) | 100,000 | ${s(r.ipset.apply100k)} | ${rate(100_000, r.ipset.apply100k)} |
| fleetban nftables: one \`apply\` | 10,000 | ${s(n.apply10k)} | ${rate(10_000, n.apply10k)} |
| fleetban iptables + ipset: one \`apply\` | 10,000 | ${s(r.ipset.apply10k)} | ${rate(10_000, r.ipset.apply10k)} |
| fail2ban way, iptables-nft: one \`iptables -I f2b-sshd 1 -s IP -j REJECT\` exec per address | 10,000 | ${s(f2bNft.total)} | ${rate(10_000, f2bNft.total)} |
| fail2ban way, iptables-legacy: same | 10,000 | ${s(f2bLeg.total)} | ${rate(10_000, f2bLeg.total)} |

The fail2ban way slows down as its chain grows (one rule per address, matched linearly by every
packet): iptables-nft took ${s(f2bNft.first1000)} for the first 1,000 and ${s(f2bNft.first5000)} for the first 5,000;
iptables-legacy ${s(f2bLeg.first1000)} and ${s(f2bLeg.first5000)}. ${f2bNft.rules.toLocaleString('en-US')} rules were in the chain at the end.
fleetban's sets are hashed (ipset, nft for single addresses) or interval trees (nft, networks): the cost per packet does not grow with the list.

### Reconciling a 100,000-entry ban list

| backend | nothing to change | after the kernel set was flushed | after \`nft flush ruleset\` |
|---|---:|---:|---:|
| nftables | ${s(n.noop)} (added ${n.noopResult.added}, removed ${n.noopResult.removed}); with the full read ${s(n.fullRead)} | ${s(n.refill)} (re-added ${n.refillResult.added.toLocaleString('en-US')}) | ${s(n.rebuild)} (table rebuilt, ${n.listed.toLocaleString('en-US')} elements back) |
| iptables + ipset | ${s(r.ipset.noop)} (added ${r.ipset.noopResult.added}, removed ${r.ipset.noopResult.removed}) | ${s(r.ipset.refill)} (re-added ${r.ipset.refillResult.added.toLocaleString('en-US')}) | — |

nftables: a reconcile looks at the structure only (\`nft -j -t list ruleset\`, no elements) and
trusts its own view of the elements while the table's and sets' handles are unchanged; it reads
every element back (\`nft -j list table\`) on the first reconcile, every 10th, every 5 minutes and
after a repair, so a flushed set (the middle column, measured with a full read each time) is
refilled within 10 reconciles or 5 minutes. iptables + ipset reads everything each time
(\`ipset save\`). With the default \`[agent] reconcile = 30s\`, the no-change figure is paid every 30 s.
`;
}
