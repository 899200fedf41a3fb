/** The `[agent]` section: how a host's agent enforces and talks to the fleet. */

import type { IniEntry } from '../f2bconf/ini-file.js';
import { checkKnownKeys } from './known-keys.js';
import type { AgentConfig, BlockType, EnforcerChoice, OnStop } from './types.js';
import { entryMap, readChoice, readDirs, readDuration, readListenAddress, readOr, readPositiveInt } from './value.js';

/** Keys of the `[agent]` section. */
export const AGENT_KEYS: readonly string[] = ['enforcer', 'on_stop', 'heartbeat', 'reconcile', 'poll', 'buffer', 'blocktype', 'max_line', 'spool', 'filter_path', 'metrics'];

/** Defaults of the `[agent]` section. */
export const AGENT_DEFAULTS: AgentConfig = {
  enforcer: 'auto',
  onStop: 'flush',
  heartbeatMs: 5_000,
  reconcileMs: 30_000,
  pollMs: 100,
  buffer: 10_000,
  blockType: 'drop',
  maxLineBytes: 65_536,
  spoolBytes: 64 * 1024 * 1024,
  filterPath: [],
  metrics: null,
};

const ENFORCERS: readonly EnforcerChoice[] = ['auto', 'nftables', 'iptables', 'dry-run'];
const BLOCK_TYPES: readonly BlockType[] = ['drop', 'reject'];
const ON_STOP: readonly OnStop[] = ['flush', 'keep'];

/** Reads the `[agent]` section's entries (none when the section is absent). Throws ConfigError. */
export function readAgent(entries: readonly IniEntry[]): AgentConfig {
  checkKnownKeys(entries, AGENT_KEYS);
  const map = entryMap(entries);
  const d = AGENT_DEFAULTS;
  return {
    enforcer: readOr(map, 'enforcer', readChoice(ENFORCERS), d.enforcer),
    onStop: readOr(map, 'on_stop', readChoice(ON_STOP), d.onStop),
    heartbeatMs: readOr(map, 'heartbeat', readDuration('positive'), d.heartbeatMs),
    reconcileMs: readOr(map, 'reconcile', readDuration('positive'), d.reconcileMs),
    pollMs: readOr(map, 'poll', readDuration('positive'), d.pollMs),
    buffer: readOr(map, 'buffer', readPositiveInt, d.buffer),
    blockType: readOr(map, 'blocktype', readChoice(BLOCK_TYPES), d.blockType),
    maxLineBytes: readOr(map, 'max_line', readPositiveInt, d.maxLineBytes),
    spoolBytes: readOr(map, 'spool', readPositiveInt, d.spoolBytes),
    filterPath: readOr(map, 'filter_path', readDirs, d.filterPath),
    metrics: readOr(map, 'metrics', readListenAddress, d.metrics),
  };
}
