/** The `[controller]` section: how the controller decides and keeps state. */

import type { IniEntry } from '../f2bconf/ini-file.js';
import { checkKnownKeys } from './known-keys.js';
import type { ControllerConfig } from './types.js';
import { entryMap, readDuration, readNetworks, readOr, readPositiveInt } from './value.js';

/** Keys of the `[controller]` section. */
export const CONTROLLER_KEYS: readonly string[] = ['ignoreip', 'expire_interval', 'events_max_age', 'max_tracked'];

/** Defaults of the `[controller]` section. */
export const CONTROLLER_DEFAULTS: ControllerConfig = {
  ignoreip: [],
  expireMs: 1_000,
  eventsMaxAgeMs: 86_400_000,
  maxTracked: 100_000,
};

/** Reads the `[controller]` section's entries (none when the section is absent). Throws ConfigError. */
export function readController(entries: readonly IniEntry[]): ControllerConfig {
  checkKnownKeys(entries, CONTROLLER_KEYS);
  const map = entryMap(entries);
  const d = CONTROLLER_DEFAULTS;
  return {
    ignoreip: readOr(map, 'ignoreip', readNetworks, d.ignoreip),
    expireMs: readOr(map, 'expire_interval', readDuration('positive'), d.expireMs),
    eventsMaxAgeMs: readOr(map, 'events_max_age', readDuration('positive'), d.eventsMaxAgeMs),
    maxTracked: readOr(map, 'max_tracked', readPositiveInt, d.maxTracked),
  };
}
