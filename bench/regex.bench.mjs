// Regex bench: `fleetban regex` against fail2ban-regex on the same 1,000,000-line auth.log.
// The log is generated (seeded, so every run reads the same lines): an internet-facing Debian host's
// sshd seen through rsyslog, mostly attack traffic (password guessing for root and invalid users,
// scanners that close before authenticating, key-exchange junk) interleaved with real logins
// (publickey, sessions, PAM), CRON, sudo and systemd-logind lines; IPv4 and IPv6 from the
// documentation ranges. The first half has classic syslog dates (`Nov 21 10:00:00 host ...`), the
// second half rsyslog's Debian 12 ISO 8601 dates (`2026-11-21T10:00:00.123456+00:00 host ...`), as
// in a log that spans the host's upgrade to Debian 12.
//
// Each tool runs once to warm up, then --runs times (default 3; the run with the median wall time is kept) per case under
// /usr/bin/time -v (wall time, CPU time, peak RSS), TZ=UTC, with fail2ban's own
// filter.d/sshd.conf (`-c /etc/fail2ban`) in normal and aggressive modes; fleetban runs as by
// default (two threads for a log this big) and with --threads 1, and also with its own filter. The matched/ignored/missed line counts of the two tools must be equal
// (else the bench fails). Installs fail2ban and time with apt-get when missing. Writes
// bench/results/regex.md. Options: --lines N (default 1000000), --keep (keep the log, print its path),
// --log FILE (read FILE, generating it there first when it does not exist; kept), --fleetban-only
// (run fleetban on fail2ban's filter only, check its counts against the fail2ban-regex rows of
// bench/results/regex.md and print the ratios to their times; writes no results: for iterating).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const LINES = argv.includes('--lines') ? Number(argv[argv.indexOf('--lines') + 1]) : 1_000_000;
const KEEP = argv.includes('--keep');
const LOG = argv.includes('--log') ? argv[argv.indexOf('--log') + 1] : undefined;
const FLEETBAN_ONLY = argv.includes('--fleetban-only');
const RUNS = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 3;
const root = fileURLToPath(new URL('..', import.meta.url));
const FLEETBAN = join(root, 'packages', 'cli', 'dist', 'main.js');

// ---------- the log ----------

