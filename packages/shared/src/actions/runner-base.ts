/** What every runner is made with, and the runner of a kind that only delivers events. */

import type { Logger } from '../log/logger.js';
import type { ActionRunner, ActionSite, BanEvent } from './types.js';

/** Who a runner is: its name within the jail and site, and its logger. */
export interface RunnerIdentity {
  readonly name: string;
  readonly jail: string;
  readonly site: ActionSite;
  readonly logger: Logger;
}

/** A runner with nothing to start or stop, delivering each event with `deliver`. */
export function deliveryRunner(id: RunnerIdentity, deliver: (e: BanEvent) => Promise<void>): ActionRunner {
  return {
    name: id.name,
    jail: id.jail,
    site: id.site,
    start: async () => {},
    stop: async () => {},
    run: async (e) => {
      await deliver(e);
      id.logger.debug({ event: e.id }, 'action delivered');
    },
  };
}
