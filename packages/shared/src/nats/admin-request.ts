import type { NatsConnection } from '@nats-io/transport-node';
import { AdminError, NatsError } from '../errors.js';
import { adminSubject } from '../subjects.js';
import { decodeAdminReply, encodeAdminRequest } from '../proto/codec.js';
import type { AdminReply, AdminRequest } from '../model/admin.js';

/** Sends one admin request to the controller and returns its reply; a refusal is an {@link AdminError}. */
export async function adminRequest(nc: NatsConnection, req: AdminRequest, timeoutMs = 5000): Promise<AdminReply> {
  let bytes: Uint8Array;
  try {
    bytes = (await nc.request(adminSubject(req.verb), encodeAdminRequest(req), { timeout: timeoutMs })).data;
  } catch (cause) {
    throw new NatsError('the controller did not answer (is `fleetban controller` running?)', { cause });
  }
  const reply = decodeAdminReply(bytes);
  if (!reply.ok) throw new AdminError(reply.error);
  return reply;
}
