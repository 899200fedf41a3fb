/** One failure an agent saw: a log line that a jail's filter matched. */
export interface FailureEvent {
  /** Unique per event: `<host>:<boot>:<seq>`; the controller drops an id it has already counted. */
  readonly id: string;
  readonly host: string;
  readonly jail: string;
  /** Normalised address. */
  readonly ip: string;
  /** When it happened, ms since the epoch. */
  readonly timeMs: number;
  readonly user: string;
  /** The matched line (evidence). */
  readonly line: string;
}
