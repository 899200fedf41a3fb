/** The controller's periodic liveness message: agents that stop hearing it decide locally. */
export interface ControllerAlive {
  /** The controller's `[fleetban] host`. */
  readonly host: string;
  /** The controller's clock when sent (ms since the epoch). */
  readonly timeMs: number;
  /** How often it is sent, in ms: an agent falls back after 2 intervals without one. */
  readonly intervalMs: number;
}
