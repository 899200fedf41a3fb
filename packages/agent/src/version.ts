/** The agent's version, sent in its heartbeats. */
export const AGENT_VERSION = '0.1.0';
