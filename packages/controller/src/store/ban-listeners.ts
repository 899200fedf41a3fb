import type { BanEvent, Logger } from '@fleetban/shared';

/** Told of each ban event after the store wrote it. Synchronous; must not throw (what it throws is logged). */
export type BanListener = (e: BanEvent) => void;

/**
 * Written alongside the ban list: the store's write resolves only once the journal holds the
 * event too, and both run in parallel (a journal that is slow delays the write by the longer of
 * the two, never by their sum). The durable action queue is the journal.
 */
export type BanJournal = (e: BanEvent) => Promise<void>;

/**
 * The store's subscribers: a typed list, told in order. One that throws is logged and the rest
 * are still told; none can delay or fail the write that caused the event.
 */
export class BanListeners {
  readonly #listeners: BanListener[] = [];
  constructor(private readonly logger: Logger) {}

  /** Adds `l`; returns its removal. */
  add(l: BanListener): () => void {
    this.#listeners.push(l);
    return () => {
      const i = this.#listeners.indexOf(l);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  /** Tells every listener of `e`. */
  emit(e: BanEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.error({ err, kind: e.kind, id: e.id }, 'ban event listener failed');
      }
    }
  }
}
