/** One failure an agent saw: a log line that a jail's filter matched. */
export interface FailureEvent {
  /**
   * Unique per event and stable across agent restarts: `<host>:<jail>:<line id>`, where the line id
   * comes from the line's place in its log (file identity and end offset, journal cursor), so a
   * line read again after a crash yields the same id; JetStream drops a duplicate within two
   * minutes and the controller drops an id it has already counted.
   */
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
