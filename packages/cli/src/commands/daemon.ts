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
  const running = role === 'agent' ? await runAgent(config, { logger }) : await runController(config, { logger });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await running.stop();
  return 0;
}
