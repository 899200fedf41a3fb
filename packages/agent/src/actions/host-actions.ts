import { ActionError, type ActionRunner, type BanEvent, type Logger } from '@fleetban/shared';

/** Options of {@link HostActions}. */
export interface HostActionsOptions {
  /** Delay before the first retry of a retryable failure, doubled at each further one; default 1 s. */
  readonly firstRetryMs?: number;
  /** The longest delay between retries; default 5 min. */
  readonly maxRetryMs?: number;
  /** Events one action may have waiting; beyond, the oldest is dropped (logged); default 10000. */
  readonly maxQueued?: number;
}

interface Queued {
  readonly e: BanEvent;
  attempt: number;
}

/** One action's queue: events in order, one delivery at a time. */
class ActionLane {
  readonly queue: Queued[] = [];
  running = false;
  timer: NodeJS.Timeout | undefined;
  constructor(readonly runner: ActionRunner) {}
}

/**
 * This host's host-site actions (`host_action =`), told of each ban its firewall took or let go
 * (the firewall writer's ban events). Each action has an in-memory queue delivered in order, one
 * event at a time; a retryable {@link ActionError} is tried again after 1 s, 2 s, 4 s ... up to
 * 5 min, anything else is logged and dropped. Nothing here waits on the firewall or makes it
 * wait: {@link tell} only queues. What is queued when the agent stops is lost (logged).
 */
export class HostActions {
  readonly #lanes = new Map<string, ActionLane[]>();
  #stopped = false;
  readonly #first: number;
  readonly #max: number;
  readonly #maxQueued: number;

  constructor(runners: readonly ActionRunner[], private readonly logger: Logger, opts: HostActionsOptions = {}) {
    for (const r of runners) this.#lanes.set(r.jail, [...(this.#lanes.get(r.jail) ?? []), new ActionLane(r)]);
    this.#first = opts.firstRetryMs ?? 1_000;
    this.#max = opts.maxRetryMs ?? 300_000;
    this.#maxQueued = opts.maxQueued ?? 10_000;
  }

  /** True when some jail has a host action. */
  get any(): boolean {
    return this.#lanes.size > 0;
  }

  /** Runs each action's actionstart (a failure is logged; deliveries are still tried). */
  async start(): Promise<void> {
    await Promise.all(this.#all().map(async (l) => {
      try {
        await l.runner.start();
      } catch (err) {
        this.logger.error({ err, jail: l.runner.jail, action: l.runner.name }, 'host actionstart failed: deliveries are tried anyway');
      }
    }));
  }

  /** Queues `e` for every host action of its ban's jail (a {@link HostBanListener}). */
  readonly tell = (e: BanEvent): void => {
    if (this.#stopped) return;
    for (const lane of this.#lanes.get(e.ban.jail) ?? []) {
      if (lane.queue.length >= this.#maxQueued) {
        const dropped = lane.queue.shift();
        this.logger.error({ jail: lane.runner.jail, action: lane.runner.name, id: dropped?.e.id }, 'host action queue full: oldest event dropped');
      }
      lane.queue.push({ e, attempt: 0 });
      if (!lane.running && !lane.timer) void this.#drain(lane);
    }
  };

  /** Stops delivering (what is queued is dropped), then runs each action's actionstop. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const l of this.#all()) {
      clearTimeout(l.timer);
      if (l.queue.length > 0) this.logger.warn({ jail: l.runner.jail, action: l.runner.name, dropped: l.queue.length }, 'agent stopping: queued host action events dropped');
      l.queue.length = 0;
    }
    await Promise.all(this.#all().map((l) => l.runner.stop().catch((err: unknown) => this.logger.warn({ err, action: l.runner.name }, 'host actionstop failed'))));
  }

  #all(): ActionLane[] {
    return [...this.#lanes.values()].flat();
  }

  async #drain(lane: ActionLane): Promise<void> {
    lane.running = true;
    lane.timer = undefined;
    const r = lane.runner;
    while (!this.#stopped && lane.queue.length > 0) {
      const q = lane.queue[0] as Queued;
      q.attempt++;
      try {
        await r.run(q.e);
        lane.queue.shift();
        this.logger.info({ jail: r.jail, action: r.name, id: q.e.id, kind: q.e.kind, ip: q.e.ban.ip, attempt: q.attempt }, 'host action delivered');
      } catch (err) {
        const fields = { err, jail: r.jail, action: r.name, id: q.e.id, kind: q.e.kind, ip: q.e.ban.ip, attempt: q.attempt };
        if (err instanceof ActionError && err.retryable) {
          const delay = Math.min(this.#first * 2 ** Math.min(q.attempt - 1, 30), this.#max);
          this.logger.warn({ ...fields, retryInMs: delay }, 'host action failed: retrying');
          lane.running = false;
          if (!this.#stopped) lane.timer = setTimeout(() => void this.#drain(lane), delay);
          return;
        }
        lane.queue.shift();
        this.logger.error(fields, 'host action failed: given up');
      }
    }
    lane.running = false;
  }
}
