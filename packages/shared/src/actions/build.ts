import type { JailConfig } from '../config/types.js';
import type { Logger } from '../log/logger.js';
import type { ActionRunner, ActionSite } from './types.js';

/** What {@link buildActions} needs besides the jail. */
export interface ActionContext {
  /** Directories searched for action.d files (`<name>.conf` and its `.local`), in order. */
  readonly actionPath: readonly string[];
  readonly logger: Logger;
}

/**
 * The runners of `jail`'s actions that run at `site`. Throws a ConfigError naming the file, the
 * key and what was expected when an action cannot be found or its options are malformed.
 */
export function buildActions(jail: JailConfig, site: ActionSite, ctx: ActionContext): ActionRunner[] {
  void jail;
  void site;
  void ctx;
  return [];
}
