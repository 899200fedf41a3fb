import t from 'tap';
import { clientAuth, parseConfig } from '@fleetban/shared';

const fleet = (text = '') => parseConfig(`[fleetban]\nhost = web-1\nstate_dir = /var/lib/fleetban\n${text}`, '/etc/fleetban/fleetban.conf').fleet;

t.test("a unit's LoadCredential comes before the state directory's seed", async (tt) => {
  const env = { CREDENTIALS_DIRECTORY: '/run/credentials/fleetban-controller.service' };
  const both = (f: string) => f.endsWith('controller.nk');
  tt.equal(clientAuth(fleet(), 'controller', both, env).nkeyFile, '/run/credentials/fleetban-controller.service/controller.nk');
  const stateOnly = (f: string) => f === '/var/lib/fleetban/credentials/controller.nk';
  tt.equal(clientAuth(fleet(), 'controller', stateOnly, env).nkeyFile, '/var/lib/fleetban/credentials/controller.nk');
  tt.equal(clientAuth(fleet(), 'controller', both, {}).nkeyFile, '/var/lib/fleetban/credentials/controller.nk', 'no CREDENTIALS_DIRECTORY: the state directory');
  tt.equal(clientAuth(fleet(), 'agent', both, env).nkeyFile, '', "the agent looks for its own host's seed, not the controller's");
  tt.equal(clientAuth(fleet(), 'agent', (f) => f.endsWith('/web-1.nk'), env).nkeyFile, '/run/credentials/fleetban-controller.service/web-1.nk');
});

t.test('credentials named in the configuration win', async (tt) => {
  const env = { CREDENTIALS_DIRECTORY: '/run/credentials/x' };
  tt.equal(clientAuth(fleet('nats_nkey = /etc/fleetban/ctl.nk'), 'controller', () => true, env).nkeyFile, '/etc/fleetban/ctl.nk');
  tt.equal(clientAuth(fleet('nats_token = s3cret'), 'controller', () => true, env).nkeyFile, '');
});
