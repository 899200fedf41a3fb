// The lease's states with a bucket that fails on demand: renewals that fail for a whole lease_ttl
// suspend the controller (it decides nothing), a renewal that goes through again resumes it, and a
// refused one (another controller took the lease) steps it down.
import t from 'tap';
import { type LeaseBucket, silentLogger } from '@fleetban/shared';
import { ControllerLease } from '../src/lease/controller-lease.js';

/** A lease bucket in memory whose writes fail while `down`, and that another holder can take. */
class FakeBucket {
  revision = 0;
  holder = '';
  down = false;
  async read() {
    if (this.down) throw new Error('no responders');
    return this.revision === 0 ? null : { holder: this.holder, revision: this.revision };
  }
  async take(holder: string) {
    return this.swap(holder, this.revision);
  }
  async swap(holder: string, revision: number) {
    if (this.down) throw new Error('no responders');
    if (revision !== this.revision) return null;
    this.holder = holder;
    return ++this.revision;
  }
  async release() {}
}

/** Polls `check` every 10 ms, at most 500 times. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never: ${what}`);
}

t.test('suspended while renewals fail, resumed when one goes through, lost when refused', async (t) => {
  const bucket = new FakeBucket();
  const lease = new ControllerLease(bucket as unknown as LeaseBucket, { holder: 'a', ttlMs: 200, clock: Date.now, logger: silentLogger() });
  t.ok(await lease.acquire(), 'acquired');
  t.ok(lease.renewed, 'renewed at first');
  let lost = '';
  void lease.lost.then((why) => (lost = why));

  bucket.down = true;
  await until(() => !lease.renewed, 'suspended');
  let resumed = false;
  const waiting = lease.whenRenewed().then(() => (resumed = true));
  t.notOk(resumed, 'what waits for a renewal waits');
  t.equal(lost, '', 'not lost: nobody else holds it');

  bucket.down = false;
  await waiting;
  t.ok(lease.renewed, 'renewed again: deciding again');
  t.equal(lost, '', 'still not lost');

  bucket.down = true;
  await until(() => !lease.renewed, 'suspended again');
  const waitingAgain = lease.whenRenewed();
  // another controller took the lease meanwhile: the next renewal is refused
  bucket.revision += 5;
  bucket.holder = 'b';
  bucket.down = false;
  await waitingAgain;
  await until(() => lost !== '', 'lost');
  t.match(lost, /another controller/, 'stepped down');
  t.notOk(lease.renewed, 'and decides nothing more');
  await lease.release();
});
