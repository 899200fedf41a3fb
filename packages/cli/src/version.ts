import { readFileSync } from 'node:fs';

/**
 * The command line's version: the `version` of its package.json (read once, next to `dist/`), the
 * same number the agent sends in its heartbeats (AGENT_VERSION) while the packages are released
 * together.
 */
export const CLI_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
