import type { Args } from '../args.js';
import { CLI_VERSION } from '../version.js';

/** `fleetban version [--json]` (also `--version`): `fleetban 0.1.0`, or `{"version":"0.1.0"}`. */
export function runVersion(args: Args): number {
  process.stdout.write(args.options.has('json') ? `${JSON.stringify({ version: CLI_VERSION })}\n` : `fleetban ${CLI_VERSION}\n`);
  return 0;
}
