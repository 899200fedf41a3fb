/**
 * One HTTP request of a built-in action, with Node's global fetch and a timeout. Failures become
 * {@link ActionError}s here: a network error, a timeout, a 5xx, 408 or 429 can succeed later
 * (retryable); any other 4xx cannot, nor can a redirect (not followed: a moved endpoint is a
 * configuration to fix). Messages name the action's `label`, never the URL (a
 * Telegram token is part of its path).
 */

import { ActionError } from './types.js';

/** One request. */
export interface HttpCall {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** What is asking, for errors: `webhook`, `cloudflare unban`. */
  readonly label: string;
  /** Statuses (beyond 2xx) that count as success, e.g. 404 for a DELETE. */
  readonly accept?: readonly number[];
}

/** The answer of a successful request. */
export interface HttpAnswer {
  readonly status: number;
  readonly text: string;
}

/** True for a status worth trying again: 5xx, 408, 429. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Makes the request; resolves for 2xx and `accept`ed statuses, else rejects with ActionError. */
export async function httpCall(c: HttpCall): Promise<HttpAnswer> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(c.url, {
      method: c.method,
      headers: c.headers,
      body: c.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(c.timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${c.timeoutMs} ms` : e.cause?.code ?? e.message;
    throw new ActionError(`${c.label}: request failed: ${why}`, true, { cause: err });
  }
  if ((res.status >= 200 && res.status < 300) || c.accept?.includes(res.status)) return { status: res.status, text };
  const snippet = text.trim().slice(0, 200);
  throw new ActionError(`${c.label}: HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`, isRetryableStatus(res.status));
}