/** mulberry32: a small seeded PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = prng(20261121);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
const b64 = (n) => Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[int(0, 63)]).join('');

// attackers: 3,000 addresses, a few of them very busy (Zipf-like), one in five IPv6
const ATTACKERS = Array.from({ length: 3000 }, (_, i) => {
  if (i % 5 === 4) return `2001:db8:${(i % 97).toString(16)}:${hex(2)}::${hex(3)}`;
  return `${pick(['192.0.2', '198.51.100', '203.0.113'])}.${int(1, 254)}`;
});
const attacker = () => ATTACKERS[Math.floor(ATTACKERS.length * rnd() ** 3)];
const CLIENTS = ['198.51.100.10', '198.51.100.11', '192.0.2.200', '2001:db8:1::10', '2001:db8:1::11'];
const INVALID = ['admin', 'test', 'user', 'ubuntu', 'oracle', 'postgres', 'git', 'ftpuser', 'pi', 'guest', 'support', 'ubnt', 'hadoop', 'mysql', 'deploy', 'jenkins', 'minecraft', 'steam', 'tomcat', 'user1', 'administrator', 'nagios', 'ansible', 'docker', 'es', 'solana', 'sol', 'validator', 'ftp', 'www'];
const VALID = ['alice', 'deploy', 'backup'];
const port = () => int(1024, 65535);

let nextPid = 1000;
let nextSession = 1;

/** One sshd connection: the lines it writes, in order. */
function connection() {
  const pid = nextPid++;
  const p = port();
  const r = rnd();
  const lines = [];
  const sshd = (m) => lines.push([`sshd[${pid}]`, m]);
  if (r < 0.34) {
    // password guessing for an invalid user
    const ip = attacker();
    const u = rnd() < 0.01 ? `${pick(INVALID)} from 203.0.113.250 port 22` : pick(INVALID);
    sshd(`Invalid user ${u} from ${ip} port ${p}`);
    const tries = int(1, 3);
    for (let i = 0; i < tries; i++) {
      sshd('pam_unix(sshd:auth): check pass; user unknown');
      sshd(`pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}`);
      sshd(`Failed password for invalid user ${u} from ${ip} port ${p} ssh2`);
    }
    const end = rnd();
    if (end < 0.5) sshd(`Received disconnect from ${ip} port ${p}:11: Bye Bye [preauth]`), sshd(`Disconnected from invalid user ${u} ${ip} port ${p} [preauth]`);
    else if (end < 0.8) sshd(`Connection closed by invalid user ${u} ${ip} port ${p} [preauth]`);
    else sshd(`Connection reset by invalid user ${u} ${ip} port ${p} [preauth]`);
  } else if (r < 0.56) {
    // password guessing for root
    const ip = attacker();
    const tries = rnd() < 0.15 ? 6 : int(1, 3);
    for (let i = 0; i < tries; i++) {
      if (i === 0) sshd(`pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}  user=root`);
      sshd(`Failed password for root from ${ip} port ${p} ssh2`);
    }
    if (tries === 6) {
      sshd(`error: maximum authentication attempts exceeded for root from ${ip} port ${p} ssh2 [preauth]`);
      sshd(`Disconnecting authenticating user root ${ip} port ${p}: Too many authentication failures [preauth]`);
      sshd(`PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip}  user=root`);
    } else if (rnd() < 0.5) {
      sshd(`Received disconnect from ${ip} port ${p}:11: Bye Bye [preauth]`);
      sshd(`Disconnected from authenticating user root ${ip} port ${p} [preauth]`);
    } else sshd(`Connection closed by authenticating user root ${ip} port ${p} [preauth]`);
  } else if (r < 0.8) {
    // scanners and junk: no authentication at all
    const ip = attacker();
    const k = rnd();
    if (k < 0.35) sshd(`Connection closed by ${ip} port ${p} [preauth]`);
    else if (k < 0.5) sshd(`Connection reset by ${ip} port ${p} [preauth]`);
    else if (k < 0.65) sshd(`error: kex_exchange_identification: Connection closed by remote host`), sshd(`Connection closed by ${ip} port ${p}`);
    else if (k < 0.75) sshd(`Did not receive identification string from ${ip} port ${p}`);
    else if (k < 0.85) sshd(`banner exchange: Connection from ${ip} port ${p}: invalid format`);
    else if (k < 0.95) sshd(`Unable to negotiate with ${ip} port ${p}: no matching key exchange method found. Their offer: diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1,diffie-hellman-group1-sha1 [preauth]`);
    else sshd(`error: kex_exchange_identification: client sent invalid protocol identifier "GET / HTTP/1.1"`), sshd(`banner exchange: Connection from ${ip} port ${p}: invalid format`);
  } else {
    // a real login (sometimes after a refused key), its session, its end
    const ip = pick(CLIENTS);
    const u = pick(VALID);
    const s = nextSession++;
    if (rnd() < 0.2) sshd(`Failed publickey for ${u} from ${ip} port ${p} ssh2: RSA SHA256:${b64(43)}`);
    sshd(`Accepted publickey for ${u} from ${ip} port ${p} ssh2: ED25519 SHA256:${b64(43)}`);
    sshd(`pam_unix(sshd:session): session opened for user ${u}(uid=${1000 + VALID.indexOf(u)}) by (uid=0)`);
    lines.push([`systemd-logind[612]`, `New session ${s} of user ${u}.`]);
    if (rnd() < 0.3) lines.push([`sudo[${nextPid++}]`, `   ${u} : TTY=pts/0 ; PWD=/home/${u} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx`], [`sudo[${nextPid}]`, `pam_unix(sudo:session): session opened for user root(uid=0) by ${u}(uid=${1000 + VALID.indexOf(u)})`], [`sudo[${nextPid}]`, 'pam_unix(sudo:session): session closed for user root']);
    sshd(`Received disconnect from ${ip} port ${p}:11: disconnected by user`);
    sshd(`Disconnected from user ${u} ${ip} port ${p}`);
    sshd(`pam_unix(sshd:session): session closed for user ${u}`);
    lines.push([`systemd-logind[612]`, `Session ${s} logged out. Waiting for processes to exit.`], [`systemd-logind[612]`, `Removed session ${s}.`]);
  }
  return lines;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n) => String(n).padStart(2, '0');
