// One-pass reads of a KV bucket, as a controller's start makes them, against a real nats-server:
// a pass ends at the bucket's last revision even when that revision is a deletion, and the
// changes after a revision include the deletions.
import t from 'tap';
import { OffenceHistory } from '@fleetban/shared';
import { testDir } from './fixtures/test-dir.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { startNatsServer } from './fixtures/nats-server.js';

t.test('a pass ends when the last revision is a deletion; changes after a revision include deletions', async (t) => {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const nc = await controllerClient(t, nats.url, 'test', dir);
  const history = await OffenceHistory.open(nc);
  const o = { count: 1, lastBanMs: 1, clearedAtMs: 2, endsMs: 2, banTimesMs: [1] };
  await history.save('sshd.v4.198.51.100.1', o);
  const at = (await history.position()).revision;
  await history.save('sshd.v4.198.51.100.2', o);
  await history.remove('sshd.v4.198.51.100.2');
  t.same([...(await history.load()).keys()], ['sshd.v4.198.51.100.1'], 'the whole pass ends, without the forgotten key');
  const changes = [];
  for await (const c of history.changesSince(at)) changes.push(c);
  t.same(changes, [['sshd.v4.198.51.100.2', null]], 'after the first save: the second key, forgotten');
  const none = [];
  for await (const c of history.changesSince((await history.position()).revision)) none.push(c);
  t.same(none, [], 'nothing after the last revision');
});
