import type { ServerResponse } from 'node:http';
import { type BanGuard, type Clock, type ControllerConfig, FleetbanError, type Logger } from '@fleetban/shared';
import type { JailTrackers } from '../aggregate/jail-tracker.js';
import type { HostRegistry } from '../fleet/host-registry.js';
import type { Renewal } from '../lease/controller-lease.js';
import type { CounterSet } from '../metrics/counter-set.js';
import type { BanStore } from '../store/ban-store.js';
import { BanFeed, type BanDiff, banRow } from './ban-feed.js';
import { FleetSeries } from './fleet-series.js';
import { fleetSummary, PrefixCache } from './fleet-summary.js';
import { WebAdmin } from './web-admin.js';
import { resolveToken, WebAuth } from './web-auth.js';
import { serveWeb, type WebServer } from './web-server.js';

/** What the web view reads and, for an admin, changes. */
export interface WebViewDeps {
  readonly store: BanStore;
  readonly trackers: JailTrackers;
  readonly hosts: HostRegistry;
  readonly guard: BanGuard;
  readonly counters: CounterSet;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The page's ban and unban change nothing while it is not renewed. */
  readonly lease?: Renewal;
}

/** Bans in the first event when a page opens: a screenful and more, drawn at once. */
const FIRST_CHUNK_ROWS = 500;
/** Bans per event after the first (the initial list is sent in chunks the page shows as they come). */
const CHUNK_ROWS = 5_000;
/** How often an open page gets the figures (jails, hosts, tops, chart), in ms. */
const SUMMARY_MS = 2_000;
/** How often the failures and bans per minute are sampled, in ms. */
const SAMPLE_MS = 5_000;
/** A comment line every so often keeps proxies and the browser from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** Bytes queued to one page beyond which it is dropped (a stalled browser must not hold memory). */
const MAX_QUEUED = 64 * 1024 * 1024;

/**
 * The web view of the fleet (docs/web.md): served on `[controller] web` when that and
 * `web_token` are set. It owns no state of the fleet: the ban list comes from the store through
 * the {@link BanFeed} (diffs pushed to every open page as Server-Sent Events), the figures from
 * the trackers, the host registry and the counters, and a ban or unban goes through
 * {@link WebAdmin}, the admin service's path.
 */
export class WebView {
  readonly #clients = new Set<ServerResponse>();
  readonly #prefixes = new PrefixCache();
  readonly #feed: BanFeed;
  readonly #series: FleetSeries;
  readonly #admin: WebAdmin;
  readonly #timers: NodeJS.Timeout[] = [];
  #server: WebServer | undefined;

  private constructor(private readonly d: WebViewDeps) {
    this.#feed = new BanFeed(d.store, d.clock);
    this.#series = new FleetSeries(d.counters);
    this.#admin = new WebAdmin(d);
  }

  /**
   * Starts the view when `c.web` is set. A token that cannot be read, a missing `web_token` or an
   * address that cannot be bound is logged as an error and undefined returned: the controller
   * goes on without its page (decisions never wait on it).
   */
  static async startIfSet(c: ControllerConfig, d: WebViewDeps): Promise<WebView | undefined> {
    if (!c.web) return undefined;
    try {
      const read = await resolveToken('web_token', c.webToken);
      if (read === '') {
        d.logger.error('[controller] web is set but web_token is not: the web view is not served');
        return undefined;
      }
      const auth = new WebAuth(read, await resolveToken('web_admin_token', c.webAdminToken), d.clock);
      const view = new WebView(d);
      view.#server = await serveWeb(c.web, auth, { events: (res) => view.#stream(res), ban: (ip, jail) => view.#admin.ban(ip, jail), unban: (ip) => view.#admin.unban(ip) }, d.logger);
      view.#start();
      return view;
    } catch (err) {
      if (!(err instanceof FleetbanError)) throw err;
      d.logger.error({ err }, 'web view not served: running without it');
      return undefined;
    }
  }

  /** The port bound. */
  get port(): number {
    return this.#server?.port ?? 0;
  }

  /** Stops serving and ends every open page's stream. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#feed.stop();
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    await this.#server?.close();
  }

  #start(): void {
    this.#feed.start(() => this.#clients.size > 0);
    this.#feed.subscribe((diff) => this.#broadcast('bans', diffJson(diff)));
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.#timers.push(t);
    };
    this.#series.sample(this.d.clock());
    every(SAMPLE_MS, () => this.#series.sample(this.d.clock()));
    every(SUMMARY_MS, () => {
      if (this.#clients.size > 0) this.#broadcast('summary', this.#summary());
    });
    every(KEEPALIVE_MS, () => {
      for (const res of this.#clients) res.write(': keepalive\n\n');
    });
  }

  /**
   * Opens one page's stream: the whole list in chunks, newest first (a small first chunk: the
   * rows in sight are drawn before the rest arrives), the figures, then diffs as they come. The
   * chunks are written one at a time, waiting for the socket to drain, so the first reaches the
   * page at once and a 100,000-ban list is never queued whole; diffs made meanwhile are held
   * and sent after it.
   */
  #stream(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'X-Accel-Buffering': 'no' });
    res.socket?.setTimeout(0);
    res.socket?.setNoDelay(true);
    // the feed pauses while no page is open: bring it up to date (listeners hear what changed)
    if (this.#clients.size === 0) this.#feed.tick();
    write(res, 'reset', JSON.stringify({ total: this.#feed.size }));
    const all = [...this.#feed.current()].reverse();
    const held: string[] = [];
    const stopHolding = this.#feed.subscribe((d) => held.push(diffJson(d)));
    res.on('close', () => {
      stopHolding();
      this.#clients.delete(res);
    });
    let i = 0;
    let n = FIRST_CHUNK_ROWS;
    const next = (): void => {
      if (res.destroyed) return;
      if (i < all.length) {
        const rows = all.slice(i, i + n).map(banRow);
        i += n;
        n = CHUNK_ROWS;
        if (write(res, 'older', JSON.stringify({ added: rows, removed: [] }))) setImmediate(next);
        else res.once('drain', next);
        return;
      }
      stopHolding();
      for (const d of held) write(res, 'bans', d);
      write(res, 'summary', this.#summary());
      this.#clients.add(res);
    };
    next();
  }

  #broadcast(event: string, data: string): void {
    for (const res of this.#clients) {
      if (res.writableLength > MAX_QUEUED) {
        this.d.logger.warn({ queued: res.writableLength }, 'a web page stopped reading its event stream: dropped');
        res.destroy();
        this.#clients.delete(res);
        continue;
      }
      write(res, event, data);
    }
  }

  #summary(): string {
    this.#series.sample(this.d.clock());
    return JSON.stringify(fleetSummary({ trackers: this.d.trackers, hosts: this.d.hosts, series: this.#series }, this.#feed.current(), this.d.clock(), this.#prefixes));
  }
}

function diffJson(d: BanDiff): string {
  return JSON.stringify({ added: d.added, removed: d.removed });
}

/** Writes one Server-Sent Event (`data` is JSON: one line, no newline inside); false when the socket's buffer is full. */
function write(res: ServerResponse, event: string, data: string): boolean {
  return res.write(`event: ${event}\ndata: ${data}\n\n`);
}
