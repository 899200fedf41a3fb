import { readFileSync } from 'node:fs';

/** What {@link reloadNatsServer} did. */
export type ReloadResult =
  | { readonly reloaded: true; readonly pid: number }
  | { readonly reloaded: false; readonly reason: string };

/**
 * Asks the nats-server whose pid is in `pidFile` to reload its configuration (SIGHUP), so a
 * re-rendered authorization file takes effect without a restart. Nothing is signalled when the
 * file is missing, the process is gone, or (where /proc tells) the pid is not a nats-server's: a
 * stale pid file must not make fleetban signal an unrelated process.
 */
export function reloadNatsServer(pidFile: string): ReloadResult {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return { reloaded: false, reason: `no pid file ${pidFile}` };
  }
  if (!Number.isSafeInteger(pid) || pid <= 1) return { reloaded: false, reason: `${pidFile} holds no process id` };
  let comm: string | undefined;
  try {
    comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { reloaded: false, reason: `nats-server (pid ${pid} in ${pidFile}) is not running` };
  }
  if (comm !== undefined && comm !== 'nats-server') return { reloaded: false, reason: `pid ${pid} in ${pidFile} is ${comm}, not a nats-server: not signalled` };
  try {
    process.kill(pid, 'SIGHUP');
  } catch (err) {
    return { reloaded: false, reason: `cannot signal nats-server (pid ${pid}): ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  return { reloaded: true, pid };
}
