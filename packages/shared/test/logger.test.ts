// The process logger's output, as a producer of log lines sees it: the backlog and its writes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createLogger, flushLogs, logOutput } from '../src/log/logger.js';

t.test('lines logged wait in the backlog until written; each completed write is told', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fb-logger-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'out.log');
  const log = createLogger({ component: 'test', destination: file });
  await new Promise((r) => setTimeout(r, 50)); // the file opens
  let writes = 0;
  const unlisten = logOutput.onWrite(() => { writes++; });
  for (let i = 0; i < 2000; i++) log.info({ i }, 'failure');
  t.ok(logOutput.backlogBytes() > 0, 'logged, not written yet');
  await flushLogs();
  t.equal(logOutput.backlogBytes(), 0, 'all written');
  t.ok(writes > 0, 'writes told');
  t.ok(logOutput.msSinceWrite() < 2000);
  unlisten();
  const before = writes;
  log.info('one more');
  await flushLogs();
  t.equal(writes, before, 'not told once unlistened');
  t.equal(readFileSync(file, 'utf8').trim().split('\n').length, 2001);
});
