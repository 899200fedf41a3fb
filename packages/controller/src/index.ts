/** @fleetban/controller: the fleet's single decision point. */
export { runController } from './main.js';
export type { Controller, ControllerDeps } from './main.js';
export { TakeoverStartError } from './lease/controller-lease.js';
