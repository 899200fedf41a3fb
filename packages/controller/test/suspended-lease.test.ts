// While the controller's lease is not renewed (suspended: another controller may be active), the
// parts that write for the fleet or answer for it do nothing: expiries, history purges and the web
// page's ban and unban; admin requests wait for the renewal.
import t from 'tap';
import { silentLogger } from '@fleetban/shared';
import { AdminService, type AdminDeps } from '../src/admin/admin-service.js';
import { BanExpiry } from '../src/expire/ban-expiry.js';
import { CounterSet } from '../src/metrics/counter-set.js';
import type { BanStore } from '../src/store/ban-store.js';
import { HistoryPurge } from '../src/store/history-purge.js';
import { WebAdmin, type WebAdminDeps } from '../src/web/web-admin.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A store that only records what it was asked (the parts under test call nothing else first). */
function recordingStore(asked: string[]): BanStore {
  return {
    expired: () => (asked.push('expired'), []),
    purgeable: () => (asked.push('purgeable'), []),
    ban: async () => void asked.push('ban'),
    unban: async () => (asked.push('unban'), false),
  } as unknown as BanStore;
}

t.test('expiries and purges wait for the lease to be renewed', async (t) => {
  const asked: string[] = [];
  const lease = { renewed: false };
  const expiry = new BanExpiry(recordingStore(asked), Date.now, silentLogger());
  const purge = new HistoryPurge(recordingStore(asked), Date.now, 1_000, silentLogger());
  expiry.start(20, lease);
  purge.start(lease);
  t.teardown(() => (expiry.stop(), purge.stop()));
  await sleep(1_300);
  t.same(asked, [], 'nothing swept while suspended');
  lease.renewed = true;
  for (let i = 0; i < 150 && !(asked.includes('expired') && asked.includes('purgeable')); i++) await sleep(20);
  t.ok(asked.includes('expired'), 'expiries swept once renewed');
  t.ok(asked.includes('purgeable'), 'history purged once renewed');
});

t.test('a suspended controller answers an admin request once renewed, none once lost; the page changes nothing', async (t) => {
  const asked: string[] = [];
  let renew = (): void => undefined;
  const lease = { renewed: false, whenRenewed: () => new Promise<void>((resolve) => (renew = resolve)) };
  const counters = new CounterSet();
  let deliver: ((err: Error | null, m: unknown) => void) | undefined;
  const nc = { subscribe: (_s: string, o: { callback: typeof deliver }) => ((deliver = o.callback), { unsubscribe() {} }) };
  const admin = new AdminService({ store: recordingStore(asked), counters, clock: Date.now, logger: silentLogger() } as unknown as AdminDeps);
  admin.start(nc as never, lease);
  let replies = 0;
  // a malformed request: its reply is an error, and nothing is asked of the store
  const request = () => deliver?.(null, { subject: 'fleetban.admin.ban', data: new Uint8Array([0xff]), respond: () => void replies++, headers: undefined });
  request();
  await sleep(10);
  t.equal(replies, 0, 'no reply while suspended: the request waits');
  lease.renewed = true;
  renew();
  await sleep(10);
  t.equal(replies, 1, 'answered once the lease is renewed');
  t.equal(counters.get('admin.suspended'), 0);

  lease.renewed = false;
  request();
  await sleep(10);
  renew(); // the lease lost: renewed stays false
  await sleep(10);
  t.equal(replies, 1, 'lost: not answered (the active controller answers)');
  t.equal(counters.get('admin.suspended'), 1, 'counted');

  const page = new WebAdmin({ store: recordingStore(asked), counters, clock: Date.now, logger: silentLogger(), lease } as unknown as WebAdminDeps);
  const ban = await page.ban('198.51.100.7');
  const unban = await page.unban('198.51.100.7');
  t.equal(ban.ok, false);
  t.match(ban.ok ? '' : ban.error, /lease is not renewed/);
  t.equal(unban.ok, false);
  t.same(asked, [], 'the store was not asked');
});
