import { createLogger, type FleetbanConfig, loadConfig, type Logger } from '@fleetban/shared';
import type { Controller } from '@fleetban/controller';
import type { Args } from '../args.js';
import { configPath } from '../config-path.js';

/** How long a standby waits before trying again to start after a failed start, in ms. */
const RETRY_MS = 1_000;

/** Bytes of log lines the agent holds for a log reader (journald) that takes nothing, before dropping lines. */
const AGENT_LOG_BACKLOG = 4 * 1024 * 1024;

/**
 * `fleetban agent` / `fleetban controller`: runs one role in the foreground until SIGINT/SIGTERM,
 * then stops it cleanly. Exit code 0 after a clean stop. SIGHUP makes the controller read its
 * configuration file again, as `fleetban reload` does (it logs what changed, or why the file was
 * refused and the running configuration kept). A controller that is a standby waits for
 * the lease until it gets it or is told to stop; one that loses the lease stops and waits again.
 */
export async function runDaemon(role: 'agent' | 'controller', args: Args): Promise<number> {
  const config = loadConfig(configPath(args));
  // the agent logs every failure it reads: reading waits while 512 KiB of log lines are unwritten
  // (report/log-gate.ts), unless the reader takes nothing for 2 s; only then does the backlog
  // (memory) reach 4 MiB (about 13,000 lines), and lines beyond are dropped and counted
  const logger: Logger = createLogger({ component: role, ...(role === 'agent' ? { maxBacklogBytes: AGENT_LOG_BACKLOG } : {}) });
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
  // each role's package is loaded only by that role: an agent does not carry the controller's
  // modules (its web view, actions, store), nor a controller the agent's
  if (role === 'agent') {
    const { runAgent } = await import('@fleetban/agent');
    const agent = await runAgent(config, { logger });
    if (!signalled) await new Promise<void>((resolve) => (wake = resolve));
    await agent.stop();
    return 0;
  }
  let running: Controller | undefined;
  process.on('SIGHUP', () => {
    if (!running) {
      logger.info({ signal: 'SIGHUP' }, 'not the active controller: nothing to reload (the file is read again when this controller takes the lease)');
      return;
    }
    logger.info({ signal: 'SIGHUP' }, 'reloading the configuration');
    try {
      running.reload('SIGHUP');
    } catch {
      // logged by the controller, which keeps its running configuration
    }
  });
  const { runController, TakeoverStartError } = await import('@fleetban/controller');
  let current = config;
  // a controller that loses its lease (another took it, or NATS was away longer than lease_ttl)
  // stops and waits for the lease again, as a standby, until it is told to stop
  // whether this process ran as the active controller or took the lease over from another: from
  // then on a start that fails is tried again. The lease a failed start released is free for the
  // next try, which then takes it without a takeover: that try must not count as a first start.
  let retrying = false;
  while (!signalled) {
    let controller: Controller;
    try {
      controller = await runController(current, { logger, signal: aborted.signal });
    } catch (err) {
      // the first start fails loudly (a configuration or permission error); a controller that
      // took the lease over from another (a standby, its first start included) or that ran
      // before has undone its start and tries again: NATS may be electing new leaders after the
      // loss of a node, and exiting would leave the fleet with no controller
      if (err instanceof TakeoverStartError) retrying = true;
      if (!retrying || signalled) throw err;
      logger.error({ err }, 'cannot start as the active controller: standing by, trying again in 1 s');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RETRY_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      continue;
    }
    retrying = true;
    running = controller;
    let lost = false;
    if (!signalled) await Promise.race([new Promise<void>((resolve) => (wake = resolve)), controller.ended.then(() => void (lost = true))]);
    running = undefined;
    await controller.stop();
    if (lost && !signalled) {
      logger.warn('standing by: waiting for the lease again');
      current = reread(configPath(args), current, logger);
    }
  }
  return 0;
}

/**
 * The configuration file read again for a controller that lost its lease and waits for it anew (it
 * starts from the file, as a restart would: what a reload or SIGHUP applied is kept); the one it
 * ran with when the file no longer loads (logged).
 */
function reread(file: string, running: FleetbanConfig, logger: Logger): FleetbanConfig {
  try {
    return loadConfig(file);
  } catch (err) {
    logger.error({ err, file }, 'configuration file does not load: standing by with the one running before');
    return running;
  }
}
