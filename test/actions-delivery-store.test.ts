// The store as the one owner of ban events, and the action queue it journals to, on a real
// nats-server: each write is told once to typed listeners after it succeeded, the journal is
// written in parallel with the list and holds the write until it is durable, a failed journal
// write is retried with the same ban, and the stream stores an event once however often it is queued.
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { ACTIONS_STREAM, type ActionRunner, type BanDecision, type BanEvent, BanGuard, ensureActionsStream, NatsError, queuedActions, silentLogger } from '@fleetban/shared';
import { jetstreamManager } from '@nats-io/jetstream';
import { ActionQueue } from '../packages/controller/src/actions/action-queue.js';
import { CounterSet } from '../packages/controller/src/metrics/counter-set.js';
import { BanStore } from '../packages/controller/src/store/ban-store.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { startNatsServer } from './fixtures/nats-server.js';

const NOW = Date.now();
const ban = (ip: string, over: Partial<BanDecision> = {}): BanDecision => ({
  ip, jail: 'sshd', atMs: NOW, expiresMs: NOW + 3_600_000, reason: 'threshold', banCount: 1, hosts: ['web1'], matches: ['line'], failures: 3, scope: [], id: `web1:sshd:${ip}`, user: 'root', ...over,
});

t.test('the store tells each ban event once, after the write; the journal runs beside the write and holds it', async (t) => {
  const nats = await startNatsServer(t);
  const nc = await controllerClient(t, nats.url, 'test', testDir(t));
  const store = await BanStore.open(nc, new BanGuard([]), silentLogger());
  const told: BanEvent[] = [];
  store.onEvent(() => {
    throw new Error('a broken listener');
  });
  store.onEvent((e) => told.push(e));

  let release = (): void => undefined;
  let failNext = false;
  let holdNext = true;
  const journaled: string[] = [];
  store.useJournal(async (e) => {
    journaled.push(e.id);
    if (failNext) {
      failNext = false;
      throw new NatsError('stream away');
    }
    if (holdNext) {
      holdNext = false;
      await new Promise<void>((r) => (release = r));
    }
  });

  const writing = store.ban(ban('192.0.2.1'));
  let done = false;
  void writing.then(() => (done = true));
  await t.resolves(async () => {
    while (!store.bans.has('192.0.2.1')) await new Promise((r) => setTimeout(r, 5));
  }, 'the list is written while the journal is still writing (in parallel)');
  t.equal(done, false, 'the write resolves only once the journal holds the event');
  release();
  await writing;
  t.same(told.map((e) => [e.kind, e.id]), [['ban', 'ban:web1:sshd:192.0.2.1']], 'told once, with the ban id, despite a listener that throws');

  await store.ban({ ...ban('192.0.2.1'), hosts: ['web1', 'web2'] });
  t.equal(told.length, 1, 'the same ban written again (widened) is no new event');

  failNext = true;
  await t.rejects(store.ban(ban('192.0.2.2')), { code: 'NATS' }, 'a journal that fails fails the write (the failure handler retries it)');
  t.equal(told.length, 2, 'the ban was stored and told');
  await store.ban(ban('192.0.2.2'));
  t.same(journaled.filter((id) => id === 'ban:web1:sshd:192.0.2.2').length, 2, 'the retry journals the event again');
  t.equal(told.length, 2, 'but does not tell it again');

  await store.ban(ban('192.0.2.1', { reason: 'manual', id: undefined, jail: 'manual-jail' }));
  const [lifted, manual] = told.slice(2);
  t.match(lifted, { kind: 'unban', id: 'unban:web1:sshd:192.0.2.1', why: undefined }, 'a ban replaced by another is lifted');
  t.match(manual?.id, new RegExp(`^ban:manual:192\\.0\\.2\\.1:${NOW}:[0-9a-f]{8}$`), 'a manual ban gets manual:<ip>:<at>:<random>');
  t.match(store.bans.get('192.0.2.1')?.id, /^manual:/, 'and is stored with it');

  await store.unban('192.0.2.1', NOW + 1);
  await store.unban('192.0.2.2', NOW + 2, 'expired');
  t.match(told.slice(4), [{ kind: 'unban', why: 'admin', atMs: NOW + 1 }, { kind: 'unban', why: 'expired', atMs: NOW + 2, id: 'unban:web1:sshd:192.0.2.2' }], 'unbans, by admin and by expiry');
  t.equal(await store.unban('192.0.2.9', NOW), false, 'nothing to lift: no event');
  await store.ban(ban('192.0.2.3'));
  await store.ban(ban('192.0.2.4', { jail: 'web' }));
  await store.unbanAll('web', NOW);
  t.match(told.at(-1), { kind: 'unban', why: 'admin', ban: { ip: '192.0.2.4' } }, 'unban --all: admin');
  t.equal(told.length, 9, 'one event per write, nothing else');
});

t.test('the action queue: one message per action of the jail; the same event queued again is stored once', async (t) => {
  const nats = await startNatsServer(t);
  const nc = await controllerClient(t, nats.url, 'test', testDir(t));
  await ensureActionsStream(nc, { replicas: 1 });
  const info = await (await jetstreamManager(nc)).streams.info(ACTIONS_STREAM);
  t.match(info.config, { retention: 'workqueue', subjects: ['fleetban.actions.>'], num_replicas: 1 }, 'a work queue on fleetban.actions.>');
  t.ok(info.config.duplicate_window >= 10 * 60 * 1e9, 'a duplicate window of 10 minutes or more');
  const runner = (name: string, jail: string): ActionRunner => ({ name, jail, site: 'controller', start: async () => {}, stop: async () => {}, run: async () => {} });
  const queue = new ActionQueue(nc, [runner('a', 'sshd'), runner('b', 'sshd'), runner('a', 'web')], new CounterSet(), silentLogger());
  t.teardown(() => queue.close());
  const e: BanEvent = { kind: 'ban', id: 'ban:x', ban: ban('192.0.2.7'), atMs: NOW };
  await queue.record(e);
  await queue.record(e); // a controller taking over decides the same ban and queues it again
  await queue.record({ ...e, ban: ban('192.0.2.8', { jail: 'nginx' }) });
  t.equal(await queuedActions(nc), 2, 'two actions of sshd: two messages, each once; a jail without actions: none');
  const jsm = await jetstreamManager(nc);
  const [first, second] = [await jsm.streams.getMessage(ACTIONS_STREAM, { seq: 1 }), await jsm.streams.getMessage(ACTIONS_STREAM, { seq: 2 })];
  const subjects = [first?.subject, second?.subject].sort();
  t.same(subjects, ['fleetban.actions.sshd.0', 'fleetban.actions.sshd.1'], 'fleetban.actions.<jail>.<index>');
  t.equal(first?.header.get('Nats-Msg-Id').replace(/^b:/, 'a:'), 'a:ban:x', 'message id <action>:<event id>');
});