function classicDate(ms) {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}
function isoDate(ms, us) {
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(us).padStart(6, '0')}+00:00`;
}

/** Writes `n` lines to `file`; returns the number of lines per kind of program. */
function generate(file, n) {
  const fd = openSync(file, 'w');
  const end = Date.now() - 3_600_000;
  let t = end - n * 500; // a line every half second on average: about 6 days for 1M lines
  const active = [];
  let buf = '';
  const programs = {};
  for (let i = 0; i < n; i++) {
    t += int(0, 1000);
    const date = i < n / 2 ? classicDate(t) : isoDate(t, int(0, 999_999));
    let prog;
    let msg;
    const noise = rnd();
    if (noise < 0.04) {
      const pid = nextPid++;
      [prog, msg] = rnd() < 0.5 ? [`CRON[${pid}]`, 'pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)'] : [`CRON[${pid}]`, 'pam_unix(cron:session): session closed for user root'];
    } else if (noise < 0.045) {
      [prog, msg] = [`systemd[1]`, pick(['Started session-' + int(1, 9999) + '.scope - Session ' + int(1, 9999) + ' of User deploy.', 'Starting ssh.service - OpenBSD Secure Shell server...', 'Started ssh.service - OpenBSD Secure Shell server.'])];
    } else if (noise < 0.046) {
      [prog, msg] = [`sshd[${nextPid++}]`, pick(['Server listening on 0.0.0.0 port 22.', 'Server listening on :: port 22.', 'Received signal 15; terminating.'])];
    } else {
      while (active.length < 6) active.push(connection());
      const k = Math.floor(rnd() * active.length);
      const c = active[k];
      [prog, msg] = c.shift();
      if (c.length === 0) active.splice(k, 1);
    }
    const name = prog.slice(0, prog.indexOf('['));
    programs[name] = (programs[name] ?? 0) + 1;
    buf += `${date} web-1 ${prog}: ${msg}\n`;
    if (buf.length > 1 << 20) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
  return programs;
}

/** The lines per kind of program of a log written by {@link generate} (for --log). */
function programsOf(file) {
  const programs = {};
  for (const m of readFileSync(file, 'utf8').matchAll(/ web-1 ([^[\n]+)\[/g)) programs[m[1]] = (programs[m[1]] ?? 0) + 1;
  return programs;
}

// ---------- the tools ----------

function ensure(cmd, pkg) {
  if (existsSync(cmd)) return;
  process.stdout.write(`installing ${pkg} (apt-get install -y ${pkg})\n`);
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** Runs argv under /usr/bin/time -v; returns the counts it printed, wall seconds, CPU seconds, processing seconds, peak RSS (KiB). */
function measureOnce(label, argv) {
  const r = spawnSync('/usr/bin/time', ['-v', ...argv], { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, TZ: 'UTC' } });
  const lines = /Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed/.exec(r.stdout);
  if (r.status !== 0 || !lines) throw new Error(`${label} failed (exit ${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(r.stderr);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(r.stderr);
  const processed = /\[processed in ([\d.]+) sec\]/.exec(r.stdout);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return {
    label,
    tested: Number(lines[1]),
    ignored: Number(lines[2]),
    matched: Number(lines[3]),
    missed: Number(lines[4]),
    seconds,
    cpu: Number(user[1]) + Number(sys[1]),
    processed: processed ? Number(processed[1]) : seconds,
    rssKiB: Number(rss[1]),
    failregex: /Failregex: (\d+) total/.exec(r.stdout)?.[1],
  };
}

/**
 * {@link measureOnce} RUNS times, after one run that is not counted (a warm-up, as hyperfine's
 * --warmup: the first run after another tool's is slower): the run with the median wall time (all
 * runs' counts must agree).
 */
function measure(label, argv) {
  process.stdout.write(`${label}: ${argv.join(' ')}\n`);
  measureOnce(label, argv);
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(measureOnce(label, argv));
  const key = (r) => `${r.tested}/${r.ignored}/${r.matched}/${r.missed}`;
  if (new Set(runs.map(key)).size !== 1) throw new Error(`${label}: runs disagree: ${runs.map(key).join(', ')}`);
  const out = { ...[...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)], runs: runs.map((r) => r.seconds) };
  process.stdout.write(`  ${out.tested} lines, ${out.ignored} ignored, ${out.matched} matched, ${out.missed} missed; ${runs.map((r) => r.seconds.toFixed(2)).join(' / ')} s, median ${out.seconds.toFixed(2)} s (CPU ${out.cpu.toFixed(2)} s), ${(out.rssKiB / 1024).toFixed(1)} MB\n`);
  return out;
}

