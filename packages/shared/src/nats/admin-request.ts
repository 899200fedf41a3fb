import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { AdminError, anyCause, NatsError } from '../errors.js';
import { adminSubject } from '../subjects.js';
import { decodeAdminReply, encodeAdminRequest } from '../proto/codec.js';
import type { AdminReply, AdminRequest } from '../model/admin.js';
import { loadNats } from './nats-module.js';

/**
 * Header naming who sends an admin request (`user@host` for `fleetban` on the command line), for
 * the controller's audit log lines. Told by the client, not proven: what NATS proves is the
 * credentials, which alone decide whether the verb's subject may be published to.
 */
export const ADMIN_CLIENT_HEADER = 'Fleetban-Client';

/** Longest {@link ADMIN_CLIENT_HEADER} value the controller logs (a longer one is cut). */
const CLIENT_CHARS = 128;

/** How long a request waits before it is sent again while no controller is subscribed, in ms. */
const NO_RESPONDERS_RETRY_MS = 100;

/**
 * Sends one admin request to the controller and returns its reply; a refusal is an {@link AdminError}.
 * `by` (who asks, e.g. `root@web-1`) goes in the {@link ADMIN_CLIENT_HEADER} header when given.
 * While no controller is subscribed (NATS answers "no responders": one is starting, taking over,
 * or reconnecting after the loss of its server, and the cluster has not heard of it again yet)
 * the request is sent again until `timeoutMs` has passed.
 */
export async function adminRequest(nc: NatsConnection, req: AdminRequest, timeoutMs = 5000, by?: string): Promise<AdminReply> {
  const until = Date.now() + timeoutMs;
  let bytes: Uint8Array;
  for (;;) {
    try {
      const opts: { timeout: number; headers?: ReturnType<ReturnType<typeof loadNats>['headers']> } = { timeout: Math.max(1, until - Date.now()) };
      if (by) {
        opts.headers = loadNats().headers();
        opts.headers.set(ADMIN_CLIENT_HEADER, by);
      }
      bytes = (await nc.request(adminSubject(req.verb), encodeAdminRequest(req), opts)).data;
      break;
    } catch (cause) {
      if (deniedByPermissions(cause)) throw new NatsError(`these credentials may not ask '${req.verb}' (NATS permissions: a host's key may ask status and banned only; use the admin's)`, { cause });
      const none = noResponders(cause);
      if (none && until - Date.now() > NO_RESPONDERS_RETRY_MS) {
        await new Promise((r) => setTimeout(r, NO_RESPONDERS_RETRY_MS));
        continue;
      }
      throw new NatsError(`the controller did not answer (is \`fleetban controller\` running?)${none ? ': no controller subscribed' : ''}`, { cause });
    }
  }
  const reply = decodeAdminReply(bytes);
  if (!reply.ok) throw new AdminError(reply.error);
  return reply;
}

/** Whether a failed request found nobody subscribed to its subject. */
function noResponders(err: unknown): boolean {
  const { NoRespondersError } = loadNats();
  return anyCause(err, (e) => e instanceof NoRespondersError);
}

/** Whether a failed request was refused by the server's permissions. */
function deniedByPermissions(err: unknown): boolean {
  const { PermissionViolationError } = loadNats();
  return anyCause(err, (e) => e instanceof PermissionViolationError);
}

/** Who sent an admin request, as its {@link ADMIN_CLIENT_HEADER} says (printable, bounded), or `unknown`. */
export function adminClientOf(m: Pick<Msg, 'headers'>): string {
  const told = m.headers?.get(ADMIN_CLIENT_HEADER) ?? '';
  const clean = told.replace(/[^\x21-\x7e]/g, '?').slice(0, CLIENT_CHARS);
  return clean || 'unknown';
}
