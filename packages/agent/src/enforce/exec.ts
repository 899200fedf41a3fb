/**
 * The one module of the agent that runs external commands (nft, iptables, ...). Commands are an
 * argument array handed to execa, never a shell string; a failure becomes an {@link ExecError}
 * that keeps the command line, nft's stderr and the execa error as `cause`.
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { ExecError } from '@fleetban/shared';

/**
 * execa, imported at the first command rather than with this module: it costs ~90 ms of start-up,
 * and most importers of the agent's door (`fleetban regex`, `fleetban status`) never run a command.
 * Kept once loaded, so {@link toExecError} can recognise its errors.
 */
let execaModule: typeof import('execa') | undefined;

async function loadExeca(): Promise<typeof import('execa')> {
  return (execaModule ??= await import('execa'));
}

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
}

/** Options of {@link createRunner}. */
export interface RunnerOptions {
  /** A command that runs longer is killed and fails; default 30000 ms. */
  timeoutMs?: number;
}

/** Default time limit of one command (ms). */
export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

/** The production runner: execa with an argument array, `LC_ALL=C`, bounded by a timeout. */
export function createRunner(opts: RunnerOptions = {}): Runner {
  const timeout = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  const run = async (file: string, args: string[], input?: string): Promise<{ stdout: string }> => {
    try {
      const { execa } = await loadExeca();
      const result = await execa(file, args, {
        input: input ?? '',
        timeout,
        forceKillAfterDelay: 1000,
        env: { LC_ALL: 'C' },
        stripFinalNewline: false,
      });
      return { stdout: result.stdout };
    } catch (err) {
      throw toExecError(file, args, err);
    }
  };
  return Object.assign(run, { spawn });
}

/** The production {@link Spawn}: argument array, `LC_ALL=C`, stdout ignored. */
export const spawn: Spawn = (file, args) =>
  spawnChild(file, args, { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });

/** The runner the agent uses: {@link createRunner} with its defaults. */
export const runner: Runner = createRunner();

/** Wraps any failure of `file args` into an {@link ExecError} (stderr, or execa's short message). */
export function toExecError(file: string, args: readonly string[], err: unknown): ExecError {
  const command = [file, ...args].join(' ');
  // no ExecaError can exist before execa is loaded
  if (execaModule && err instanceof execaModule.ExecaError) {
    const stderr = String(err.stderr ?? '');
    return new ExecError(command, stderr.trim() !== '' ? stderr : err.shortMessage, { cause: err });
  }
  return new ExecError(command, err instanceof Error ? err.message : String(err), { cause: err });
}
