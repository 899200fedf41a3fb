import type { Clock, JailConfig, Logger } from '@fleetban/shared';
import { DockerSource } from './docker-source.js';
import { FileTail } from './file-tail.js';
import type { JournalHost } from './journal-check.js';
import { JournalSource } from './journal-source.js';
import type { LogSource, ReadGate } from './log-source.js';
import { sourceSpec } from './source-spec.js';

export type { LogLine, LogSource, ReadGate, SourceCounters } from './log-source.js';
export { type JournalHost, JournalUnavailableError, SYSTEM_JOURNAL } from './journal-check.js';
export { chooseSource, decideBackend, type SourceChoice, type SourceFacts } from './source-choice.js';

/** What a source is built with. */
export interface SourceDeps {
  /** The agent's state directory: positions and cursors go to `<stateDir>/tail/<jail>.json`. */
  readonly stateDir: string;
  /** How often files are checked for new bytes (and a blocked gate looked at again), in ms. */
  readonly pollMs: number;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Longest line delivered, in bytes ([agent] max_line); default 65536. */
  readonly maxLineBytes?: number;
  /** Back-pressure from the reporter: while blocked, nothing more is read. */
  readonly gate?: ReadGate;
  /** journalctl and the system journal's directory; default journalctl from PATH and journald's own directories. */
  readonly journal?: JournalHost;
}

/**
 * The log source of one jail, from its fail2ban keys: `backend` (`jail.backend`: auto, polling,
 * pyinotify, gamin: the logpath files; systemd[...]: the journal with journalmatch;
 * docker[container=...]: a container's json-file log), `logpath` (with fail2ban's `head` / `tail`
 * word), `logencoding`. A journal source without a jail `journalmatch` takes `filterJournalmatch`
 * (the filter's). Throws ConfigError for a bad value. `auto` is taken as files here: which source
 * an `auto` jail reads on this host is {@link chooseSource}'s decision. See README.md.
 */
export function createSource(jail: JailConfig, deps: SourceDeps, filterJournalmatch: readonly string[] = []): LogSource {
  const spec = sourceSpec(jail, filterJournalmatch);
  const common = { stateDir: deps.stateDir, maxLineBytes: deps.maxLineBytes ?? 65_536, pollMs: deps.pollMs, gate: deps.gate, logger: deps.logger, clock: deps.clock };
  switch (spec.kind) {
    case 'journal':
      return new JournalSource({ ...common, spec, name: jail.name, ...(deps.journal ? { host: deps.journal } : {}) });
    case 'docker':
      return new DockerSource({ ...common, spec, name: jail.name });
    case 'file':
      return new FileTail({ ...common, globs: [...spec.globs], startAt: spec.startAt, decoder: spec.decoder, stateName: jail.name });
  }
}
