/** @fleetban/agent: what runs on every host. */
import type { FleetbanConfig } from '@fleetban/shared';
import type { Agent, AgentDeps } from './main.js';

// The agent itself (`fleetban agent` runs it)
export type { Agent, AgentDeps } from './main.js';
export { AGENT_VERSION } from './version.js';

/**
 * Starts this host's agent (main.ts). The agent's modules (sources, reporter, enforcers) load
 * when it starts, not with this door: `fleetban regex` uses the door's filter engine without them.
 */
export async function runAgent(config: FleetbanConfig, deps: AgentDeps): Promise<Agent> {
  return (await import('./main.js')).runAgent(config, deps);
}

// The filter engine (fail2ban's filters and failregexes), also used by `fleetban regex`
export { FilterEngine } from './filter/filter-engine.js';
export type { EngineFailure, EngineOptions, FilterSpec, LineFront, MissTable } from './filter/filter-engine.js';
export type { TupleLine } from './filter/fail-regex.js';
export { filterSearchPath, loadFilter, PROJECT_FILTER_DIR } from './filter/filter-file.js';
export type { LoadedFilter } from './filter/filter-file.js';
export { createJailFilter, engineError } from './filter/jail-filter.js';
export type { JailFilter } from './filter/jail-filter.js';
export { FilterError } from './filter/filter-error.js';
export { systemTimeZone } from './filter/date/time-zone.js';
export type { TimeZone } from './filter/date/time-zone.js';
