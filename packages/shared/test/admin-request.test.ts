// adminRequest against a real nats-server: while no controller is subscribed (one starting, or
// reconnecting after the loss of its server) the request is sent again until its timeout, and
// answered once a controller subscribes; with none at all it fails with a clear error.
import t from 'tap';
import { connect } from '@nats-io/transport-node';
import { adminRequest } from '../src/nats/admin-request.js';
import { adminSubject } from '../src/subjects.js';
import { encodeAdminReply } from '../src/proto/codec.js';
import { NatsError } from '../src/errors.js';
import { startNatsServer } from '../../../test/fixtures/nats-server.js';

const REQUEST = { verb: 'status', jail: '', ip: '', bantimeMs: 0 } as const;
const REPLY = { ok: true, error: '', jails: [], hosts: [], bans: [], malformed: 0, nowMs: 1, counters: { 'events.received': 7 } };

t.test('no controller subscribed yet: sent again until one answers', async (t) => {
  const nats = await startNatsServer(t);
  const asker = await connect({ servers: nats.url });
  const controller = await connect({ servers: nats.url });
  t.teardown(async () => {
    await asker.close();
    await controller.close();
  });
  // the controller subscribes 400 ms after the request is first sent
  setTimeout(() => void controller.subscribe(adminSubject('status'), { callback: (_err, m) => m.respond(encodeAdminReply(REPLY)) }), 400);
  const reply = await adminRequest(asker, REQUEST, 5000);
  t.equal(reply.counters['events.received'], 7, 'the reply of the controller that came');
});

t.test('no controller at all: a NatsError once the timeout has passed, saying none is subscribed', async (t) => {
  const nats = await startNatsServer(t);
  const asker = await connect({ servers: nats.url });
  t.teardown(() => asker.close());
  const err = await adminRequest(asker, REQUEST, 600).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof NatsError, 'a NatsError');
  t.match(String((err as Error).message), /did not answer.*no controller subscribed/);
});
