import { type ActionRunner, type BanEvent, type Logger, type NatsConnection, queueAction, StreamPublisher } from '@fleetban/shared';
import type { CounterSet } from '../metrics/counter-set.js';
import type { ActionDelivery } from './action-delivery.js';

/** How long the stream may take to acknowledge a queued delivery before the write fails (and is retried). */
const QUEUE_TIMEOUT_MS = 5_000;

/**
 * The store's journal for controller-site actions: each ban event becomes one message per action
 * of the ban's jail on the actions stream (`fleetban.actions.<jail>.<index>`, message id
 * `<action>:<event id>`: a failover that publishes the same event again is dropped by the
 * stream). {@link record} resolves once the stream holds every one, so a failure is acknowledged
 * only after what it caused is queued; the deliveries happen later ({@link ActionDelivery}) and
 * never hold a decision up. After a failed write it makes sure of the stream again (`heal`), so
 * a deleted stream is created on the next try.
 */
export class ActionQueue {
  readonly #publisher: StreamPublisher;
  readonly #byJail = new Map<string, readonly ActionRunner[]>();

  constructor(
    nc: NatsConnection,
    runners: readonly ActionRunner[],
    private readonly counters: CounterSet,
    private readonly logger: Logger,
    /** Makes sure of the stream again after a failed write (it may have been deleted); default nothing. */
    private readonly heal: () => Promise<void> = async () => undefined,
  ) {
    this.#publisher = new StreamPublisher(nc, { timeoutMs: QUEUE_TIMEOUT_MS });
    for (const r of runners) this.#byJail.set(r.jail, [...(this.#byJail.get(r.jail) ?? []), r]);
  }

  /** The action's index among its jail's controller-site actions (its subject's last token). */
  indexOf(r: ActionRunner): number {
    return this.#byJail.get(r.jail)?.indexOf(r) ?? -1;
  }

  /** Queues `e` for every action of its ban's jail (the store's {@link BanJournal}). */
  readonly record = async (e: BanEvent): Promise<void> => {
    const runners = this.#byJail.get(e.ban.jail);
    if (!runners) return;
    try {
      await Promise.all(runners.map((r, i) => queueAction(this.#publisher, r.jail, i, r.name, e)));
    } catch (err) {
      this.counters.add('actions.queue-failed', 1, [e.ban.jail]);
      this.logger.warn({ err, id: e.id, jail: e.ban.jail }, 'cannot queue the ban event for its actions (the write is retried)');
      await this.heal().catch((cause: unknown) => this.logger.warn({ err: cause }, 'cannot make sure of the actions stream yet'));
      throw err;
    }
  };

  /** Fails what still waits for the stream and stops listening. */
  close(): void {
    this.#publisher.close();
  }
}
