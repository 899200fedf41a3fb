import { type ActionRunner, type CreateOptions, ensureActionsStream, type Logger, type NatsConnection } from '@fleetban/shared';
import type { CounterSet } from '../metrics/counter-set.js';
import type { BanStore } from '../store/ban-store.js';
import { ActionDelivery, type ActionDeliveryOptions } from './action-delivery.js';
import { ActionQueue } from './action-queue.js';

/**
 * The controller-site actions of every jail, as the active controller runs them: the actions
 * stream made sure of, the store's journal queuing each ban event for each action, and one
 * {@link ActionDelivery} per action (actionstart at {@link start}, actionstop at {@link stop}).
 * Nothing at all when no jail has a controller-site action.
 */
export class ControllerActions {
  readonly #queue: ActionQueue;
  readonly #deliveries: ActionDelivery[];

  private constructor(queue: ActionQueue, deliveries: ActionDelivery[], private readonly logger: Logger) {
    this.#queue = queue;
    this.#deliveries = deliveries;
  }

  /**
   * Makes sure of the actions stream (with `create`'s replica count) and journals `store`'s ban
   * events to it; returns null (no stream, no journal) when `runners` is empty.
   */
  static async open(
    nc: NatsConnection,
    store: BanStore,
    runners: readonly ActionRunner[],
    deps: { counters: CounterSet; logger: Logger; create?: CreateOptions; delivery?: ActionDeliveryOptions },
  ): Promise<ControllerActions | null> {
    if (runners.length === 0) return null;
    await ensureActionsStream(nc, deps.create);
    const heal = () => ensureActionsStream(nc, deps.create);
    const queue = new ActionQueue(nc, runners, deps.counters, deps.logger, heal);
    store.useJournal(queue.record);
    const deliveries = runners.map(
      (r) => new ActionDelivery(nc, r, queue.indexOf(r), deps.counters, deps.logger.child({ jail: r.jail, action: r.name }), deps.delivery, heal),
    );
    deps.logger.info({ actions: runners.map((r) => `${r.jail}/${r.name}`) }, 'controller actions queued through the actions stream');
    return new ControllerActions(queue, deliveries, deps.logger);
  }

  /** Runs each action's actionstart and starts delivering. */
  async start(): Promise<void> {
    await Promise.all(this.#deliveries.map((d) => d.start()));
  }

  /** Stops delivering, runs each action's actionstop, and stops queuing. */
  async stop(): Promise<void> {
    await Promise.all(this.#deliveries.map((d) => d.stop()));
    this.#queue.close();
    this.logger.info('controller actions stopped (actionstop run)');
  }
}
