/** fleetban: the command line. */
export { parseArgs, type Args } from './args.js';
