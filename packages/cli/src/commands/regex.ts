import type { Args } from '../args.js';
import { UsageError } from '../args.js';

/** `fleetban regex <LOG|line> <FILTER|failregex> [IGNOREREGEX]`: fail2ban-regex's job (being built). */
export async function runRegex(_args: Args): Promise<number> {
  throw new UsageError('fleetban regex is not available yet');
}
