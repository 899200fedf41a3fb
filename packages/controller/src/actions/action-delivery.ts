import {
  ACTION_HEADER,
  actionConsumer,
  ActionError,
  type ActionRunner,
  type BanEvent,
  decodeBanEvent,
  type JsMsg,
  type Logger,
  type NatsConnection,
} from '@fleetban/shared';
import { PULL_EXPIRES_MS } from '../intake/event-intake.js';
import type { CounterSet } from '../metrics/counter-set.js';

/** Options of {@link ActionDelivery}. */
export interface ActionDeliveryOptions {
  /** Delay before the first retry of a retryable failure, doubled at each further one; default 1 s. */
  readonly firstRetryMs?: number;
  /** The longest delay between retries; default 5 min. */
  readonly maxRetryMs?: number;
  /** How long one attempt may hold a message before the server gives it to another; default 5 min (kept longer while it runs). */
  readonly ackWaitMs?: number;
}

/** How often a running attempt tells the server it is still working on its message. */
const WORKING_EVERY_MS = 20_000;

/** How long after its consumer ended on its own a delivery makes it anew. */
const RESUME_MS = 1_000;

/** Messages pulled at once; they are delivered one after another, in stream order. */
const PULL = 16;

/**
 * Delivers the queued events of one controller-site action (its durable consumer on the actions
 * stream) with {@link ActionRunner.run}, one at a time in queue order: a delivery that succeeds is
 * acknowledged (`actions.delivered`); a retryable {@link ActionError} is handed back with a
 * growing delay, 1 s, 2 s, 4 s ... up to 5 min (`actions.retried`); any other failure is given
 * up (`actions.failed`, logged as an error). Each count is by action and jail. Runs only on the
 * active controller, which made the consumer anew at start: what a stopped controller held comes
 * at once.
 */
export class ActionDelivery {
  #messages: { stop(): void; close(): Promise<void | Error> } | undefined;
  #loop: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  readonly #first: number;
  readonly #max: number;
  readonly #labels: readonly string[];

  constructor(
    private readonly nc: NatsConnection,
    private readonly runner: ActionRunner,
    /** The action's place among its jail's controller-site actions: its subject's last token. */
    private readonly index: number,
    private readonly counters: CounterSet,
    private readonly logger: Logger,
    private readonly opts: ActionDeliveryOptions = {},
    /** Makes sure of the actions stream before a consumer is made anew; default nothing. */
    private readonly heal: () => Promise<void> = async () => undefined,
  ) {
    this.#first = opts.firstRetryMs ?? 1_000;
    this.#max = opts.maxRetryMs ?? 300_000;
    this.#labels = [runner.name, runner.jail];
  }

  /** Runs the action's actionstart (a failure is logged; deliveries are still tried), then consumes. */
  async start(): Promise<void> {
    try {
      await this.runner.start();
    } catch (err) {
      this.logger.error({ err }, 'actionstart failed: deliveries are tried anyway');
    }
    await this.#consume(true);
  }

  /**
   * Consumes until {@link stop}. A consumer that ends otherwise (its stream or consumer deleted)
   * is made anew after {@link RESUME_MS}.
   */
  async #consume(anew: boolean): Promise<void> {
    const consumer = await actionConsumer(this.nc, this.runner.jail, this.index, this.opts.ackWaitMs ?? 300_000, anew);
    const messages = await consumer.consume({ max_messages: PULL, expires: PULL_EXPIRES_MS, abort_on_missing_resource: true });
    this.#messages = messages;
    void (async () => {
      for await (const s of messages.status()) {
        if (s.type === 'consumer_deleted' || s.type === 'consumer_not_found' || s.type === 'stream_not_found') {
          this.logger.warn({ status: s.type }, 'the action\'s consumer is gone: making it anew');
          messages.stop();
        }
      }
    })().catch(() => undefined);
    this.#loop = (async () => {
      for await (const m of messages) {
        if (this.#stopping) break;
        await this.deliver(m);
      }
    })()
      .catch((err: unknown) => {
        if (!this.#stopping) this.logger.error({ err }, 'action consumer stopped');
      })
      .then(() => {
        if (!this.#stopping) this.#resume();
      });
  }

  #resume(): void {
    this.#timer = setTimeout(() => {
      this.heal()
        .then(() => this.#consume(false))
        .catch((err: unknown) => {
        this.logger.warn({ err }, 'cannot consume the action\'s queue yet: trying again');
        if (!this.#stopping) this.#resume();
      });
    }, RESUME_MS);
  }

  /** The delay before retry number `n` (1-based): doubling from the first, at most the longest. */
  retryDelay(n: number): number {
    return Math.min(this.#first * 2 ** Math.min(n - 1, 30), this.#max);
  }

  /** Delivers one message and settles it (ack, nak with delay, or term). */
  private async deliver(m: JsMsg): Promise<void> {
    let e: BanEvent;
    try {
      e = decodeBanEvent(m.data);
    } catch (err) {
      this.counters.add('actions.failed', 1, this.#labels);
      this.logger.error({ err, seq: m.seq }, 'queued action message does not decode: dropped');
      m.term();
      return;
    }
    const named = m.headers?.get(ACTION_HEADER);
    if (named && named !== this.runner.name) {
      this.counters.add('actions.failed', 1, this.#labels);
      this.logger.error({ id: e.id, queuedFor: named, seq: m.seq }, 'queued for another action (the jail\'s actions changed): dropped');
      m.term();
      return;
    }
    const attempt = m.info.deliveryCount;
    const working = setInterval(() => m.working(), WORKING_EVERY_MS);
    try {
      await this.runner.run(e);
    } catch (err) {
      const retryable = err instanceof ActionError ? err.retryable : false;
      const fields = { err, id: e.id, kind: e.kind, ip: e.ban.ip, attempt };
      if (retryable && !this.#stopping) {
        const delay = this.retryDelay(attempt);
        this.counters.add('actions.retried', 1, this.#labels);
        this.logger.warn({ ...fields, retryInMs: delay }, 'action failed: retrying');
        m.nak(delay);
      } else if (retryable) {
        m.nak(); // stopping: left for the next active controller
      } else {
        this.counters.add('actions.failed', 1, this.#labels);
        this.logger.error(fields, 'action failed: given up');
        m.term();
      }
      return;
    } finally {
      clearInterval(working);
    }
    m.ack();
    this.counters.add('actions.delivered', 1, this.#labels);
    this.logger.info({ id: e.id, kind: e.kind, ip: e.ban.ip, attempt }, 'action delivered');
  }

  /** Stops consuming, waits for the delivery under way, then runs actionstop. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#messages?.stop();
    await this.#loop;
    await this.runner.stop().catch((err: unknown) => this.logger.warn({ err }, 'actionstop failed'));
  }
}
