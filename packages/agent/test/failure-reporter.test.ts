// The reporter against a real nats-server: a burst faster than the stream acknowledges holds
// reading back (the read gate) instead of spilling to the spool, and every failure is published.
import { join } from 'node:path';
import t from 'tap';
import { connectFleet, ensureEventsStream, type FailureEvent, parseConfig, silentLogger } from '@fleetban/shared';
import { FailureReporter } from '../src/report/failure-reporter.js';
import { startNatsServer } from '../../../test/fixtures/nats-server.js';
import { waitUntil } from '../../../test/fixtures/wait-until.js';

const failure = (i: number): FailureEvent => ({
  id: `web-1:sshd:burst:${i}`, host: 'web-1', jail: 'sshd', ip: `198.18.${i >> 8}.${i & 255}`, timeMs: Date.now(), user: 'root',
  line: `Dec  5 05:00:00 web-1 sshd[10]: Failed password for root from 198.18.${i >> 8}.${i & 255} port 22 ssh2`,
});

t.test('a burst while publishing works: reading waits at two windows, nothing is spooled, all is published', async (t) => {
  const dir = t.testdir({ state: {} });
  const nats = await startNatsServer(t);
  const conf = `[fleetban]\nhost = web-1\nnats = ${nats.url}\nstate_dir = ${join(dir, 'state')}\n`;
  const nc = await connectFleet(parseConfig(conf, join(dir, 'agent.conf')).fleet, { name: 'test', role: 'agent', logger: silentLogger() });
  t.teardown(() => nc.close());
  await ensureEventsStream(nc, 3_600_000);
  const reporter = new FailureReporter({ buffer: 1000, stateDir: join(dir, 'state'), spoolBytes: 1 << 20, window: 100 }, silentLogger());
  t.teardown(() => reporter.stop());
  reporter.attach(nc);

  // a reader that honours the gate, like a log source: it reads (reports) only while the gate is open
  const total = 5000;
  let sent = 0;
  let held = 0;
  let maxQueued = 0;
  await new Promise<void>((resolve) => {
    const read = (): void => {
      while (sent < total && !reporter.gate.blocked) {
        reporter.report(failure(sent++));
        maxQueued = Math.max(maxQueued, reporter.counters.buffered);
      }
      if (sent >= total) return resolve();
      held++;
      reporter.gate.whenOpen(read);
    };
    read();
  });
  await waitUntil(async () => reporter.counters.published === total, `${total} failures published`);
  t.ok(held > 0, 'reading was held back while the stream acknowledged');
  t.ok(maxQueued <= 200, `at most two windows waited in memory (${maxQueued})`);
  t.equal(reporter.counters.spooled, 0, 'nothing spooled');
  t.equal(reporter.counters.buffered, 0);
  t.equal(reporter.gate.blocked, false);
});

t.test('not connected: the gate stays open and failures go on into the spool', async (t) => {
  const dir = t.testdir({ state: {} });
  const reporter = new FailureReporter({ buffer: 100, stateDir: join(dir, 'state'), spoolBytes: 1 << 20, window: 10 }, silentLogger());
  t.teardown(() => reporter.stop());
  let blocked = 0;
  for (let i = 0; i < 500; i++) {
    if (reporter.gate.blocked) blocked++;
    reporter.report(failure(i));
  }
  t.equal(blocked, 0, 'reading never held back');
  t.equal(reporter.counters.buffered, 500);
  t.equal(reporter.counters.spooled, 500, 'past the buffer, memory and everything after it went to the spool');
});
