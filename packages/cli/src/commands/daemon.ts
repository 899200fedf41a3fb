import { createLogger, loadConfig, type Logger } from '@fleetban/shared';
import { runAgent } from '@fleetban/agent';
import { runController } from '@fleetban/controller';
import type { Args } from '../args.js';
import { configPath } from '../config-path.js';

/**
 * `fleetban agent` / `fleetban controller`: runs one role in the foreground until SIGINT/SIGTERM,
 * then stops it cleanly. Exit code 0 after a clean stop, 1 when a controller lost its lease. A
 * controller that is a standby waits for the lease until it gets it or is told to stop.
 */
export async function runDaemon(role: 'agent' | 'controller', args: Args): Promise<number> {
  const config = loadConfig(configPath(args));
  const logger: Logger = createLogger({ component: role });
  // the signal handlers come first: a SIGTERM while the role starts (loading its modules, opening
  // its sources) stops it as soon as it has started, instead of killing it unlogged
  let signalled = false;
  let wake = (): void => undefined;
  const aborted = new AbortController();
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping');
    signalled = true;
    aborted.abort();
    wake();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const running: { stop(): Promise<void>; ended?: Promise<string> } =
    role === 'agent' ? await runAgent(config, { logger }) : await runController(config, { logger, signal: aborted.signal });
  // a controller also ends on its own when it loses its lease: exit 1, so a supervisor restarts it as a standby
  const ended = running.ended ?? new Promise<string>(() => undefined);
  let lost = false;
  if (!signalled) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), ended.then(() => void (lost = true))]);
  await running.stop();
  return lost ? 1 : 0;
}
