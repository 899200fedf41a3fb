import type { ReadGate } from '../tail/log-source.js';

/** What the reporter tells its gate, each time its state changes. */
export interface ReportState {
  /** The spool holds its maximum (or appends wait in memory for a disk that fails). */
  readonly spoolFull: boolean;
  /**
   * Failures are being published from memory and the last publish succeeded: the stream keeps up,
   * only slower than the logs are read. (Not connected yet, a failed publish or the spool in use:
   * false, and reading goes on into the spool, so the local fallback still sees every failure.)
   */
  readonly publishing: boolean;
  /** Failures waiting in memory (not yet sent, or sent and not yet acknowledged). */
  readonly queued: number;
}

/**
 * The reporter's back-pressure on the log sources (`ReadGate`, tail/log-source.ts). Closed while
 * the spool is full, and — so that a spray the stream keeps up with, only slower, is neither held
 * in memory nor spilled to disk — while `queued` failures reach `pace` and the stream is being
 * published to: reading then waits for acknowledgements (the lines wait in the log files). A
 * source that finds the gate closed asks to be woken ({@link whenOpen}); the gate calls it back
 * the moment the owner's {@link update} opens it. Pure and synchronous.
 */
export class ReportGate implements ReadGate {
  readonly #pace: number;
  #state: ReportState = { spoolFull: false, publishing: false, queued: 0 };
  readonly #waiting = new Set<() => void>();

  /** `pace`: failures waiting in memory, while publishing, at which reading waits. */
  constructor(pace: number) {
    this.#pace = pace;
  }

  /** True while sources must read nothing more. */
  get blocked(): boolean {
    return gateClosed(this.#state, this.#pace);
  }

  /** Calls `wake` once, when the gate next opens (at once if it is open). The same function is kept once. */
  whenOpen(wake: () => void): void {
    if (!this.blocked) wake();
    else this.#waiting.add(wake);
  }

  /** The reporter's new state; wakes the waiting sources when it opens the gate. */
  update(state: ReportState): void {
    this.#state = state;
    if (this.#waiting.size === 0 || this.blocked) return;
    const wake = [...this.#waiting];
    this.#waiting.clear();
    for (const w of wake) w();
  }
}

/** Whether reading must wait in `state`, with `pace` failures in memory as the limit while publishing. */
export function gateClosed(state: ReportState, pace: number): boolean {
  return state.spoolFull || (state.publishing && state.queued >= pace);
}

/**
 * One gate closed while any of `gates` is: sources are given this one. A source waiting on it is
 * woken when the gate that held it opens and none other is closed (it waits on the next closed one
 * meanwhile); the same `wake` is kept once.
 */
export function anyGate(gates: readonly ReadGate[]): ReadGate {
  const waiting = new Set<() => void>();
  const gate: ReadGate & { whenOpen(wake: () => void): void } = {
    get blocked() {
      return gates.some((g) => g.blocked);
    },
    whenOpen(wake) {
      const closed = gates.find((g) => g.blocked);
      if (!closed) {
        waiting.delete(wake);
        return wake();
      }
      waiting.add(wake);
      // retry is one function, which each gate keeps once; a gate without whenOpen: the source's
      // own poll looks again
      closed.whenOpen?.(retry);
    },
  };
  // one function for every waiting source: each gate keeps it once
  const retry = (): void => {
    const wake = [...waiting];
    waiting.clear();
    for (const w of wake) gate.whenOpen(w);
  };
  return gate;
}
