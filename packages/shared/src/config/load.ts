import type { FleetbanConfig } from './types.js';

/** Options of {@link loadConfig}. */
export interface LoadOptions {
  /** Hostname used when the file sets no `host`; default os.hostname(). */
  readonly hostname?: string;
}

/** Reads, validates and returns a configuration file; throws ConfigError. (stub: being written) */
export function loadConfig(_file: string, _opts: LoadOptions = {}): FleetbanConfig {
  throw new Error('not yet');
}

/** Validates configuration text as if read from `file`; throws ConfigError. (stub: being written) */
export function parseConfig(_text: string, _file: string, _opts: LoadOptions = {}): FleetbanConfig {
  throw new Error('not yet');
}
