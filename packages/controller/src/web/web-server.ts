import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type ListenAddress, listenHttp, type Logger } from '@fleetban/shared';
import { APP_CSS, APP_JS, INDEX_HTML, loginHtml } from './assets/page.js';
import { SESSION_TTL_MS, sessionCookie, WebAuth, type WebSession } from './web-auth.js';
import type { WebAdminResult } from './web-admin.js';

/** What the HTTP layer asks of the view. */
export interface WebHandlers {
  /** Streams the ban list and the figures to `res` as Server-Sent Events until it closes. */
  events(res: ServerResponse): void;
  ban(ip: string, jail: string): Promise<WebAdminResult>;
  unban(ip: string): Promise<WebAdminResult>;
}

/** Headers of every answer: nothing inline runs, nothing is sniffed, no address leaks in a Referer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

/** The header an admin request carries its session's CSRF token in. */
export const CSRF_HEADER = 'x-fleetban-csrf';

/** Longest request body read (a login form, a ban request), in bytes. */
const MAX_BODY = 4096;

/** Idle and header timeouts of a request (an event stream stays open: it sends a comment every 15 s). */
const REQUEST_TIMEOUT_MS = 10_000;

const STATIC: Readonly<Record<string, readonly [string, string]>> = {
  '/app.js': ['text/javascript; charset=utf-8', APP_JS],
  '/app.css': ['text/css; charset=utf-8', APP_CSS],
};

/** A listening web view. */
export interface WebServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens on `at` and answers the web view's routes: `GET /login` and `POST /login` (form field
 * `token`), `POST /logout`, `GET /` (the page; to /login without a session), `/app.js`, `/app.css`,
 * `GET /api/session` (role and CSRF token), `GET /api/events` (the event stream), and for the
 * admin role `POST /api/ban` and `POST /api/unban` (JSON `{"ip": ..., "jail": ...}`, the CSRF
 * header, and a same-origin Origin when the browser sends one). An API request without a session
 * is 401; a read-only session's POST is 403. Rejects with {@link ListenError}.
 */
export async function serveWeb(at: ListenAddress, auth: WebAuth, h: WebHandlers, logger: Logger): Promise<WebServer> {
  const server: Server = createServer({ requestTimeout: 0, headersTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    route(req, res, auth, h).catch((err: unknown) => {
      logger.error({ err, path: req.url }, 'web request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  server.maxHeadersCount = 50;
  return listenHttp(server, at, logger, 'web view', {}, 'serving the web view');
}

async function route(req: IncomingMessage, res: ServerResponse, auth: WebAuth, h: WebHandlers): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] as string;
  const method = req.method ?? 'GET';
  const get = method === 'GET' || method === 'HEAD';
  if (path === '/login' && get) return send(res, 200, 'text/html; charset=utf-8', loginHtml(''));
  if (path === '/login' && method === 'POST') return login(req, res, auth);
  if (path === '/favicon.ico') return send(res, 204, 'text/plain; charset=utf-8', '');
  const file = STATIC[path];
  if (file && get) return send(res, 200, file[0], file[1]);
  const session = auth.session(req.headers.cookie);
  if (path === '/logout' && method === 'POST') {
    auth.close(req.headers.cookie);
    res.setHeader('Set-Cookie', sessionCookie('', 0));
    return redirect(res, '/login');
  }
  if (path === '/' && get) return session ? send(res, 200, 'text/html; charset=utf-8', INDEX_HTML) : redirect(res, '/login');
  if (!path.startsWith('/api/')) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  if (!session) return json(res, 401, { error: 'log in first' });
  if (path === '/api/session' && get) return json(res, 200, { role: session.role, csrf: session.csrf });
  if (path === '/api/events' && get) return h.events(res);
  if ((path === '/api/ban' || path === '/api/unban') && method === 'POST') return admin(req, res, session, path === '/api/ban', h);
  return json(res, 404, { error: 'not found' });
}

/** `POST /login`: a form with `token`; a session cookie and the page on success, 401 and the form again otherwise. */
async function login(req: IncomingMessage, res: ServerResponse, auth: WebAuth): Promise<void> {
  if (!sameOrigin(req)) return send(res, 403, 'text/plain; charset=utf-8', 'cross-origin login refused\n');
  const body = await readBody(req);
  const token = body === null ? '' : (new URLSearchParams(body).get('token') ?? '');
  const role = auth.roleOf(token);
  if (!role) return send(res, 401, 'text/html; charset=utf-8', loginHtml('That token is not valid.'));
  res.setHeader('Set-Cookie', sessionCookie(auth.open(role), SESSION_TTL_MS));
  return redirect(res, '/');
}

/** An admin POST: admin role, same origin, the CSRF header, a JSON body. */
async function admin(req: IncomingMessage, res: ServerResponse, session: WebSession, ban: boolean, h: WebHandlers): Promise<void> {
  if (session.role !== 'admin') return json(res, 403, { error: 'this token may only read' });
  if (!sameOrigin(req)) return json(res, 403, { error: 'cross-origin request refused' });
  const csrf = req.headers[CSRF_HEADER];
  if (!WebAuth.csrfMatches(session, typeof csrf === 'string' ? csrf : undefined)) return json(res, 403, { error: 'missing or wrong CSRF token' });
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return json(res, 415, { error: 'send JSON' });
  const body = await readBody(req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return json(res, 400, { error: 'the body is not JSON' });
  }
  const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const ip = typeof o.ip === 'string' ? o.ip : '';
  const jail = typeof o.jail === 'string' ? o.jail : '';
  if (ip === '') return json(res, 400, { error: 'name an address' });
  const r = ban ? await h.ban(ip, jail) : await h.unban(ip);
  return json(res, r.ok ? 200 : 409, r);
}

/**
 * False when the request names another origin. No Origin, or `null` (what a browser sends for a
 * form POST under `Referrer-Policy: no-referrer`), is let through: the SameSite=Strict cookie and
 * the CSRF header are what stop a cross-site admin request; this is one more check.
 */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return true;
  return origin === `http://${req.headers.host ?? ''}`;
}

/** The body as text, or null when longer than {@link MAX_BODY}. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY) return null;
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function redirect(res: ServerResponse, to: string): void {
  res.writeHead(303, { Location: to, 'Content-Length': 0 });
  res.end();
}
