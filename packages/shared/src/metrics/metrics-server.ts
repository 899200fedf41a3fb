/**
 * The HTTP endpoint Prometheus scrapes: `GET /metrics` on the configured listen address, nothing
 * else. The controller and the agent each hand it a function that renders their registry; this
 * module knows HTTP, not metrics.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/types.js';
import { ListenError } from '../errors.js';
import type { Logger } from '../log/logger.js';

/** A rendered exposition: its content type and text. */
export interface MetricsPage {
  readonly contentType: string;
  readonly body: string;
}

/** A listening metrics endpoint. */
export interface MetricsServer {
  /** The port actually bound (the configured one). */
  readonly port: number;
  /** Stops listening and ends open connections; resolves once closed. */
  close(): Promise<void>;
}

/** The only path served. */
export const METRICS_PATH = '/metrics';

/** How long a scrape connection may stay idle or take to send its request, in ms. */
const REQUEST_TIMEOUT_MS = 10_000;

/** `host:port`, with brackets around an IPv6 address. */
export function listenText(a: ListenAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * Listens on `at` and answers `GET /metrics` (or `HEAD`) with `render()`; any other path is 404,
 * any other method 405, a render that throws 500 (logged). Rejects with {@link ListenError} when
 * the address cannot be bound.
 */
export async function serveMetrics(at: ListenAddress, render: () => Promise<MetricsPage>, logger: Logger): Promise<MetricsServer> {
  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS }, (req, res) => void answer(req, res, render, logger));
  server.keepAliveTimeout = REQUEST_TIMEOUT_MS;
  server.maxHeadersCount = 50;
  return listenHttp(server, at, logger, 'metrics endpoint', { path: METRICS_PATH }, 'serving Prometheus metrics');
}

/** A listening HTTP server: its bound port, and how to close it. */
export interface HttpListener {
  /** The port actually bound. */
  readonly port: number;
  /** Stops listening and ends open connections; resolves once closed. */
  close(): Promise<void>;
}

/**
 * Binds `server` to `at` (rejecting with {@link ListenError} when it cannot), logs later server
 * errors as `<what> error` and, once bound, `serving` with the address and `fields`.
 */
export async function listenHttp(server: Server, at: ListenAddress, logger: Logger, what: string, fields: Record<string, unknown>, serving: string): Promise<HttpListener> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ListenError(listenText(at), { cause: err })));
    server.listen(at.port, at.host, () => resolve());
  });
  server.on('error', (err) => logger.error({ err }, `${what} error`));
  const port = (server.address() as AddressInfo).port;
  logger.info({ address: listenText(at), ...fields }, serving);
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, render: () => Promise<MetricsPage>, logger: Logger): Promise<void> {
  const path = (req.url ?? '').split('?')[0];
  if (path !== METRICS_PATH) return plain(res, 404, 'not found: metrics are at /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return plain(res, 405, 'method not allowed\n');
  }
  let page: MetricsPage;
  try {
    page = await render();
  } catch (err) {
    logger.error({ err }, 'metrics could not be rendered');
    return plain(res, 500, 'metrics could not be rendered\n');
  }
  res.writeHead(200, { 'Content-Type': page.contentType, 'Content-Length': Buffer.byteLength(page.body) });
  res.end(req.method === 'HEAD' ? undefined : page.body);
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Serves like {@link serveMetrics} when `at` is set; an address that cannot be bound is logged as
 * an error and undefined returned: the daemon goes on without metrics (protection never waits on
 * them). Null `at` (metrics off) returns undefined.
 */
export async function serveMetricsIfSet(at: ListenAddress | null, render: () => Promise<MetricsPage>, logger: Logger): Promise<MetricsServer | undefined> {
  if (!at) return undefined;
  try {
    return await serveMetrics(at, render, logger);
  } catch (err) {
    if (!(err instanceof ListenError)) throw err;
    logger.error({ err, address: err.address }, 'metrics not served: running without them');
    return undefined;
  }
}
