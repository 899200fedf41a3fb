/** @fleetban/controller: the fleet's single decision point. */
export { runController, type Controller, type ControllerDeps } from './main.js';
