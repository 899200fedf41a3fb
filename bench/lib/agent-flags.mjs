// The V8 flags `fleetban agent` runs with: deploy/agent-node-flags, which the .deb's launcher
// (/usr/bin/fleetban) puts on node's command line for `fleetban agent`. Benches start the agent
// with them, as production does.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The flags of deploy/`file` (comment lines skipped), as an argv array; [] when the file is absent. */
function flagsOf(file) {
  try {
    return readFileSync(fileURLToPath(new URL(`../../deploy/${file}`, import.meta.url)), 'utf8')
      .split('\n').filter((l) => !l.startsWith('#')).join(' ').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** The agent's flags (deploy/agent-node-flags). */
export function agentNodeFlags() {
  return flagsOf('agent-node-flags');
}

/** The controller's flags (deploy/controller-node-flags), which the launcher gives `fleetban controller`. */
export function controllerNodeFlags() {
  return flagsOf('controller-node-flags');
}

/**
 * The controller's environment as its launcher makes it: GLIBC_TUNABLES of
 * deploy/controller-glibc-tunables (its lines joined by ':'), before any of `env`'s own;
 * `--glibc-tunables "..."` on the bench's command line replaces them ("" = none), for comparisons.
 */
export function controllerEnv(env = process.env, argv = process.argv) {
  const at = argv.indexOf('--glibc-tunables');
  const ours = at > 0 ? (argv[at + 1] ?? '') : readFileSync(fileURLToPath(new URL('../../deploy/controller-glibc-tunables', import.meta.url)), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#')).join(':');
  const tunables = [ours, env.GLIBC_TUNABLES].filter(Boolean).join(':');
  return tunables ? { ...env, GLIBC_TUNABLES: tunables } : env;
}

/** `--node-flags "..."` on the bench's command line replaces them ("" = none), for comparisons. */
export function agentNodeFlagsFromArgv(argv = process.argv) {
  const at = argv.indexOf('--node-flags');
  return at > 0 ? (argv[at + 1] ?? '').split(/\s+/).filter(Boolean) : agentNodeFlags();
}
