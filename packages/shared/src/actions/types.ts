import type { BanDecision } from '../model/ban.js';
import { FleetbanError } from '../errors.js';

/**
 * The contract between the one owner of ban events (the controller's store, or an agent's
 * firewall writer for host actions), the delivery queue and the actions themselves.
 */

/** What happened to a ban, as an action sees it. */
export interface BanEvent {
  readonly kind: 'ban' | 'unban';
  /**
   * Unique per ban and kind, stable across a controller failover (`ban:<banId>`,
   * `unban:<banId>`): a delivery already made under this id is not made again.
   */
  readonly id: string;
  /** The ban as stored (for an unban: the ban that was lifted). */
  readonly ban: BanDecision;
  /** When it happened, ms since the epoch: the ban's start, or the moment it was lifted. */
  readonly atMs: number;
  /** For an unban: `expired` (its time was up) or `admin` (lifted by an operator). */
  readonly why?: 'expired' | 'admin';
}

/** Where an action runs: once per decision on the active controller, or on each enforcing host. */
export type ActionSite = 'controller' | 'host';

/** One action of one jail, as configured (`action = name[opt=value, ...]`). */
export interface ActionSpec {
  /** The name as written: a built-in kind (`webhook`, `telegram`, ...) or an action.d file's name. */
  readonly name: string;
  /** Options given in the brackets, as written (before interpolation into the action's tags). */
  readonly options: Readonly<Record<string, string>>;
  readonly site: ActionSite;
  /** Where it was written, for errors. */
  readonly file: string;
  readonly line: number;
}

/** One configured action of one jail, ready to run. */
export interface ActionRunner {
  /** Unique within its jail and site: the spec's name, with `#2`, `#3` appended for repeats. */
  readonly name: string;
  readonly jail: string;
  readonly site: ActionSite;
  /** Runs actionstart (and actioncheck) where the action has them; rejects with {@link ActionError}. */
  start(): Promise<void>;
  /** Runs actionstop where the action has it; never rejects. */
  stop(): Promise<void>;
  /**
   * Delivers one event (actionban / actionunban, an HTTP request, ...). Rejects with
   * {@link ActionError}; the queue retries a retryable one with a growing delay.
   */
  run(e: BanEvent): Promise<void>;
}

/** An action could not deliver an event. */
export class ActionError extends FleetbanError {
  /** False when trying again cannot help (a 4xx other than 408/429, a command that does not exist). */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super('ACTION_FAILED', message, options);
    this.retryable = retryable;
  }
}
