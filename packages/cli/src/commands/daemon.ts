import { createLogger, loadConfig, type Logger } from '@fleetban/shared';
import { runAgent } from '@fleetban/agent';
import { runController } from '@fleetban/controller';
import type { Args } from '../args.js';
import { configPath } from '../config-path.js';

/**
 * `fleetban agent` / `fleetban controller`: runs one role in the foreground until SIGINT/SIGTERM,
 * then stops it cleanly. Exit code 0 after a clean stop.
 */
export async function runDaemon(role: 'agent' | 'controller', args: Args): Promise<number> {
  const config = loadConfig(configPath(args));
  const logger: Logger = createLogger({ component: role });
  // the signal handlers come first: a SIGTERM while the role starts (loading its modules, opening
  // its sources) stops it as soon as it has started, instead of killing it unlogged
  let signalled = false;
  let wake = (): void => undefined;
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping');
    signalled = true;
    wake();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const running = role === 'agent' ? await runAgent(config, { logger }) : await runController(config, { logger });
  if (!signalled) await new Promise<void>((resolve) => (wake = resolve));
  await running.stop();
  return 0;
}
