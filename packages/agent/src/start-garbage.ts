/**
 * Starting leaves garbage and room: the modules loaded, the configuration and filters parsed, the
 * saved lists read, the fleet joined; V8's young generation grew to its largest for it. V8 gives
 * that memory back only in a memory-reducing collection, which its memory reducer starts about
 * 8 s into the process if the agent then allocates little, else 8 s later: an idle agent held
 * about 60 or about 65 MB 10 s after "agent ready", by chance (docs/design.md, "An idle agent's
 * memory"). The agent asks for that collection itself, once it has started and joined.
 */
import type { Logger } from '@fleetban/shared';

/** How long after the last {@link StartGarbage.soon} the collection runs, in ms, by default. */
const SETTLE_MS = 2000;

/** Asks V8 for one memory-reducing collection. */
export type CollectGarbage = () => Promise<void>;

/**
 * V8's low-memory notification, through the in-process inspector's `HeapProfiler.collectGarbage`
 * (Node has no API for it; no port is opened). Rejects when node was built without the inspector.
 */
export async function lowMemoryCollection(): Promise<void> {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  try {
    await new Promise<void>((resolve, reject) => session.post('HeapProfiler.collectGarbage', (err) => (err ? reject(err) : resolve())));
  } finally {
    session.disconnect();
  }
}

/**
 * One memory-reducing collection, `settleMs` (default {@link SETTLE_MS}) after the last
 * {@link soon}: a start and a join close together cost one. When it cannot be had (a node built
 * without the inspector) nothing else changes: it is logged at debug.
 */
export class StartGarbage {
  #timer: NodeJS.Timeout | undefined;
  readonly #log: Logger;
  readonly #collect: CollectGarbage;
  readonly #settleMs: number;

  constructor(logger: Logger, { collect = lowMemoryCollection, settleMs = SETTLE_MS }: { collect?: CollectGarbage; settleMs?: number } = {}) {
    this.#log = logger;
    this.#collect = collect;
    this.#settleMs = settleMs;
  }

  /** Arms (or re-arms) the collection; the timer never holds the process open. */
  soon(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#collect().catch((err: unknown) => this.#log.debug({ err }, 'start-up garbage not collected'));
    }, this.#settleMs);
    this.#timer.unref();
  }

  /** Cancels a collection not run yet. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
