import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, loadConfig } from '@fleetban/shared';
import type { Args } from '../args.js';
import { configPath } from '../config-path.js';
import { ensureLocalMembers, localServerConfig, usesMembers } from '../local-server.js';

/** The nats-server binary `up` runs: `$FLEETBAN_NATS_SERVER`, else `nats-server` on PATH. */
const NATS_SERVER = process.env.FLEETBAN_NATS_SERVER ?? 'nats-server';
const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

/**
 * `fleetban up`: the whole fleet on one host, in the foreground. Starts a local nats-server with
 * JetStream (data under `<state_dir>/nats`), listening where the config's first NATS URL points,
 * then the controller, then the agent. Unless the config names a user, a token or a creds file,
 * the server admits only the fleet's nkey members, this host's own created on the first run
 * (`<state_dir>/credentials/`); the controller, the agent and the admin verbs find their seeds
 * there. Ctrl-C (or SIGTERM) stops them in the reverse order; SIGHUP is passed to the controller,
 * which reads the configuration again.
 */
export async function runUp(args: Args): Promise<number> {
  const file = configPath(args);
  const config = loadConfig(file);
  const log = createLogger({ component: 'up' });
  const url = new URL(config.fleet.servers[0] ?? 'nats://127.0.0.1:4222');
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(url.port || 4222);
  const natsDir = join(config.fleet.stateDir, 'nats');
  mkdirSync(natsDir, { recursive: true });
  if (usesMembers(config.fleet)) ensureLocalMembers(config.fleet, log);
  const natsConf = join(natsDir, 'nats-server.conf');
  writeFileSync(natsConf, localServerConfig(config.fleet, { host, port, dir: natsDir }));

  const children: { name: string; proc: ChildProcess }[] = [];
  let stopping = false;
  const exited = new Promise<string>((resolve) => {
    const start = (name: string, cmd: string, argv: string[]) => {
      const proc = spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
      proc.on('error', (err) => {
        log.error({ err, name }, `cannot start ${name}`);
        resolve(name);
      });
      proc.on('exit', (code, signal) => {
        if (!stopping) log.error({ name, code, signal }, `${name} exited`);
        resolve(name);
      });
      children.push({ name, proc });
    };
    void (async () => {
      start('nats-server', NATS_SERVER, ['-c', natsConf]);
      if (!(await waitForPort(host, port, 10_000))) {
        log.error({ host, port }, 'nats-server did not open its port');
        return resolve('nats-server');
      }
      start('controller', process.execPath, [MAIN, 'controller', '-c', file]);
      start('agent', process.execPath, [MAIN, 'agent', '-c', file]);
      log.info({ nats: `${host}:${port}`, state: config.fleet.stateDir, config: file }, 'fleetban is up; Ctrl-C stops it');
    })();
    // SIGHUP: the controller reads the configuration again (fleetban reload)
    process.on('SIGHUP', () => children.find((c) => c.name === 'controller')?.proc.kill('SIGHUP'));
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });

  const why = await exited;
  stopping = true;
  log.info({ why }, 'stopping');
  for (const c of [...children].reverse()) await stopChild(c.proc);
  const failed = why !== 'SIGINT' && why !== 'SIGTERM';
  log.info('stopped');
  return failed ? 1 : 0;
}

async function stopChild(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null || p.pid === undefined) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

async function waitForPort(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = tcpConnect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}


