/**
 * The tail stage's contract: what every log source (files, journal, Docker) delivers and counts.
 */

/**
 * One complete line read from a source. The object is reused for every line of a source: read it
 * inside the callback and copy what you keep.
 */
export interface LogLine {
  /** Where the line comes from: the file name matched by the logpath, `journal`, or the container's log file. */
  path: string;
  /** The line without its `\n` / `\r\n`, decoded (invalid bytes become U+FFFD). */
  text: string;
  /** Clock time when the bytes were read (ms since the epoch). */
  readMs: number;
  /** When the source says the line was written (journal entry time, Docker's `time`); 0 when it does not know. */
  timeMs: number;
  /**
   * Where the line is, stable across restarts: the same line read again (after a crash, positions
   * are as of the last save) has the same id, and no other line of the source has it. Files and
   * Docker: `<file tag>:<offset just after the line>`, the tag a hash of the file's identity (device,
   * inode, birth time), its truncation generation and its first line; journal: a hash of the
   * entry's cursor. Failure event ids are made from it. Every source sets it; optional only so
   * that a line made by hand (a filter test) need not invent one.
   */
  id?: string;
}

/** Lets a consumer that falls behind hold reading back (implemented by report/read-gate.ts). */
export interface ReadGate {
  /** While true, sources read nothing more; they look again every poll, or when woken. */
  readonly blocked: boolean;
  /** Calls `wake` once, when the gate next opens (at once if open): a source need not wait a poll. */
  whenOpen?(wake: () => void): void;
}

/** Counters every log source keeps. */
export interface SourceCounters {
  /** Files open (journal: 1 while journalctl runs). */
  files: number;
  /** Lines delivered. */
  lines: number;
  /** Lines skipped: longer than max_line, binary (NUL bytes), or not decodable as an entry. */
  skipped: number;
  /** Lines delivered with bytes the encoding could not decode (replaced by U+FFFD). */
  undecodable: number;
  /** Bytes written to the source and not read yet (files: as of the last look; journal: bytes in the pipe). */
  bytesBehind: number;
}

/** Where a jail's lines come from. */
export interface LogSource {
  /** Starts delivering lines; resolves once the source is positioned (anything written after is delivered). */
  start(onLine: (line: LogLine) => void): Promise<void>;
  /** Stops reading and saves the position; no line is delivered after it resolves. */
  stop(): Promise<void>;
  counters(): SourceCounters;
}
