import { join } from 'node:path';
import t from 'tap';
import { ConfigError, isFirewallAction, loadConfig, parseConfig, splitActions } from '../src/index.js';
import { errorOf } from '../../../test/fixtures/error-of.js';

const FILE = '/etc/fleetban/fleetban.conf';
const opts = { hostname: 'ctl-1' };
const jail = (text: string) => parseConfig(text, FILE, opts).jails[0];

t.test('action and host_action lines become specs with their site, file and line', async (tt) => {
  const j = jail(`[sshd]
enabled = true
action = webhook[url="https://hooks.example.com/f2b", secret=s3cret]
         telegram[token=123:abc, chat_id=-100200]
host_action = command[ban="/usr/local/bin/nas-ban <ip>", unban="/usr/local/bin/nas-unban <ip>"]
`);
  tt.same(j?.actions, [
    { name: 'webhook', options: { url: 'https://hooks.example.com/f2b', secret: 's3cret' }, site: 'controller', file: FILE, line: 3 },
    { name: 'telegram', options: { token: '123:abc', chat_id: '-100200' }, site: 'controller', file: FILE, line: 3 },
    { name: 'command', options: { ban: '/usr/local/bin/nas-ban <ip>', unban: '/usr/local/bin/nas-unban <ip>' }, site: 'host', file: FILE, line: 5 },
  ]);
  tt.same(jail('[sshd]\n')?.actions, [], 'none by default');
});

t.test("several actions on one line and options spanning lines, as fail2ban's splitWithOptions", async (tt) => {
  tt.same(splitActions('a b[x=1, y="2 3"]\n  c[z=\'q\']  d'), ['a', 'b[x=1, y="2 3"]', "c[z='q']", 'd']);
  tt.same(splitActions('nftables[type=multiport][port="ssh", protocol="tcp"]'), ['nftables[type=multiport][port="ssh", protocol="tcp"]']);
});

t.test('firewall actions are the agent’s job and are skipped', async (tt) => {
  for (const n of ['iptables', 'iptables-multiport', 'ip6tables-ipset', 'nftables-allports', 'firewallcmd-ipset', 'shorewall', 'ufw', 'pf', 'ipfw', 'bsd-ipfw', 'npf', 'route', 'hostsdeny']) {
    tt.ok(isFirewallAction(n), n);
  }
  for (const n of ['cloudflare', 'sendmail-whois', 'abuseipdb', 'nginx-block-map', 'mail', 'pfx']) tt.notOk(isFirewallAction(n), n);
  const j = jail(`[DEFAULT]
banaction = my-fw[blocktype=drop]
banaction_allports = my-fw-all
[sshd]
action = my-fw[port=ssh]
         my-fw-all
         nftables[type=multiport]
         abuseipdb[abuseipdb_apikey=k]
`);
  tt.same(j?.actions.map((a) => a.name), ['abuseipdb'], 'banaction, banaction_allports and the families are left out');
});

t.test("%(action_)s-style references are resolved in the jail, as jail.conf's", async (tt) => {
  const c = parseConfig(`[DEFAULT]
banaction = iptables-multiport
port = 0:65535
protocol = tcp
chain = INPUT
destemail = root@localhost
action_ = %(banaction)s[port="%(port)s", protocol="%(protocol)s", chain="%(chain)s"]
action_hook = %(action_)s
              webhook[url="https://hooks.example.com/%(__name__)s"]
action = %(action_)s
[sshd]
port = ssh
action = %(action_hook)s
[nginx]
`, FILE, opts);
  tt.same(c.jails.map((j) => [j.name, j.actions.map((a) => [a.name, a.options])]), [
    ['sshd', [['webhook', { url: 'https://hooks.example.com/sshd' }]]],
    ['nginx', []],
  ]);
});

t.test("a jail.conf shortcut that is not defined (jail.conf not included) leaves its line out", async (tt) => {
  const j = jail('[sshd]\naction = %(action_mwl)s\n         ntfy[topic=alerts]\n');
  tt.same(j?.actions.map((a) => a.name), ['ntfy']);
  const err = errorOf(() => jail('[sshd]\naction = ntfy[topic=%(mytopic)s]\n'));
  tt.ok(err instanceof ConfigError, 'any other unresolvable reference is an error');
  tt.equal((err as ConfigError).key, 'sshd.action (line 2)');
});

t.test('malformed actions are ConfigErrors naming file, key and what was expected', async (tt) => {
  const check = (text: string, key: string, expected: RegExp) => {
    const err = errorOf(() => jail(text));
    tt.ok(err instanceof ConfigError, `${text}: ${String(err)}`);
    if (!(err instanceof ConfigError)) return;
    tt.equal(err.file, FILE);
    tt.equal(err.key, key);
    tt.match(err.expected, expected);
  };
  check('[sshd]\naction = webhook[url=https://x.example/, bad syntax here]\n', 'sshd.action (line 2)', /name\[option=value/);
  check('[sshd]\naction = webhook\n', 'sshd.action (line 2)', /webhook\[url=\.\.\.\]/);
  check('[sshd]\naction = webhook[url=ftp://x.example/]\n', 'sshd.action (line 2)', /http:\/\/ or https:\/\/ URL/);
  check('[sshd]\nhost_action = ntfy[topic="a/b"]\n', 'sshd.host_action (line 2)', /ntfy topic/);
  check('[sshd]\naction = command[ban="unterminated \'quote"]\n', 'sshd.action (line 2)', /command line/);
  check('[sshd]\naction = command[timeout=5s]\n', 'sshd.action (line 2)', /ban or an unban/);
  check('[sshd]\naction = telegram[token=t, chat_id=1, timeout=soon]\n', 'sshd.action (line 2)', /timeout/);
  check('[sshd]\naction = smtp.py[host=localhost]\n', 'sshd.action (line 2)', /Python actions/);
  check('[sshd]\naction = ../../etc/evil\n', 'sshd.action (line 2)', /action name/);
  check('[DEFAULT]\nhost_actoin = x\n[sshd]\n', 'DEFAULT.host_actoin (line 2)', /a known key/);
});

t.test('a built-in name with options of its own is checked on load; with others it may be an action.d file', async (tt) => {
  const j = jail('[sshd]\naction = cloudflare[cfuser=me@example.com, cftoken=k]\n');
  tt.same(j?.actions.map((a) => a.name), ['cloudflare'], "fail2ban's cloudflare.conf options: checked when built");
});

t.test('actions from an included jail.conf-like file', async (tt) => {
  const dir = tt.testdir({
    'jail.conf': `[DEFAULT]
banaction = nftables
banaction_allports = nftables[type=allports]
port = 0:65535
action_ = %(banaction)s[port="%(port)s"]
action_ntfy = %(action_)s
              ntfy[topic=%(__name__)s-bans]
action = %(action_)s
`,
    'fleetban.conf': '[INCLUDES]\nbefore = jail.conf\n[sshd]\nenabled = true\naction = %(action_ntfy)s\n[recidive]\nbanaction = %(banaction_allports)s\n',
  });
  const c = loadConfig(join(dir, 'fleetban.conf'), opts);
  tt.same(c.jails.map((j) => [j.name, j.actions.map((a) => `${a.name}:${JSON.stringify(a.options)}`)]), [
    ['sshd', ['ntfy:{"topic":"sshd-bans"}']],
    ['recidive', []],
  ]);
  tt.same(c.jailDefaults.actions, [], "[DEFAULT]'s firewall action is skipped too");
});
