/** @fleetban/agent: what runs on every host. */
export { runAgent, AGENT_VERSION, type Agent, type AgentDeps } from './main.js';
