/** fleetban: the command line. */
export { parseArgs } from './args.js';
export type { Args } from './args.js';