const fmt = (n) => Math.round(n).toLocaleString('en');
const mb = (kib) => (kib / 1024).toFixed(1);

/** fail2ban-regex's rows of the last full run (bench/results/regex.md), by mode. */
function previousFail2ban() {
  const md = readFileSync(fileURLToPath(new URL('./results/regex.md', import.meta.url)), 'utf8');
  const rows = {};
  for (const m of md.matchAll(/^\| fail2ban-regex \| (\w+) \| ([\d,]+) \/ ([\d,]+) \/ ([\d,]+) \| ([\d.]+) \| (?:[\d.]+ \| )?[\d,]+ \| [\d,]+ \| ([\d.]+) \|$/gm)) {
    const n = (s) => Number(s.replaceAll(',', ''));
    rows[m[1]] = { matched: n(m[2]), ignored: n(m[3]), missed: n(m[4]), seconds: Number(m[5]), rssKiB: Number(m[6]) * 1024 };
  }
  return rows;
}

/** --fleetban-only: fleetban on fail2ban's filter, counts checked against the last full run. */
function fleetbanOnly(log) {
  const f2b = previousFail2ban();
  for (const mode of ['normal', 'aggressive']) {
    const flt = mode === 'normal' ? 'sshd' : 'sshd[mode=aggressive]';
    const fb = measure(`fleetban regex ${mode}`, [process.execPath, FLEETBAN, 'regex', '-c', '/etc/fail2ban', log, flt]);
    const ref = f2b[mode];
    if (!ref) continue;
    const same = ['matched', 'ignored', 'missed'].every((k) => ref[k] === fb[k]);
    if (!same) throw new Error(`${mode}: counts differ from fail2ban-regex's last run: ${JSON.stringify(ref)} vs ${JSON.stringify(fb)}`);
    process.stdout.write(`  ${mode}: ${(ref.seconds / fb.seconds).toFixed(1)}× fail2ban-regex's last run, ${(fb.rssKiB / ref.rssKiB * 100).toFixed(0)}% of its peak RSS\n`);
  }
}

