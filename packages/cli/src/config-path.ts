import { type Args, option } from './args.js';

/** Default configuration file. */
export const DEFAULT_CONFIG = '/etc/fleetban/fleetban.conf';

/** `-c FILE`, else `$FLEETBAN_CONFIG`, else {@link DEFAULT_CONFIG}. */
export function configPath(args: Args): string {
  return option(args, 'c', 'config') ?? process.env.FLEETBAN_CONFIG ?? DEFAULT_CONFIG;
}
