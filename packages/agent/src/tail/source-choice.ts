import type { JailBackend, JailConfig } from '@fleetban/shared';
import { expandGlob } from './glob.js';
import { type JournalHost, journalProblem, SYSTEM_JOURNAL } from './journal-check.js';
import { journalMatches } from './source-spec.js';

/** What a jail reads on this host, and why: said once in the jail's log when it starts. */
export interface SourceChoice {
  /** The backend read: the jail's own, or the system journal for `backend = auto` (see {@link decideBackend}). */
  readonly backend: JailBackend;
  /** One sentence: what is read and why. */
  readonly why: string;
  /** True when nothing can be read yet (a logpath with no file): the jail logs a warning. */
  readonly waiting: boolean;
}

/** What {@link decideBackend} looks at. */
export interface SourceFacts {
  /** Files the logpath globs match now. */
  readonly logFiles: number;
  /** The journalctl matches a journal source would use (the jail's journalmatch, else the filter's). */
  readonly journalmatch: readonly string[];
  /** Why this host's system journal cannot be read, null when it can; asked only when needed. */
  readonly journalProblem: () => string | null;
}

/** The system journal, as `backend = auto` reads it when it falls back. */
export const SYSTEM_JOURNAL_BACKEND: JailBackend = { kind: 'systemd', journalpath: '', journalfiles: [] };

/**
 * Which source a jail reads. Every backend but `auto` is taken as written. `auto` (the default)
 * reads the logpath files, unless no file matches the logpath (or there is none), the jail or its
 * filter has a journalmatch, and this host's systemd journal can be read: then it reads the journal
 * with that journalmatch, as Debian 12's fail2ban does for sshd (its jail.d/defaults-debian.conf
 * sets `backend = systemd`; fail2ban's own `auto` never falls back). Decided once, at start: a
 * logpath file that appears later is not switched to. Pure.
 */
export function decideBackend(jail: JailConfig, facts: SourceFacts): SourceChoice {
  const b = jail.backend;
  const logpath = jail.logpath.length === 0 ? 'no logpath' : `logpath ${jail.logpath.join(' ')}`;
  const files = `${facts.logFiles} file${facts.logFiles === 1 ? '' : 's'} match ${logpath}`;
  const matches = facts.journalmatch.join(' ');
  switch (b.kind) {
    case 'systemd': {
      const journal = b.journalpath !== '' ? `the journal in ${b.journalpath}` : b.journalfiles.length > 0 ? `the journal files ${b.journalfiles.join(' ')}` : 'the system journal';
      return { backend: b, why: `backend = systemd: reading ${journal}${matches === '' ? ', every entry (no journalmatch)' : ` with journalmatch ${matches}`}`, waiting: false };
    }
    case 'docker':
      return { backend: b, why: `backend = docker: reading container ${b.container}'s log under ${b.root}`, waiting: false };
    default:
      break;
  }
  if (facts.logFiles > 0) return { backend: b, why: `backend = ${b.kind}: reading the files (${files})`, waiting: false };
  const none = jail.logpath.length === 0 ? 'no logpath' : `no file matches ${logpath}`;
  if (b.kind !== 'auto') return { backend: b, why: `backend = ${b.kind}: ${none} yet; waiting for one`, waiting: true };
  if (matches === '') return { backend: b, why: `backend = auto: ${none} yet; waiting for one (the journal is not read instead: neither the jail nor filter ${jail.filter} has a journalmatch)`, waiting: true };
  const problem = facts.journalProblem();
  if (problem !== null) return { backend: b, why: `backend = auto: ${none} yet; waiting for one (the journal is not read instead: ${problem})`, waiting: true };
  return {
    backend: SYSTEM_JOURNAL_BACKEND,
    why: `backend = auto: ${none}, so reading the systemd journal with journalmatch ${matches} instead (set backend = systemd, or a logpath that exists, to choose)`,
    waiting: false,
  };
}

/**
 * {@link decideBackend} with the facts of this host: the logpath globs expanded now, the
 * journalmatch (the jail's, else `filterJournalmatch`), the journal looked for through `host`.
 * Throws ConfigError for a bad journalmatch.
 */
export async function chooseSource(jail: JailConfig, filterJournalmatch: readonly string[], host: JournalHost = SYSTEM_JOURNAL): Promise<SourceChoice> {
  const journalmatch = journalMatches(jail, filterJournalmatch);
  let logFiles = 0;
  if (jail.backend.kind !== 'systemd' && jail.backend.kind !== 'docker') {
    for (const g of jail.logpath) logFiles += (await expandGlob(g)).length;
  }
  return decideBackend(jail, { logFiles, journalmatch, journalProblem: () => journalProblem({ directory: '', files: [] }, host) });
}
