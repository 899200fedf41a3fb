import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { FleetbanError } from '@fleetban/shared';

/** What a session may do: read the page, or also ban and unban. */
export type WebRole = 'read' | 'admin';

/** A web token that cannot be used: its file cannot be read, or it is too short. */
export class WebTokenError extends FleetbanError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WEB_TOKEN', message, options);
  }
}

/** The shortest token accepted (the same rule as an inline token in the configuration). */
const MIN_TOKEN_CHARS = 16;

/** How long a login lasts, in ms. */
export const SESSION_TTL_MS = 12 * 3_600_000;

/** Sessions held at once; logging in beyond this ends the oldest. */
const MAX_SESSIONS = 1_000;

/** The session cookie's name. */
export const SESSION_COOKIE = 'fleetban_session';

/**
 * A token as configured (`web_token`, `web_admin_token`): `file:/path` is read (first line,
 * trimmed: a file written with a final newline works), anything else is the token; '' stays ''
 * (not set). Throws {@link WebTokenError}.
 */
export async function resolveToken(key: string, value: string): Promise<string> {
  if (value === '') return '';
  let token = value;
  if (value.startsWith('file:')) {
    const path = value.slice('file:'.length);
    try {
      token = ((await readFile(path, 'utf8')).split('\n')[0] ?? '').trim();
    } catch (err) {
      throw new WebTokenError(`${key}: cannot read ${path}`, { cause: err });
    }
  }
  if (token.length < MIN_TOKEN_CHARS) throw new WebTokenError(`${key}: a token of at least ${MIN_TOKEN_CHARS} characters is needed`);
  return token;
}

/** A logged-in browser: its role and the token its admin requests carry in a header (CSRF). */
export interface WebSession {
  readonly role: WebRole;
  readonly csrf: string;
  readonly expiresMs: number;
}

/**
 * The view's tokens and its sessions. A token given at login is compared with both tokens in
 * constant time (both SHA-256 digests are compared whatever the input, so neither the length nor
 * the first differing byte shows in the time taken). A session is a random id in an HttpOnly,
 * SameSite=Strict cookie, held in memory only: a restarted controller asks for the token again.
 */
export class WebAuth {
  readonly #read: Buffer;
  readonly #admin: Buffer | null;
  readonly #sessions = new Map<string, WebSession>();

  /** `readToken` must be set; `adminToken` may be '' (no one may ban from the page). */
  constructor(readToken: string, adminToken: string, private readonly clock: () => number) {
    this.#read = digest(readToken);
    this.#admin = adminToken === '' ? null : digest(adminToken);
  }

  /** The role `token` grants, or null. */
  roleOf(token: string): WebRole | null {
    const given = digest(token);
    const admin = this.#admin !== null && timingSafeEqual(given, this.#admin);
    const read = timingSafeEqual(given, this.#read);
    return admin ? 'admin' : read ? 'read' : null;
  }

  /** Starts a session for `role`; returns its id (the cookie's value). */
  open(role: WebRole): string {
    const id = randomBytes(32).toString('base64url');
    if (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value as string);
    this.#sessions.set(id, { role, csrf: randomBytes(24).toString('base64url'), expiresMs: this.clock() + SESSION_TTL_MS });
    return id;
  }

  /** The live session of a request's Cookie header, or undefined. */
  session(cookieHeader: string | undefined): WebSession | undefined {
    const id = cookieOf(cookieHeader, SESSION_COOKIE);
    if (!id) return undefined;
    const s = this.#sessions.get(id);
    if (!s) return undefined;
    if (s.expiresMs <= this.clock()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return s;
  }

  /** Ends the session of a Cookie header (logout). */
  close(cookieHeader: string | undefined): void {
    const id = cookieOf(cookieHeader, SESSION_COOKIE);
    if (id) this.#sessions.delete(id);
  }

  /** True when `given` is the session's CSRF token (constant time). */
  static csrfMatches(s: WebSession, given: string | undefined): boolean {
    return given !== undefined && timingSafeEqual(digest(given), digest(s.csrf));
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** The value of cookie `name` in a Cookie header. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie value of a session (`maxAgeMs` 0 ends it). */
export function sessionCookie(id: string, maxAgeMs: number): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}
