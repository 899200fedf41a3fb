/** @fleetban/agent: what runs on every host. */
export { runAgent, AGENT_VERSION, type Agent, type AgentDeps } from './main.js';
export { FilterEngine, type EngineFailure, type EngineOptions, type FilterSpec, type LineFront, type MissTable } from './filter/filter-engine.js';
export { filterSearchPath, loadFilter, locateFilter, PROJECT_FILTER_DIR, type LoadedFilter } from './filter/filter-file.js';
export { engineError } from './filter/jail-filter.js';
export { FilterError } from './filter/filter-error.js';
export { systemTimeZone, type TimeZone } from './filter/date/time-zone.js';
export type { TupleLine } from './filter/fail-regex.js';
