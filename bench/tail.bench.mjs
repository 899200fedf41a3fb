// Tail bench: one agent's file tail following 10 files that receive 200,000 lines per second in
// total for a minute (written by a separate process), then a 100 MB line and a file of random
// binary. Reports lines/s kept up, bytes behind over time, CPU% and RSS of the reading process.
// Writes bench/results/tail.md. Options: --seconds N (default 60), --rate N lines/s (default 200000).
import { fork } from 'node:child_process';
import { appendFileSync, closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const FILES = 10;

if (process.argv[2] === 'writer') {
  // the log writers: FILES files, `rate` lines/s in total, in 10 ms batches, for `seconds`
  const [dir, rate, seconds] = [process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
  const fds = Array.from({ length: FILES }, (_, i) => openSync(join(dir, `proxy-host-${i}_access.log`), 'a'));
  const perTick = rate / 100 / FILES;
  let n = 0;
  const t0 = Date.now();
  let ticks = 0;
  const tick = () => {
    const due = Math.floor((Date.now() - t0) / 10);
    for (; ticks < due; ticks++) {
      for (const fd of fds) {
        let s = '';
        for (let i = 0; i < perTick; i++) {
          n++;
          s += `[21/Nov/2024:12:00:00 +0000] - 404 404 - GET https example.com "/wp-login.php?${n}" [Client 203.0.113.${n % 250}] [Length 150]\n`;
        }
        writeSync(fd, s);
      }
    }
    if (Date.now() - t0 < seconds * 1000) setTimeout(tick, 5);
    else {
      for (const fd of fds) closeSync(fd);
      process.send?.({ written: n });
      process.exit(0);
    }
  };
  tick();
} else {
  await main();
}

async function main() {
  const { FileTail } = await import('../packages/agent/dist/tail/file-tail.js');
  const { silentLogger } = await import('../packages/shared/dist/index.js');
  const seconds = arg('seconds', 60);
  const rate = arg('rate', 200_000);
  const dir = mkdtempSync(join(tmpdir(), 'fb-tail-bench-'));
  for (let i = 0; i < FILES; i++) writeFileSync(join(dir, `proxy-host-${i}_access.log`), '');
  let lines = 0;
  let matched = 0;
  const tail = new FileTail({ globs: [join(dir, 'proxy-host-*_access.log')], pollMs: 100, logger: silentLogger(), clock: Date.now });
  // a cheap stand-in for the filter: look at each line once
  await tail.start((l) => { lines++; if (l.text.charCodeAt(31) === 52) matched++; });

  const samples = [];
  let cpu = process.cpuUsage();
  let t = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const c = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const k = tail.counters();
    samples.push({ s: samples.length + 1, cpu: (100 * (c.user + c.system)) / 1000 / (now - t), rss: process.memoryUsage().rss, behind: k.bytesBehind, lines });
    t = now;
  }, 1000);
  const writer = fork(fileURLToPath(import.meta.url), ['writer', dir, String(rate), String(seconds)]);
  const written = await new Promise((resolve) => writer.once('message', (m) => resolve(m.written)));
  const drainStart = performance.now();
  while (lines < written && performance.now() - drainStart < 30_000) await new Promise((r) => setTimeout(r, 20));
  const drainMs = performance.now() - drainStart;
  clearInterval(timer);

  // abuse: a 100 MB line, then 50 MB of random binary, then one normal line
  const abuse = join(dir, 'proxy-host-0_access.log');
  const before = tail.counters();
  const fd = openSync(abuse, 'a');
  const mb = Buffer.alloc(1 << 20, 0x41);
  for (let i = 0; i < 100; i++) writeSync(fd, mb);
  writeSync(fd, '\n');
  const rnd = Buffer.alloc(1 << 20);
  for (let i = 0; i < 50; i++) {
    for (let j = 0; j < rnd.length; j += 4) rnd.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, j);
    writeSync(fd, rnd);
  }
  writeSync(fd, '\nafter the abuse\n');
  closeSync(fd);
  let afterAbuse = false;
  let peakAbuseRss = 0;
  const t1 = performance.now();
  const lines0 = lines;
  while (performance.now() - t1 < 60_000) {
    peakAbuseRss = Math.max(peakAbuseRss, process.memoryUsage().rss);
    if (tail.counters().bytesBehind === 0 && lines > lines0) { afterAbuse = true; break; }
    await new Promise((r) => setTimeout(r, 20));
  }
  const abuseMs = performance.now() - t1;
  const after = tail.counters();
  await tail.stop();
  rmSync(dir, { recursive: true, force: true });

  // report
  const steady = samples.slice(5, -1);
  const avg = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const mbs = (b) => (b / 1048576).toFixed(1);
  const maxBehind = Math.max(...samples.map((x) => x.behind));
  const firstHalf = steady.slice(0, Math.floor(steady.length / 2)).map((x) => x.behind);
  const secondHalf = steady.slice(Math.floor(steady.length / 2)).map((x) => x.behind);
  const rss = samples.map((x) => x.rss);
  const mem = `${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
  const machine = `${cpus().length} CPUs (nproc ${execFileSync('nproc').toString().trim()}, ${cpus()[0]?.model ?? '?'}), ${mem} RAM, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
  const every = Math.max(1, Math.floor(samples.length / 12));
  const table = samples.filter((x, i) => i % every === 0 || i === samples.length - 1)
    .map((x) => `| ${x.s} | ${x.lines.toLocaleString('en')} | ${x.cpu.toFixed(0)} | ${mbs(x.rss)} | ${(x.behind / 1024).toFixed(0)} |`).join('\n');
  const md = `## Tail: 10 files, ${rate.toLocaleString('en')} lines/s for ${seconds} s

\`bench/tail.bench.mjs\`: one \`FileTail\` (the agent's file backend, default options: poll 100 ms,
max_line 64 KiB) follows \`proxy-host-*_access.log\` (10 files); a separate process appends
${rate.toLocaleString('en')} lines/s in total (about ${Math.round(rate * 118 / 1048576)} MB/s, 10 ms batches, ~118-byte Nginx Proxy
Manager lines). The consumer looks at each line once. CPU% and RSS are the reading process's
(the writer's CPU is not counted), sampled every second. Machine: ${machine}.

| | |
|---|---|
| lines written / read | ${written.toLocaleString('en')} / ${lines0.toLocaleString('en')} (${written === lines0 ? 'all, none twice' : 'MISMATCH'}) |
| keeps up | bytes behind, steady state: mean ${(avg(firstHalf) / 1024).toFixed(0)} KiB in the first half, ${(avg(secondHalf) / 1024).toFixed(0)} KiB in the second (max ${(maxBehind / 1024).toFixed(0)} KiB); drained ${drainMs.toFixed(0)} ms after the writer stopped |
| CPU | mean ${avg(steady.map((x) => x.cpu)).toFixed(0)}% of one core (max ${Math.max(...steady.map((x) => x.cpu)).toFixed(0)}%) |
| RSS | ${mbs(rss[0])} MB after 1 s, ${mbs(Math.max(...rss))} MB max, ${mbs(rss[rss.length - 1])} MB at the end |
| 100 MB line + 50 MB random binary | ${afterAbuse ? 'survived' : 'DID NOT FINISH'}: read in ${abuseMs.toFixed(0)} ms, skipped ${after.skipped - before.skipped} lines (the long line and binary runs), delivered ${lines - lines0} lines (random bytes that happen to form short NUL-free lines, and "after the abuse"), peak RSS ${mbs(peakAbuseRss)} MB |

| second | lines read | CPU % | RSS MB | behind KiB |
|---:|---:|---:|---:|---:|
${table}
`;
  writeFileSync(fileURLToPath(new URL('./results/tail.md', import.meta.url)), md);
  process.stdout.write(md);
}
