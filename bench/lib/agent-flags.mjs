// The V8 flags `fleetban agent` runs with: deploy/agent-node-flags, which the .deb's launcher
// (/usr/bin/fleetban) puts on node's command line for `fleetban agent`. Benches start the agent
// with them, as production does.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The flags (comment lines skipped), as an argv array; [] when the file is absent. */
export function agentNodeFlags() {
  try {
    return readFileSync(fileURLToPath(new URL('../../deploy/agent-node-flags', import.meta.url)), 'utf8')
      .split('\n').filter((l) => !l.startsWith('#')).join(' ').split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** `--node-flags "..."` on the bench's command line replaces them ("" = none), for comparisons. */
export function agentNodeFlagsFromArgv(argv = process.argv) {
  const at = argv.indexOf('--node-flags');
  return at > 0 ? (argv[at + 1] ?? '').split(/\s+/).filter(Boolean) : agentNodeFlags();
}
