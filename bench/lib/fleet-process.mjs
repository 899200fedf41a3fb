// A `fleetban` process (agent or controller) or any command started by a bench inside a network
// namespace, with its stdout read line by line (`onLine`), JSON log entries handed to `onEntry`,
// waits on log messages, and the kernel's account of it (/proc: RSS, peak RSS, CPU ticks).
// Modelled on test/fixtures/fleetban-process.ts, without tap.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built command line entry point. */
export const FLEETBAN_MAIN = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));

export class NsProcess {
  /** Last lines of output (for an error message). */
  tail = [];
  #waiters = [];

  /**
   * Starts `argv` inside namespace `ns` (`ip netns exec` replaces itself with the command: the pid
   * is the command's). `onLine(line)` sees every stdout line (returning false drops it); `json`
   * parses the others into `onEntry`; `onErr(chunk)` sees stderr.
   */
  constructor(name, ns, argv, { env = {}, json = false, onEntry = () => {}, onLine = () => {}, onErr = () => {} } = {}) {
    this.name = name;
    this.proc = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.pid = this.proc.pid;
    this.exited = new Promise((r) => this.proc.once('exit', (code, signal) => r(code ?? signal)));
    let buf = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (onLine(line) === false) continue;
        this.#keep(line);
        if (!json) continue;
        let e;
        try {
          e = JSON.parse(line);
        } catch {
          continue;
        }
        onEntry(e);
        if (this.#waiters.length) this.#waiters = this.#waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
      }
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => {
      this.#keep(d);
      onErr(d);
    });
  }

  #keep(line) {
    this.tail.push(line);
    if (this.tail.length > 20) this.tail.shift();
  }

  /** Resolves with the next JSON entry matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last output:\n${this.tail.join('\n')}`)), timeoutMs);
      this.#waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}) before ${what}; last output:\n${this.tail.join('\n')}`));
      });
    });
  }

  /** Resolves on the next entry whose msg is `msg`. */
  waitForMsg(msg, timeoutMs = 30_000) {
    return this.waitFor((e) => e.msg === msg, timeoutMs, `"${msg}"`);
  }

  get running() {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** VmRSS and VmHWM (peak) in MB, from /proc. */
  memory() {
    const s = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  }

  /** utime + stime in clock ticks, from /proc/<pid>/stat (fields 14 and 15). */
  cpuTicks() {
    const s = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  }

  /** `signal`, then SIGKILL after `graceMs` if still running; resolves once it has exited. */
  async stop(signal = 'SIGTERM', graceMs = 5_000) {
    if (!this.running) return this.exited;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.running && this.proc.kill('SIGKILL'), graceMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}

/** Starts `argv` and resolves once its stderr (or stdout) shows `ready`; the process is returned. */
export function startUntil(cmd, args, ready, env = process.env) {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} not ready: ${out.slice(-2000)}`)), 600_000);
    const on = (d) => {
      out += d.toString();
      if (out.length > 1e6) out = out.slice(-100_000);
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve(proc);
      }
    };
    proc.stdout.on('data', on);
    proc.stderr.on('data', on);
    proc.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}: ${out.slice(-2000)}`)));
  });
}
