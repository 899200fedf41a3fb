/**
 * Running one action command: an argument list (never a shell string; an action.d command is run
 * as `/bin/sh -c <command>`, as fail2ban runs it), in its own process group, with a timeout after
 * which the whole group is killed (fail2ban kills the process tree too). Failures become
 * {@link ActionError}s here.
 */

import { spawn } from 'node:child_process';
import { ActionError } from './types.js';

/** How a command ended. */
export interface ProcessResult {
  /** Exit code; null when it was killed. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const KEEP_OUTPUT = 16_384;
const KILL_GRACE_MS = 2_000;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

/**
 * Runs `argv` with stdin closed, keeping the first 16 KiB of stdout and stderr. Rejects with the
 * spawn error (ENOENT, EACCES) when the program cannot be started.
 */
export function runProcess(argv: readonly string[], timeoutMs: number): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < KEEP_OUTPUT) stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < KEEP_OUTPUT) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      killer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      clearTimeout(killer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(killer);
      resolvePromise({ code, stdout, stderr, timedOut });
    });
  });
}

/**
 * Runs `argv` and resolves when it exits 0. Rejects with an {@link ActionError} naming `label`:
 * retryable for a non-zero exit or a timeout, not retryable when the program does not exist
 * (a spawn ENOENT/EACCES, or a shell's exit code 127/126).
 */
export async function runCommand(label: string, argv: readonly string[], timeoutMs: number): Promise<ProcessResult> {
  let r: ProcessResult;
  try {
    r = await runProcess(argv, timeoutMs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ActionError(`${label}: cannot run ${argv[0] ?? ''}: ${code}`, false, { cause: err });
  }
  if (r.timedOut) throw new ActionError(`${label}: timed out after ${timeoutMs} ms`, true);
  if (r.code !== 0) {
    const first = (r.stderr.trim() || r.stdout.trim()).split('\n')[0] ?? '';
    const missing = r.code === 127 || r.code === 126;
    throw new ActionError(`${label}: exited with code ${r.code ?? 'none'}${first ? `: ${first}` : ''}`, !missing);
  }
  return r;
}
