// fail2ban-client's habits, fleet-wide: `fleetban version`, `fleetban hosts`, `fleetban unban
// --all [--jail J]`, `--help` on every command and `--json` on every command that prints data,
// run as the real command line against a real nats-server and controller.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { AGENT_VERSION } from '@fleetban/agent';
import { runFleetban } from './fixtures/fleetban-process.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')) as { version: string }).version;

t.test('fleetban version and --version print the package version; --json an object', async (t) => {
  for (const argv of [['version'], ['--version']]) {
    const r = await runFleetban(argv);
    t.equal(r.code, 0, `${argv[0]} exits 0`);
    t.equal(r.stdout, `fleetban ${PACKAGE_VERSION}\n`, `${argv[0]} prints the version`);
  }
  const r = await runFleetban(['version', '--json']);
  t.equal(r.code, 0);
  t.same(JSON.parse(r.stdout), { version: PACKAGE_VERSION }, '--json: {"version": ...}');
  t.equal(PACKAGE_VERSION, AGENT_VERSION, 'the same version the agent sends in its heartbeats');
});
