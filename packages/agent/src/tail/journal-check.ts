import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { FleetbanError } from '@fleetban/shared';

/** Where journald keeps the system journal: volatile (`Storage=volatile`, or before /var is up), then persistent. */
export const SYSTEM_JOURNAL_DIRS: readonly string[] = ['/run/log/journal', '/var/log/journal'];

/** How this host's journal is reached. */
export interface JournalHost {
  /**
   * The system journal's directory: '' (default) for journalctl's own (/run/log/journal and
   * /var/log/journal), else one directory read with `journalctl --directory` (a host's journal
   * mounted into a container, a test's journal).
   */
  readonly directory: string;
  /** journalctl: a path, or a name looked up in PATH; default `journalctl`. */
  readonly journalctl: string;
}

/** The system journal through journalctl from PATH. */
export const SYSTEM_JOURNAL: JournalHost = { directory: '', journalctl: 'journalctl' };

/** Which journal a source reads: a directory, files, or ('' and none) the host's system journal. */
export interface JournalWhere {
  readonly directory: string;
  readonly files: readonly string[];
}

/** The journal a jail would read cannot be read on this host (no journalctl, no journal files, no permission). */
export class JournalUnavailableError extends FleetbanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('JOURNAL_UNAVAILABLE', message, options);
  }
}

/**
 * Why the journal `where` cannot be read here, or null when it can: journalctl must be found, and
 * there must be a readable journal file (`*.journal`, `*.journal~`) in the directory or one level
 * below it (journald's `<machine-id>/`), or every named file must exist. Synchronous, a few
 * directory reads; no journalctl process is run.
 */
export function journalProblem(where: JournalWhere, host: JournalHost = SYSTEM_JOURNAL): string | null {
  const bin = findExecutable(host.journalctl);
  if (bin === null) return `${host.journalctl} not found${host.journalctl.includes('/') ? '' : ' on PATH'} (it comes with systemd)`;
  if (where.files.length > 0) {
    const missing = where.files.filter((f) => !isReadableFile(f));
    return missing.length === 0 ? null : `journal file${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing or not readable`;
  }
  const dirs = where.directory !== '' ? [where.directory] : host.directory !== '' ? [host.directory] : SYSTEM_JOURNAL_DIRS;
  const found = dirs.flatMap(journalFiles);
  if (found.some(isReadableFile)) return null;
  const system = where.directory === '' && host.directory === '';
  if (found.length > 0) return `the journal files in ${dirs.join(' and ')} are not readable by this user (run the agent as root or in the systemd-journal group)`;
  return `no journal files in ${dirs.join(' or ')}${system ? ' (systemd-journald does not run here: a container without systemd? Mount the host\'s /var/log/journal and use backend = systemd[journalpath=DIR])' : ''}`;
}

/** Journal files in `dir` and in its subdirectories (one level), unsorted. */
function journalFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of list(dir)) {
    const p = join(dir, name);
    if (isJournalName(name)) out.push(p);
    else if (isDirectory(p)) for (const sub of list(p)) if (isJournalName(sub)) out.push(join(p, sub));
  }
  return out;
}

function isJournalName(name: string): boolean {
  return name.endsWith('.journal') || name.endsWith('.journal~');
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isReadableFile(p: string): boolean {
  try {
    accessSync(p, constants.R_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** `name` itself when it holds a `/`, else the first executable `name` in PATH; null when none. */
function findExecutable(name: string): string | null {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).filter((d) => d !== '').map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // not there
    }
  }
  return null;
}
