// A nats-server with JetStream (file storage under `store`) on 127.0.0.1:`port`, for a bench.
import { spawn } from 'node:child_process';

/** Starts it; resolves with the child process once the server says it is ready (10 s at most). */
export async function startNats(port, store) {
  const proc = spawn('nats-server', ['-js', '-sd', store, '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`nats-server did not start: ${err}`)), 10_000);
    proc.stderr.on('data', (d) => {
      err += d.toString();
      if (err.includes('Server is ready')) { clearTimeout(timer); resolve(); }
    });
  });
  return proc;
}
