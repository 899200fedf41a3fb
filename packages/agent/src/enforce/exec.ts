/**
 * The one module of the agent that runs external commands (nft, iptables, ...). Commands are an
 * argument array handed to node's `child_process.spawn` (no shell, ever); a failure becomes an
 * {@link ExecError} that keeps the command line, the command's stderr and the cause.
 *
 * Not execa: the agent needs an argument array, stdin, a timeout, `LC_ALL=C` and stderr in the
 * error, about forty lines here; execa brings ~120 modules and ~6 MB of resident memory to a
 * daemon whose goal is 64 MB idle (docs/benchmarks.md, agent memory).
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { ExecError } from '@fleetban/shared';

/**
 * Starts a long-lived child (`file args`, argument array) with stdin and stderr piped and stdout
 * ignored, e.g. an `nft -i` session. The caller owns it and must end it.
 */
export type Spawn = (file: string, args: string[]) => ChildProcess;

/**
 * Runs `file` with `args` (and optional text on stdin), resolves with its stdout, rejects with
 * {@link ExecError}. Enforcers take one as a parameter, so tests can run them inside a network
 * namespace (prefix `ip netns exec NS`) or replace them entirely. `spawn`, when present, starts
 * long-lived children the same way (same namespace, same binary); without it an enforcer runs a
 * process per operation.
 */
export interface Runner {
  (file: string, args: string[], input?: string): Promise<{ stdout: string }>;
  readonly spawn?: Spawn;
  /**
   * Runs a command like the runner itself, its input taken from `chunks` one at a time as the
   * command reads them (the next chunk is made only when the pipe has room). When taking a
   * chunk throws, the command is killed, never left to act on part of its input. Absent: the
   * caller joins the chunks and calls the runner.
   */
  readonly stream?: (file: string, args: string[], chunks: Iterable<string>) => Promise<{ stdout: string }>;
}

/** Options of {@link createRunner}. */
export interface RunnerOptions {
  /** A command that runs longer is killed and fails; default 30000 ms. */
  timeoutMs?: number;
}

/** Default time limit of one command (ms). */
export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

/** How long a command that outlived its timeout has after SIGTERM before SIGKILL (ms). */
const KILL_AFTER_MS = 1000;

/** The production runner: an argument array, `LC_ALL=C`, bounded by a timeout. */
export function createRunner(opts: RunnerOptions = {}): Runner {
  const timeout = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const run = (file: string, args: string[], input: string | Iterable<string> = ''): Promise<{ stdout: string }> =>
    new Promise((resolve, reject) => {
      const command = [file, ...args].join(' ');
      const child = spawnChild(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      let killer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        killer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      }, timeout);
      let settled = false;
      const settle = (f: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(killer);
        f();
      };
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.once('error', (e) => settle(() => reject(toExecError(file, args, e))));
      child.once('close', (code, signal) => settle(() => {
        if (code === 0 && !timedOut) return resolve({ stdout: Buffer.concat(out).toString('utf8') });
        const stderr = Buffer.concat(err).toString('utf8');
        const why = timedOut ? `timed out after ${timeout} ms` : signal ? `killed by ${signal}` : `exited with code ${String(code)}`;
        reject(new ExecError(command, stderr.trim() !== '' ? stderr : why, { cause: { code, signal, timedOut } }));
      }));
      child.stdin.on('error', () => undefined); // EPIPE: the command exited without reading its input
      if (typeof input === 'string') child.stdin.end(input);
      else feed(child, input);
    });
  return Object.assign((file: string, args: string[], input?: string) => run(file, args, input), { spawn, stream: run });
}

/** Writes `chunks` to the child's stdin as it drains, then ends it; kills the child when a chunk cannot be made. */
function feed(child: ChildProcess, chunks: Iterable<string>): void {
  const stdin = child.stdin!;
  const it = chunks[Symbol.iterator]();
  const pump = (): void => {
    try {
      for (;;) {
        if (stdin.destroyed) return; // the command is gone: its exit settles the run
        const next = it.next();
        if (next.done) {
          stdin.end();
          return;
        }
        if (!stdin.write(next.value)) {
          stdin.once('drain', pump);
          return;
        }
      }
    } catch {
      child.kill('SIGKILL'); // never let the command act on part of its input
    }
  };
  pump();
}

/** The production {@link Spawn}: argument array, `LC_ALL=C`, stdout ignored. */
export const spawn: Spawn = (file, args) =>
  spawnChild(file, args, { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });

/** The runner the agent uses: {@link createRunner} with its defaults. */
export const runner: Runner = createRunner();

/** Wraps a failure to start `file args` (not found, not executable) into an {@link ExecError}. */
export function toExecError(file: string, args: readonly string[], err: unknown): ExecError {
  const command = [file, ...args].join(' ');
  return new ExecError(command, err instanceof Error ? err.message : String(err), { cause: err });
}
