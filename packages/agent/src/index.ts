/** @fleetban/agent: what runs on every host. */
import type { FleetbanConfig } from '@fleetban/shared';
import type { Agent, AgentDeps } from './main.js';

export type { Agent, AgentDeps } from './main.js';
export { AGENT_VERSION } from './version.js';

/**
 * Starts this host's agent (main.ts). The agent's modules (sources, reporter, enforcers) load
 * when it starts, not with this door: `fleetban regex` uses the door's filter engine without them.
 */
export async function runAgent(config: FleetbanConfig, deps: AgentDeps): Promise<Agent> {
  return (await import('./main.js')).runAgent(config, deps);
}
export { FilterEngine, type EngineFailure, type EngineOptions, type FilterSpec, type LineFront, type MissTable } from './filter/filter-engine.js';
export { filterSearchPath, loadFilter, locateFilter, PROJECT_FILTER_DIR, type LoadedFilter } from './filter/filter-file.js';
export { createJailFilter, engineError, type JailFilter } from './filter/jail-filter.js';
export { FilterError } from './filter/filter-error.js';
export { systemTimeZone, type TimeZone } from './filter/date/time-zone.js';
export type { TupleLine } from './filter/fail-regex.js';
