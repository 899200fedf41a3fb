import { type BanDecision, type Clock, isActive } from '@fleetban/shared';

/** How often the feed compares the store's bans with what it last sent, in ms. */
export const FEED_INTERVAL_MS = 250;

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

/** What the feed reads: the ban store's in-memory list (BanStore.bans). */
export interface BanSource {
  readonly bans: ReadonlyMap<string, BanDecision>;
}

/**
 * The ban list as a stream of diffs for the web view. It polls the store's map every
 * {@link FEED_INTERVAL_MS} and compares entries by identity (the store replaces a decision, never
 * changes one), so a tick costs one pass over the map and no copy of it; it works whether or not
 * the store tells listeners of its changes. Only active bans are shown: an expired ban leaves the
 * page when its expiry passes, before the expiry loop removes it.
 */
export class BanFeed {
  readonly #shown = new Map<string, BanDecision>();
  readonly #listeners = new Set<(d: BanDiff) => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly source: BanSource, private readonly clock: Clock, private readonly intervalMs = FEED_INTERVAL_MS) {}

  /**
   * Starts polling, while `wanted()` (a page is open: with none, the controller spends nothing
   * on the view). Call {@link tick} before reading {@link current} when polling may have paused.
   */
  start(wanted: () => boolean = () => true): void {
    this.tick();
    this.#timer = setInterval(() => {
      if (wanted()) this.tick();
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Stops polling and forgets the listeners. */
  stop(): void {
    clearInterval(this.#timer);
    this.#listeners.clear();
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
    const added: BanRow[] = [];
    let present = 0;
    for (const [ip, b] of this.source.bans) {
      if (!isActive(b, now)) continue;
      present++;
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
    const diff = { added, removed };
    if (added.length > 0 || removed.length > 0) for (const fn of this.#listeners) fn(diff);
    return diff;
  }
}
