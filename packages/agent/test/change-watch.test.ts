/**
 * The tail's directory watches (real inotify on a temporary directory): a followed name wakes the
 * tail, another name in the same directory does not, and a name or directory no longer followed
 * stops waking it. Waits are bounded; nothing is asserted about time.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { silentLogger } from '@fleetban/shared';
import { ChangeWatch } from '../src/tail/change-watch.js';

const settle = () => new Promise((r) => setTimeout(r, 150));

t.test('change watch: follows exactly the paths it is given', async (tt) => {
  const root = mkdtempSync(join(tmpdir(), 'fb-change-watch-'));
  tt.teardown(() => rmSync(root, { recursive: true, force: true }));
  const a = join(root, 'a');
  const b = join(root, 'b');
  mkdirSync(a);
  mkdirSync(b);
  let wakes = 0;
  const watch = new ChangeWatch(() => wakes++, silentLogger());
  tt.teardown(() => watch.stop());
  const woken = async (path: string): Promise<boolean> => {
    await settle();
    const before = wakes;
    appendFileSync(path, 'line\n');
    for (let i = 0; i < 20 && wakes === before; i++) await new Promise((r) => setTimeout(r, 25));
    return wakes > before;
  };

  watch.follow([join(a, 'auth.log.2026-12-04'), join(b, 'x.log')]);
  tt.ok(watch.covers(join(b, 'x.log')), 'both directories watched');
  tt.ok(await woken(join(a, 'auth.log.2026-12-04')), 'a followed name wakes the tail');
  tt.notOk(await woken(join(a, 'syslog')), 'another name in its directory does not');

  watch.follow([join(a, 'auth.log.2026-12-05')]);
  tt.notOk(await woken(join(a, 'auth.log.2026-12-04')), 'a name no longer followed no longer wakes it');
  tt.ok(await woken(join(a, 'auth.log.2026-12-05')), 'the new one does');
  tt.notOk(watch.covers(join(b, 'x.log')), 'a directory left with no name is not watched');
  tt.notOk(await woken(join(b, 'x.log')), 'and does not wake it');
});
