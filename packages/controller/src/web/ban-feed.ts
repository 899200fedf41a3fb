import { type BanDecision, type Clock, isActive } from '@fleetban/shared';

/** How often the feed looks for changes to send, in ms. */
export const FEED_INTERVAL_MS = 250;

/** How often the feed compares the whole list although the store told of no change, in ms. */
export const FEED_FULL_PASS_MS = 5_000;

/**
 * One ban as the page shows it, compact (an array, not an object: 100,000 of them cross the
 * wire when a page opens): address, jail, reason, start, expiry (0 = permanent), failures,
 * ban count, reporting hosts (space separated), user, first evidence line (cut). The user and
 * the evidence come from logs: the page writes them as text only.
 */
export type BanRow = [ip: string, jail: string, reason: string, atMs: number, expiresMs: number, failures: number, banCount: number, hosts: string, user: string, match: string];

/** What changed since the last diff: bans added or replaced (by address), addresses lifted or expired. */
export interface BanDiff {
  readonly added: readonly BanRow[];
  readonly removed: readonly string[];
}

/** The longest evidence line a row carries. */
const MATCH_CHARS = 120;

/** The page's row of a ban. */
export function banRow(b: BanDecision): BanRow {
  const match = b.matches[0] ?? '';
  return [b.ip, b.jail, b.reason, b.atMs, b.expiresMs, b.failures, b.banCount, b.hosts.join(' '), b.user ?? '', match.length > MATCH_CHARS ? `${match.slice(0, MATCH_CHARS)}…` : match];
}

/** What the feed reads: the ban store's in-memory list (BanStore.bans) and, when it has them, its events. */
export interface BanSource {
  readonly bans: ReadonlyMap<string, BanDecision>;
  /** Tells `l` that the list changed (BanStore.onEvent); returns its removal. */
  onEvent?(l: () => void): () => void;
}

/**
 * The ban list as a stream of diffs for the web view. A tick compares the store's map with what
 * was shown by identity (the store replaces a decision, never changes one): one pass over the map
 * and no copy of it. Every {@link FEED_INTERVAL_MS} it ticks only when there can be something to
 * send: the store told of a change, the earliest expiry shown has passed, or
 * {@link FEED_FULL_PASS_MS} went by (a safety net for changes the store did not announce; a source
 * without events is compared every time). Only active bans are shown: an expired ban leaves the
 * page when its expiry passes, before the expiry loop removes it.
 */
export class BanFeed {
  readonly #shown = new Map<string, BanDecision>();
  readonly #listeners = new Set<(d: BanDiff) => void>();
  #timer: NodeJS.Timeout | undefined;
  #unhear: (() => void) | undefined;
  #changed = true;
  #nextExpiryMs = Number.POSITIVE_INFINITY;
  #lastPassMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly source: BanSource, private readonly clock: Clock, private readonly intervalMs = FEED_INTERVAL_MS) {}

  /**
   * Starts polling, while `wanted()` (a page is open: with none, the controller spends nothing
   * on the view). Call {@link tick} before reading {@link current} when polling may have paused.
   */
  start(wanted: () => boolean = () => true): void {
    this.#unhear = this.source.onEvent?.(() => {
      this.#changed = true;
    });
    this.tick();
    this.#timer = setInterval(() => {
      if (wanted() && this.#due()) this.tick();
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Stops polling and forgets the listeners. */
  stop(): void {
    clearInterval(this.#timer);
    this.#unhear?.();
    this.#listeners.clear();
  }

  /** Whether a tick may find something to send. */
  #due(): boolean {
    if (this.#changed || this.#unhear === undefined) return true;
    const now = this.clock();
    return now >= this.#nextExpiryMs || now - this.#lastPassMs >= FEED_FULL_PASS_MS;
  }

  /** Calls `fn` with every diff from now on; returns the function that stops it. */
  subscribe(fn: (d: BanDiff) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** The bans shown now, in the order the store first held them. */
  *current(): Generator<BanDecision> {
    yield* this.#shown.values();
  }

  /** How many bans are shown. */
  get size(): number {
    return this.#shown.size;
  }

  /** Compares the store with what was shown and tells the listeners what changed (exposed for tests). */
  tick(): BanDiff {
    const now = this.clock();
    this.#changed = false;
    this.#lastPassMs = now;
    let nextExpiry = Number.POSITIVE_INFINITY;
    const added: BanRow[] = [];
    let present = 0;
    for (const [ip, b] of this.source.bans) {
      if (!isActive(b, now)) continue;
      present++;
      if (b.expiresMs > 0 && b.expiresMs < nextExpiry) nextExpiry = b.expiresMs;
      if (this.#shown.get(ip) === b) continue;
      this.#shown.set(ip, b);
      added.push(banRow(b));
    }
    const removed: string[] = [];
    // every active ban is shown now: more shown than active means some were lifted or expired
    if (this.#shown.size > present) {
      for (const ip of this.#shown.keys()) {
        const held = this.source.bans.get(ip);
        if (held !== undefined && isActive(held, now)) continue;
        this.#shown.delete(ip);
        removed.push(ip);
      }
    }
    this.#nextExpiryMs = nextExpiry;
    const diff = { added, removed };
    if (added.length > 0 || removed.length > 0) for (const fn of this.#listeners) fn(diff);
    return diff;
  }
}