async function main() {
  if (FLEETBAN_ONLY) {
    if (!existsSync(FLEETBAN)) throw new Error(`${FLEETBAN} missing: run npm run build`);
    ensure('/usr/bin/time', 'time');
    const log = LOG ?? join(mkdtempSync(join(tmpdir(), 'fb-regex-bench-')), 'auth.log');
    if (!existsSync(log)) generate(log, LINES);
    try {
      fleetbanOnly(log);
    } finally {
      if (LOG === undefined) rmSync(join(log, '..'), { recursive: true, force: true });
    }
    return;
  }
  ensure('/usr/bin/fail2ban-regex', 'fail2ban');
  ensure('/usr/bin/time', 'time');
  if (!existsSync(FLEETBAN)) throw new Error(`${FLEETBAN} missing: run npm run build`);
  const version = execFileSync('fail2ban-regex', ['--version'], { encoding: 'utf8' }).trim();
  const dir = LOG === undefined ? mkdtempSync(join(tmpdir(), 'fb-regex-bench-')) : undefined;
  const log = LOG ?? join(dir, 'auth.log');
  const g0 = performance.now();
  const reused = LOG !== undefined && existsSync(LOG);
  const programs = reused ? programsOf(log) : generate(log, LINES);
  process.stdout.write(`${reused ? 'read' : 'generated'} ${fmt(LINES)} lines (${(statSync(log).size / 1048576).toFixed(0)} MB) in ${((performance.now() - g0) / 1000).toFixed(1)} s: ${log}\n`);
  const results = [];
  try {
    for (const mode of ['normal', 'aggressive']) {
      const flt = mode === 'normal' ? 'sshd' : 'sshd[mode=aggressive]';
      const f2b = measure(`fail2ban-regex ${mode}`, ['fail2ban-regex', '-c', '/etc/fail2ban', log, flt]);
      const fb = measure(`fleetban regex ${mode}`, [process.execPath, FLEETBAN, 'regex', '-c', '/etc/fail2ban', log, flt]);
      const one = measure(`fleetban regex ${mode}, one thread`, [process.execPath, FLEETBAN, 'regex', '--threads', '1', '-c', '/etc/fail2ban', log, flt]);
      for (const r of [fb, one]) {
        const same = ['tested', 'matched', 'ignored', 'missed', 'failregex'].every((k) => f2b[k] === r[k]);
        if (!same) throw new Error(`${mode}: the tools disagree: fail2ban-regex ${JSON.stringify(f2b)}, fleetban ${JSON.stringify(r)}`);
      }
      const own = measure(`fleetban regex ${mode}, fleetban's filter`, [process.execPath, FLEETBAN, 'regex', log, flt]);
      results.push({ mode, f2b, fb, one, own });
    }
  } finally {
    if (KEEP || dir === undefined) process.stdout.write(`kept ${log}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }

  const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${version}, ${new Date().toISOString().slice(0, 10)}`;
  const mix = Object.entries(programs).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
  const rows = results.flatMap(({ mode, f2b, fb, one, own }) => {
    const row = (name, r) => `| ${name} | ${mode} | ${fmt(r.matched)} / ${fmt(r.ignored)} / ${fmt(r.missed)} | ${r.seconds.toFixed(2)} | ${r.cpu.toFixed(2)} | ${fmt(r.tested / r.seconds)} | ${fmt(r.tested / r.processed)} | ${mb(r.rssKiB)} |`;
    return [row('fail2ban-regex', f2b), row('fleetban regex (2 threads)', fb), row('fleetban regex --threads 1', one), row("fleetban regex, fleetban's sshd filter", own)];
  });
  const ratios = results.map(({ mode, f2b, fb, one }) => `${mode}: **${(f2b.seconds / fb.seconds).toFixed(1)}×** the lines per second (${(f2b.processed / fb.processed).toFixed(1)}× counting the processing loop only; in one thread ${(f2b.seconds / one.seconds).toFixed(1)}×; per CPU second ${(f2b.cpu / fb.cpu).toFixed(1)}× with two threads, ${(f2b.cpu / one.cpu).toFixed(1)}× with one), ${(fb.rssKiB / f2b.rssKiB * 100).toFixed(0)}% of the peak RSS`);
  const spread = results.map(({ mode, f2b, fb, one }) => `${mode}, seconds of each run: fail2ban-regex ${f2b.runs.map((x) => x.toFixed(2)).join(' / ')}; fleetban regex ${fb.runs.map((x) => x.toFixed(2)).join(' / ')}; --threads 1 ${one.runs.map((x) => x.toFixed(2)).join(' / ')}`);
  const met = results.every(({ f2b, fb }) => f2b.seconds / fb.seconds >= 20 && fb.rssKiB < f2b.rssKiB);
  const goal = met ? 'met' : `not met (${results.map(({ mode, f2b, fb }) => `${mode} ${(f2b.seconds / fb.seconds).toFixed(1)}×`).join(', ')})`;
  const md = `## Regex: fleetban regex vs fail2ban-regex, ${fmt(LINES)}-line auth.log

\`bench/regex.bench.mjs\` generates a seeded ${fmt(LINES)}-line auth.log (${mix}): sshd
password guessing for root and invalid users, scanners, key-exchange junk, publickey logins with
their PAM and systemd-logind lines, CRON and sudo; IPv4 and IPv6 from the documentation ranges;
the first half with classic syslog dates, the second with Debian 12 rsyslog's ISO 8601 dates.
Both tools read the same file with fail2ban's own \`filter.d/sshd.conf\` (\`-c /etc/fail2ban\`),
TZ=UTC, default options (every failregex tried on every line), each once to warm up and then
${RUNS} times under \`/usr/bin/time -v\` (the run with the median wall time is shown); their matched / ignored / missed
line counts must be equal (the bench fails otherwise). fleetban runs as by default, which for a log
this big is two threads (one reads the log, finds the dates and searches the prefregex, the other
runs the failregexes), and with \`--threads 1\`. Lines/s counts the whole command (start-up
included); "loop" uses the time each tool prints for its processing loop; CPU is user + system
seconds (fail2ban-regex uses one core). Machine: ${machine}.

| tool | sshd mode | matched / ignored / missed | seconds | CPU s | lines/s | lines/s (loop) | peak RSS MB |
|---|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

${ratios.map((r) => `- ${r}`).join('\n')}
${spread.map((r) => `- ${r}`).join('\n')}
- goal of issue 3 (at least 20× fail2ban-regex's rate, less memory): ${goal}
`;
  writeFileSync(fileURLToPath(new URL('./results/regex.md', import.meta.url)), md);
  process.stdout.write(md);
}

main().catch((err) => {
  process.stderr.write(`regex bench FAILED: ${err.stack ?? err}\n`);
  process.exit(1);
});
