// A free TCP port on loopback, for the nats-server a bench starts.
import { createServer } from 'node:net';

/** Resolves with a port nothing listens on at the moment (127.0.0.1). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
