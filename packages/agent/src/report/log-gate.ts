import type { LogOutput } from '@fleetban/shared';
import type { ReadGate } from '../tail/log-source.js';

/** Options of {@link LogGate}. */
export interface LogGateOptions {
  /** Bytes of the agent's own log lines waiting to be written at which reading waits. Default 512 KiB. */
  readonly paceBytes?: number;
  /**
   * While lines wait, a reader that has taken nothing for this many ms is taken as stuck: reading
   * goes on (and the logger drops what exceeds its backlog) rather than the host going unprotected.
   * Default 2000.
   */
  readonly stuckMs?: number;
}

/**
 * Back-pressure of the agent's own log output on the log sources (`ReadGate`, tail/log-source.ts).
 * The agent logs every failure it reads: under a burst of failures read from a backlog, a log
 * reader (journald, a pipe) slower than reading fills the logger's backlog, which is memory, and
 * beyond its bound lines are dropped. This gate closes while `paceBytes` wait, so reading goes at
 * the log reader's pace (the lines wait in the files, counted as bytes behind), as fail2ban's
 * blocking log writes do. A reader that takes nothing for `stuckMs` does not hold reading: a stuck
 * log must not stop the host's protection.
 */
export class LogGate implements ReadGate {
  readonly #out: LogOutput;
  readonly #pace: number;
  readonly #stuckMs: number;
  readonly #waiting = new Set<() => void>();
  #unlisten: (() => void) | null = null;
  /** Times the gate held reading (counted when a source first finds it closed). */
  held = 0;

  constructor(out: LogOutput, opts: LogGateOptions = {}) {
    this.#out = out;
    this.#pace = opts.paceBytes ?? 512 * 1024;
    this.#stuckMs = opts.stuckMs ?? 2000;
  }

  /** True while sources must read nothing more. */
  get blocked(): boolean {
    return this.#out.backlogBytes() >= this.#pace && this.#out.msSinceWrite() < this.#stuckMs;
  }

  /** Calls `wake` once, after the write that brings the backlog under the pace (at once if open). */
  whenOpen(wake: () => void): void {
    if (!this.blocked) return wake();
    if (this.#waiting.size === 0) this.held++;
    this.#waiting.add(wake);
    // a stuck reader writes nothing: the sources' own polls find the gate open then
    this.#unlisten ??= this.#out.onWrite(() => this.#written());
  }

  #written(): void {
    if (this.blocked) return;
    this.#unlisten?.();
    this.#unlisten = null;
    const wake = [...this.#waiting];
    this.#waiting.clear();
    for (const w of wake) w();
  }
}
