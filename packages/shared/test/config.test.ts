import { join } from 'node:path';
import t, { type Test } from 'tap';
import { hostToken } from '../src/config/fleet-section.js';
import { loadConfig, parseConfig } from '../src/config/load.js';
import { ConfigError } from '../src/errors.js';
import { DEFAULT_BANTIME_FORMULA } from '../src/policy/bantime-formula.js';
import { findSection, parseIni } from '../src/f2bconf/ini-file.js';

const FILE = '/etc/fleetban/fleetban.conf';
const opts = { hostname: 'web-1.example.com' };

/** Runs `fn`, expects a ConfigError, checks its fields and message; returns it. */
function expectConfigError(
  tt: Test,
  fn: () => unknown,
  want: { file: string; key: string; expected: string },
): ConfigError | undefined {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      tt.fail(`expected a ConfigError, got ${String(err)}`);
      return undefined;
    }
    tt.equal(err.code, 'CONFIG_INVALID');
    tt.equal(err.file, want.file);
    tt.equal(err.key, want.key);
    tt.match(err.expected, want.expected);
    tt.ok(err.message.startsWith(`${want.file}: ${want.key}: expected `), err.message);
    tt.ok(err.message.includes(want.expected), `message names what was expected: ${err.message}`);
    return err;
  }
  tt.fail(`expected a ConfigError for ${want.key}`);
  return undefined;
}

t.test('ini file: sections, entries, lines, separators, case', async (tt) => {
  const doc = parseIni(
    [
      '# a comment',
      '; another',
      '[sshd]',
      '  indented = kept as a key',
      'Enabled = true',
      'port: ssh',
      '',
      '[DEFAULT]',
      'bantime = 1h ; inline comment',
      'failregex = a#b ;c',
      '[web]',
      'filter=nginx',
      '[DEFAULT]',
      'findtime = 5m',
    ].join('\n'),
    'x.conf',
  );
  tt.equal(doc.file, 'x.conf');
  tt.same(doc.sections.map((s) => [s.name, s.line]), [['sshd', 3], ['DEFAULT', 8], ['web', 11]]);
  const sshd = findSection(doc, 'sshd');
  tt.same(sshd?.entries.map((e) => [e.key, e.value, e.line, e.section, e.file]), [
    ['indented', 'kept as a key', 4, 'sshd', 'x.conf'],
    ['Enabled', 'true', 5, 'sshd', 'x.conf'],
    ['port', 'ssh', 6, 'sshd', 'x.conf'],
  ]);
  tt.same(findSection(doc, 'DEFAULT')?.entries.map((e) => [e.key, e.value, e.line]), [
    ['bantime', '1h', 9],
    ['failregex', 'a#b', 10],
    ['findtime', '5m', 14],
  ]);
  tt.equal(findSection(doc, 'sshD'), undefined, 'section names are case-sensitive');
  tt.same(findSection(doc, 'web')?.entries[0], { key: 'filter', value: 'nginx', section: 'web', file: 'x.conf', line: 12 });
});

t.test('ini file: continuation lines', async (tt) => {
  const doc = parseIni(
    [
      '[j]',
      'failregex = ^first',
      '            ^second ; comment',
      '',
      '   # a comment line inside the value',
      '            ^third',
      '',
      '',
      'logpath =',
      '\t/var/log/a.log',
      'after = x',
      '  deeper = is a continuation',
      '[k]',
      '  indented = 1',
      '    continues',
      '  next = 2',
    ].join('\r\n'),
    'c.conf',
  );
  const values = (name: string) => Object.fromEntries((findSection(doc, name)?.entries ?? []).map((e) => [e.key, e.value]));
  tt.same(values('j'), {
    failregex: '^first\n^second\n\n^third',
    logpath: '\n/var/log/a.log',
    after: 'x\ndeeper = is a continuation',
  });
  tt.same(values('k'), { indented: '1\ncontinues', next: '2' }, 'continuation is relative to the key line');
});

t.test('ini file: syntax errors name the line', async (tt) => {
  const cases: Array<[string, string, string]> = [
    ['key = 1\n[s]', 'line 1', 'a [section] header before the first key'],
    ['[s]\njust words', 'line 2', "'key = value'"],
    ['[s]\n= value', 'line 2', "'key = value'"],
    ['[s]\n[broken', 'line 2', 'a section header such as [sshd]'],
    ['[s]\n[s] trailing', 'line 2', 'a section header such as [sshd]'],
    ['[s]\na = 1\n\n[s]', 'line 4', 'each section once per file ([s] starts on line 1)'],
    ['[s]\na = 1\na = 2', 'line 3', 'each key once per section (s.a is already set on line 2)'],
    ['[DEFAULT]\na = 1\n[DEFAULT]\na = 2', 'line 4', 'each key once per section'],
  ];
  for (const [text, key, expected] of cases) {
    expectConfigError(tt, () => parseIni(text, 'bad.conf'), { file: 'bad.conf', key, expected });
  }
});

t.test('defaults', async (tt) => {
  const c = parseConfig('', '', opts);
  tt.same(c, {
    file: '',
    fleet: {
      host: 'web-1',
      servers: ['nats://127.0.0.1:4222'],
      user: '',
      password: '',
      token: '',
      creds: '',
      nkey: '',
      adminNkey: '',
      tlsCa: '',
      tlsCert: '',
      tlsKey: '',
      stateDir: '/var/lib/fleetban',
      addresses: [],
      actionPath: [],
    },
    agent: { enforcer: 'auto', onStop: 'flush', heartbeatMs: 5000, reconcileMs: 30000, pollMs: 100, buffer: 10000, blockType: 'drop', maxLineBytes: 65536, spoolBytes: 67108864, filterPath: [], metrics: null },
    controller: {
      ignoreip: [],
      expireMs: 1000,
      eventsMaxAgeMs: 86_400_000,
      maxTracked: 100000,
      maxClockSkewMs: 60_000,
      minPrefixV4: 16,
      minPrefixV6: 32,
      maxBantimeMs: 365 * 86_400_000,
      leaseTtlMs: 1_000,
      snapshotMs: 10_000,
      dbPurgeAgeMs: 86_400_000,
      replicas: 1,
      metrics: null,
      web: null,
      webToken: '',
      webAdminToken: '',
    },
    jails: [],
    jailDefaults: {
      name: '',
      policy: 'threshold',
      enabled: false,
      filter: '',
      backend: { kind: 'auto' },
      logpath: [],
      failregex: [],
      ignoreregex: [],
      ignoreip: ['127.0.0.0/8', '::1'],
      maxretry: 5,
      findtimeMs: 600_000,
      bantimeMs: 600_000,
      maxmatches: 5,
      maxretryPerHost: 0,
      minHosts: 1,
      increment: { enabled: false, factor: 1, multipliers: [], maxtimeMs: 0, rndtimeMs: 0, formula: DEFAULT_BANTIME_FORMULA, overalljails: false },
      actions: [],
      filterPath: [],
      options: {},
    },
  });
  tt.equal(parseConfig('[sshd]\n', FILE, opts).jails[0]?.filter, 'sshd', 'filter defaults to the jail name');
  tt.equal(parseConfig('', '').fleet.host, hostToken((await import('node:os')).hostname()), 'host defaults to os.hostname()');
});

t.test('host token from the machine hostname', async (tt) => {
  tt.equal(hostToken('web-1'), 'web-1');
  tt.equal(hostToken('web-1.eu.example.com'), 'web-1');
  tt.equal(hostToken('db host+2'), 'db-host-2');
  tt.equal(hostToken('x'.repeat(80)), 'x'.repeat(64));
  tt.equal(hostToken('.weird'), 'localhost');
  tt.equal(parseConfig('[fleetban]\nhost = edge_7\n', FILE, opts).fleet.host, 'edge_7', 'the file wins');
});

const FULL = `# fleetban test configuration
[fleetban]
host = web-1
nats = nats://10.0.0.1:4222 nats://10.0.0.2:4222
       tls://nats.example:4443
nats_user = fleet
nats_password = s3cret
nats_token = tok
nats_creds = /etc/fleetban/host.creds
state_dir = /srv/fleetban
addresses = 198.51.100.70 2001:DB8::70

[agent]
enforcer = nftables
on_stop = keep
heartbeat = 2s
reconcile = 1m
poll = 250ms
buffer = 500

[controller]
ignoreip = 192.0.2.0/24 2001:db8::/32
           198.51.100.7
expire_interval = 2s
events_max_age = 2d
max_tracked = 5000
max_clock_skew = 30s
min_prefix_v4 = 20
min_prefix_v6 = 48
max_bantime = 90d
replicas = 3

[DEFAULT]
bantime = 1h
findtime = 10m
maxretry = 5
ignoreip = 127.0.0.1/8 ::1 203.0.113.0/24

[sshd]
enabled = true
logpath = /var/log/auth.log
          /var/log/secure*
maxretry = 3

[nginx-http-auth]
enabled = yes
filter = nginx-auth
logpath = /var/log/nginx/error.log
bantime = -1
maxmatches = 0
bantime.increment = true
bantime.factor = 1.5
bantime.multipliers = 1 2 4 8
bantime.maxtime = 1w
bantime.rndtime = 5m
maxretry_per_host = 2
min_hosts = 3

[recidive]
enabled = off
logpath = /var/log/fail2ban.log
failregex = ^\\s*Ban <HOST>$
            ^.*Restore Ban <HOST>$
bantime = 1w
findtime = 1d
ignoreip =
`;

t.test('a full 3-jail file', async (tt) => {
  const dir = tt.testdir({ 'fleetban.conf': FULL });
  const file = join(dir, 'fleetban.conf');
  const c = loadConfig(file, opts);
  tt.equal(c.file, file);
  tt.same(c.fleet, {
    host: 'web-1',
    servers: ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222', 'tls://nats.example:4443'],
    user: 'fleet',
    password: 's3cret',
    token: 'tok',
    creds: '/etc/fleetban/host.creds',
    nkey: '',
    adminNkey: '',
    tlsCa: '',
    tlsCert: '',
    tlsKey: '',
    stateDir: '/srv/fleetban',
    addresses: ['198.51.100.70', '2001:db8::70'],
    actionPath: [],
  });
  tt.same(c.agent, { enforcer: 'nftables', onStop: 'keep', heartbeatMs: 2000, reconcileMs: 60_000, pollMs: 250, buffer: 500, blockType: 'drop', maxLineBytes: 65536, spoolBytes: 67108864, filterPath: [], metrics: null });
  tt.same(c.controller, {
    ignoreip: ['192.0.2.0/24', '2001:db8::/32', '198.51.100.7'],
    expireMs: 2000,
    eventsMaxAgeMs: 2 * 86_400_000,
    maxTracked: 5000,
    maxClockSkewMs: 30_000,
    minPrefixV4: 20,
    minPrefixV6: 48,
    maxBantimeMs: 90 * 86_400_000,
    leaseTtlMs: 1_000,
    snapshotMs: 10_000,
    dbPurgeAgeMs: 86_400_000,
    replicas: 3,
    metrics: null,
    web: null,
    webToken: '',
    webAdminToken: '',
  });
  tt.same(c.jails.map((j) => j.name), ['sshd', 'nginx-http-auth', 'recidive'], 'jails in file order');
  const [sshd, nginx, recidive] = c.jails;
  tt.same(Object.keys(sshd?.options ?? {}).sort(), ['bantime', 'enabled', 'findtime', 'ignoreip', 'logpath', 'maxretry'], 'options: every key as written');
  tt.same(sshd?.options.maxretry, { value: '3', file, section: 'sshd', line: 43 }, 'options: where each key was written');
  tt.same({ ...sshd, options: undefined }, {
    options: undefined,
    name: 'sshd',
    policy: 'threshold',
    enabled: true,
    filter: 'sshd',
    backend: { kind: 'auto' },
    logpath: ['/var/log/auth.log', '/var/log/secure*'],
    failregex: [],
    ignoreregex: [],
    ignoreip: ['127.0.0.0/8', '::1', '203.0.113.0/24'],
    maxretry: 3,
    findtimeMs: 600_000,
    bantimeMs: 3_600_000,
    maxmatches: 3,
    maxretryPerHost: 0,
    minHosts: 1,
    increment: { enabled: false, factor: 1, multipliers: [], maxtimeMs: 0, rndtimeMs: 0, formula: DEFAULT_BANTIME_FORMULA, overalljails: false },
    actions: [],
    filterPath: [],
  });
  tt.same([nginx?.maxretryPerHost, nginx?.minHosts], [2, 3], 'maxretry_per_host and min_hosts');
  tt.equal(nginx?.enabled, true);
  tt.equal(nginx?.filter, 'nginx-auth');
  tt.equal(nginx?.bantimeMs, -1, 'bantime = -1 is permanent');
  tt.equal(nginx?.maxmatches, 0);
  tt.same(nginx?.increment, { enabled: true, factor: 1.5, multipliers: [1, 2, 4, 8], maxtimeMs: 604_800_000, rndtimeMs: 300_000, formula: DEFAULT_BANTIME_FORMULA, overalljails: false });
  tt.equal(recidive?.enabled, false);
  tt.same(recidive?.failregex, ['^\\s*Ban <HOST>$', '^.*Restore Ban <HOST>$']);
  tt.same(recidive?.ignoreip, [], 'an empty ignoreip overrides DEFAULT with nothing');
  tt.equal(recidive?.bantimeMs, 604_800_000);
  tt.equal(recidive?.findtimeMs, 86_400_000);
  tt.equal(c.jailDefaults.bantimeMs, 3_600_000, 'jailDefaults is [DEFAULT] applied');
  tt.equal(c.jailDefaults.name, '');
});

t.test('DEFAULT inheritance', async (tt) => {
  const c = parseConfig(
    `[a]
enabled = true

[DEFAULT]
enabled = true
maxretry = 7
bantime = 2h
filter = common
failregex = ^fail <HOST>$

[b]
maxretry = 2
enabled = false
filter = own
failregex =
`,
    FILE,
    opts,
  );
  const [a, b] = c.jails;
  tt.equal(a?.maxretry, 7, 'DEFAULT applies to a jail written before it');
  tt.equal(a?.maxmatches, 7, 'maxmatches follows the inherited maxretry');
  tt.equal(a?.bantimeMs, 7_200_000);
  tt.equal(a?.filter, 'common');
  tt.same(a?.failregex, ['^fail <HOST>$']);
  tt.equal(b?.maxretry, 2, 'jail overrides DEFAULT');
  tt.equal(b?.maxmatches, 2);
  tt.equal(b?.enabled, false);
  tt.equal(b?.filter, 'own');
  tt.same(b?.failregex, []);
  tt.equal(b?.bantimeMs, 7_200_000);
  tt.equal(c.jailDefaults.maxretry, 7);
  tt.equal(c.jailDefaults.enabled, true);
});

t.test('multi-line logpath and failregex', async (tt) => {
  const [j] = parseConfig(
    `[web]
logpath = /var/log/nginx/a.log /var/log/nginx/b.log
          /var/log/nginx/c*.log tail
  # commented out: /var/log/old.log
          /var/log/nginx/d.log head
failregex =
    ^<HOST> -.*"(GET|POST) /wp-login\\.php

    ^<HOST> - - \\[.*\\] "POST /xmlrpc\\.php ; an inline comment
ignoreregex = ^<HOST> .*healthcheck
`,
    FILE,
    opts,
  ).jails;
  tt.same(j?.logpath, ['/var/log/nginx/a.log', '/var/log/nginx/b.log', '/var/log/nginx/c*.log', '/var/log/nginx/d.log']);
  tt.same(j?.failregex, ['^<HOST> -.*"(GET|POST) /wp-login\\.php', '^<HOST> - - \\[.*\\] "POST /xmlrpc\\.php']);
  tt.same(j?.ignoreregex, ['^<HOST> .*healthcheck']);
});

/** [section text, section, key, line of the key, expected fragment] */
const BAD_VALUES: Array<[string, string, string, number, string]> = [
  ['[fleetban]\nhost = web.1', 'fleetban', 'host', 2, "a host name of 1 to 64 letters, digits, '_' or '-'"],
  ['[fleetban]\nnats = http://x:4222', 'fleetban', 'nats', 2, 'space-separated NATS URLs'],
  ['[fleetban]\nnats =', 'fleetban', 'nats', 2, 'space-separated NATS URLs'],
  ['[fleetban]\nstate_dir = var/lib', 'fleetban', 'state_dir', 2, 'an absolute path'],
  ['[fleetban]\nnats_nkey = web-1.nk', 'fleetban', 'nats_nkey', 2, 'an absolute file path'],
  ['[fleetban]\nadmin_nkey = ./admin.nk', 'fleetban', 'admin_nkey', 2, 'an absolute file path'],
  ['[fleetban]\ntls_ca = ca.pem', 'fleetban', 'tls_ca', 2, 'an absolute file path'],
  ['[fleetban]\ntls_cert = c.pem\ntls_key = /k.pem', 'fleetban', 'tls_cert', 2, 'an absolute file path'],
  ['[fleetban]\ntls_cert = /c.pem\ntls_key = k.pem', 'fleetban', 'tls_key', 3, 'an absolute file path'],
  ['[fleetban]\naddresses = 192.0.2.0/24', 'fleetban', 'addresses', 2, 'one address each, no CIDR range; bad entry "192.0.2.0/24"'],
  ['[fleetban]\naddresses = 192.0.2.1 nat.example', 'fleetban', 'addresses', 2, 'bad entry "nat.example"'],
  ['[fleetban]\naddresses = 2001:db8::/64', 'fleetban', 'addresses', 2, 'no CIDR range'],
  ['[agent]\nenforcer = ipfw', 'agent', 'enforcer', 2, 'one of: auto, nftables, iptables, dry-run'],
  ['[agent]\non_stop = drop', 'agent', 'on_stop', 2, 'one of: flush, keep'],
  ['[agent]\nheartbeat = soon', 'agent', 'heartbeat', 2, 'a positive duration such as 10m or 1d12h'],
  ['[agent]\nreconcile = 0', 'agent', 'reconcile', 2, 'a positive duration'],
  ['[agent]\npoll = -1', 'agent', 'poll', 2, 'a positive duration'],
  ['[agent]\nbuffer = 0', 'agent', 'buffer', 2, 'a positive whole number'],
  ['[agent]\nbuffer = 1.5', 'agent', 'buffer', 2, 'a positive whole number'],
  ['[controller]\nignoreip = 192.0.2.0/33', 'controller', 'ignoreip', 2, 'IP addresses or CIDR ranges'],
  ['[controller]\nexpire_interval = 1x', 'controller', 'expire_interval', 2, 'a positive duration'],
  ['[controller]\nevents_max_age = ', 'controller', 'events_max_age', 2, 'a positive duration'],
  ['[controller]\nmax_tracked = many', 'controller', 'max_tracked', 2, 'a positive whole number'],
  ['[controller]\nmin_prefix_v4 = 33', 'controller', 'min_prefix_v4', 2, 'a prefix length from 0 to 32'],
  ['[controller]\nmin_prefix_v6 = /48', 'controller', 'min_prefix_v6', 2, 'a prefix length from 0 to 128'],
  ['[controller]\nmax_bantime = -1', 'controller', 'max_bantime', 2, 'a positive duration'],
  ['[controller]\nmax_clock_skew = later', 'controller', 'max_clock_skew', 2, 'or 0 for none'],
  ['[controller]\nreplicas = 6', 'controller', 'replicas', 2, 'a replica count from 1 to 5'],
  ['[controller]\nreplicas = 0', 'controller', 'replicas', 2, 'a replica count from 1 to 5'],
  ['[controller]\nmetrics = 9608', 'controller', 'metrics', 2, 'a listen address host:port such as 127.0.0.1:9608'],
  ['[controller]\nmetrics = 127.0.0.1:70000', 'controller', 'metrics', 2, 'a listen address host:port'],
  ['[agent]\nmetrics = [192.0.2.1]:9609', 'agent', 'metrics', 2, 'a listen address host:port'],
  ['[agent]\nmetrics = http://127.0.0.1:9609', 'agent', 'metrics', 2, 'a listen address host:port'],
  ['[sshd]\nmin_hosts = 0', 'sshd', 'min_hosts', 2, 'a positive whole number'],
  ['[sshd]\nmaxretry_per_host = -1', 'sshd', 'maxretry_per_host', 2, 'a whole number (0 or more)'],
  ['[sshd]\nenabled = maybe', 'sshd', 'enabled', 2, 'a boolean (true/false, yes/no, on/off, 1/0)'],
  ['[sshd]\nlogpath = auth.log', 'sshd', 'logpath', 2, 'absolute paths or globs'],
  ['[sshd]\nignoreip = 127.0.0.1 localhost', 'sshd', 'ignoreip', 2, 'DNS names are not supported yet; bad entry "localhost"'],
  ['[sshd]\nmaxretry = 0', 'sshd', 'maxretry', 2, 'a positive whole number'],
  ['[sshd]\nmaxretry = -3', 'sshd', 'maxretry', 2, 'a positive whole number'],
  ['[sshd]\nfindtime = -1', 'sshd', 'findtime', 2, 'a positive duration such as 10m or 1d12h'],
  ['[sshd]\nfindtime = 10 minutes later', 'sshd', 'findtime', 2, 'a positive duration'],
  ['[sshd]\nbantime = 0', 'sshd', 'bantime', 2, 'or -1 for permanent'],
  ['[sshd]\nbantime = forever', 'sshd', 'bantime', 2, 'or -1 for permanent'],
  ['[sshd]\nmaxmatches = -1', 'sshd', 'maxmatches', 2, 'a whole number (0 or more)'],
  ['[sshd]\nbantime.increment = sometimes', 'sshd', 'bantime.increment', 2, 'a boolean'],
  ['[sshd]\nbantime.factor = 0', 'sshd', 'bantime.factor', 2, 'a positive number'],
  ['[sshd]\nbantime.factor = two', 'sshd', 'bantime.factor', 2, 'a positive number'],
  ['[sshd]\nbantime.multipliers = 1 2 x', 'sshd', 'bantime.multipliers', 2, 'space-separated positive numbers'],
  ['[sshd]\nbantime.maxtime = -1', 'sshd', 'bantime.maxtime', 2, 'or 0 for none'],
  ['[sshd]\nbantime.rndtime = 1q', 'sshd', 'bantime.rndtime', 2, 'or 0 for none'],
  ['[DEFAULT]\nbantime = soon', 'DEFAULT', 'bantime', 2, 'or -1 for permanent'],
  ['[sshd]\nlogpath = %(sshd_log)s', 'sshd', 'logpath', 2, '%(sshd_log)s to name a key of [sshd] or [DEFAULT]'],
  ['[sshd]\nmaxretry = 5%', 'sshd', 'maxretry', 2, "'%' followed by '%' or '(name)s'"],
  ['[agent]\nfilter_path = filters', 'agent', 'filter_path', 2, 'absolute directory paths'],
  ['[sshd]\nbackend = inotify', 'sshd', 'backend', 2, 'auto, polling, pyinotify, gamin, systemd (optionally systemd[journalpath=DIR] or systemd[journalfiles=FILE ...]) or docker[container=NAME or ID, root=DIR]'],
  ['[sshd]\nbackend = systemd[', 'sshd', 'backend', 2, 'auto, polling, pyinotify, gamin, systemd'],
  ['[sshd]\nbackend = polling[x=1]', 'sshd', 'backend', 2, 'polling without options'],
  ['[sshd]\nbackend = systemd[journalpath=relative/dir]', 'sshd', 'backend', 2, 'absolute paths in journalpath and journalfiles'],
  ['[sshd]\nbackend = systemd[journalpath=/j, journalfiles=/j/a.journal]', 'sshd', 'backend', 2, 'not both'],
  ['[sshd]\nbackend = systemd[journalflags=1]', 'sshd', 'backend', 2, 'systemd options among: journalpath, journalfiles (not journalflags)'],
  ['[sshd]\nbackend = systemd[journalpath]', 'sshd', 'backend', 2, 'backend options as name[key=value, key=value]'],
  ['[sshd]\nbackend = docker[]', 'sshd', 'backend', 2, 'docker[container=NAME or ID]'],
  ['[sshd]\nbackend = docker[container=web, root=var/lib]', 'sshd', 'backend', 2, 'docker[...] with an absolute root'],
  ['[DEFAULT]\nbackend = journald', 'DEFAULT', 'backend', 2, 'auto, polling, pyinotify, gamin, systemd'],
];

t.test('[fleetban] credentials, TLS and addresses', async (tt) => {
  const f = parseConfig(
    '[fleetban]\nnats_nkey = /etc/fleetban/web-1.nk\nadmin_nkey = /root/admin.nk\ntls_ca = /etc/fleetban/ca.pem\n' +
      'tls_cert = /etc/fleetban/web-1.pem\ntls_key = /etc/fleetban/web-1-key.pem\n' +
      'addresses = 198.51.100.7 2001:DB8:0:0::10 ::ffff:192.0.2.5 203.0.113.9/32\n',
    FILE,
    opts,
  ).fleet;
  tt.equal(f.nkey, '/etc/fleetban/web-1.nk');
  tt.equal(f.adminNkey, '/root/admin.nk');
  tt.same([f.tlsCa, f.tlsCert, f.tlsKey], ['/etc/fleetban/ca.pem', '/etc/fleetban/web-1.pem', '/etc/fleetban/web-1-key.pem']);
  tt.same(f.addresses, ['198.51.100.7', '2001:db8::10', '192.0.2.5', '203.0.113.9'], 'addresses stored canonical');
  expectConfigError(tt, () => parseConfig('[fleetban]\ntls_cert = /etc/fleetban/web-1.pem\n', FILE, opts), {
    file: FILE,
    key: 'fleetban.tls_key',
    expected: 'tls_key set together with tls_cert (line 2)',
  });
  expectConfigError(tt, () => parseConfig('[fleetban]\ntls_key = /etc/fleetban/web-1-key.pem\n', FILE, opts), {
    file: FILE,
    key: 'fleetban.tls_cert',
    expected: 'tls_cert set together with tls_key (line 2)',
  });
});

t.test('metrics listen addresses: host:port, [v6]:port, empty = off', async (tt) => {
  const c = parseConfig('[controller]\nmetrics = 127.0.0.1:9608\n[agent]\nmetrics = [::1]:9609\n', FILE, opts);
  tt.same(c.controller.metrics, { host: '127.0.0.1', port: 9608 });
  tt.same(c.agent.metrics, { host: '::1', port: 9609 });
  tt.same(parseConfig('[agent]\nmetrics = localhost:9609\n', FILE, opts).agent.metrics, { host: 'localhost', port: 9609 });
  tt.equal(parseConfig('[agent]\nmetrics =\n', FILE, opts).agent.metrics, null, 'empty: off');
});

t.test('every bad value names file, key and what was expected', async (tt) => {
  for (const [text, section, key, line, expected] of BAD_VALUES) {
    const err = expectConfigError(tt, () => parseConfig(`# header\n${text}\n`, FILE, opts), {
      file: FILE,
      key: `${section}.${key} (line ${line + 1})`,
      expected,
    });
    tt.ok(err?.message.includes(`got "`), 'the bad value is quoted');
  }
});

t.test('a bad [DEFAULT] value is reported at its own line, even when a jail inherits it', async (tt) => {
  expectConfigError(tt, () => parseConfig('[sshd]\nenabled = true\n[DEFAULT]\nmaxretry = lots\n', FILE, opts), {
    file: FILE,
    key: 'DEFAULT.maxretry (line 4)',
    expected: 'a positive whole number',
  });
});

t.test('unknown keys', async (tt) => {
  const cases: Array<[string, string, string]> = [
    ['[sshd]\nmaxretries = 3', 'sshd.maxretries (line 2)', 'a known key (one of: enabled, filter, logpath'],
    ['[DEFAULT]\nbantim = 1h', 'DEFAULT.bantim (line 2)', 'a known key (one of: enabled'],
    ['[sshd]\nbantime.incremnt = true', 'sshd.bantime.incremnt (line 2)', 'bantime.increment'],
    ['[fleetban]\nnats_url = nats://x', 'fleetban.nats_url (line 2)', 'a known key (one of: host, nats, nats_user'],
    ['[agent]\nenforcement = auto', 'agent.enforcement (line 2)', 'a known key (one of: enforcer, on_stop'],
    ['[agent]\nport = 22', 'agent.port (line 2)', 'a known key (one of: enforcer'],
    ['[controller]\nignore_ip = 1.2.3.4', 'controller.ignore_ip (line 2)', 'a known key (one of: ignoreip'],
  ];
  for (const [text, key, expected] of cases) {
    const err = expectConfigError(tt, () => parseConfig(text, FILE, opts), { file: FILE, key, expected });
    const name = (key.split(' ')[0] ?? '').slice(key.indexOf('.') + 1);
    tt.ok(err?.message.endsWith(`got ${JSON.stringify(name)}`), 'the unknown key is quoted');
  }
});

t.test('bad jail names', async (tt) => {
  expectConfigError(tt, () => parseConfig('[ssh d]\nenabled = true\n', FILE, opts), {
    file: FILE,
    key: '[ssh d] (line 1)',
    expected: "a jail name of 1 to 64 letters, digits, '_' or '-'",
  });
  expectConfigError(tt, () => parseConfig(`\n[${'j'.repeat(65)}]\n`, FILE, opts), {
    file: FILE,
    key: `[${'j'.repeat(65)}] (line 2)`,
    expected: 'a jail name',
  });
});

t.test("fail2ban-only keys are accepted and ignored", async (tt) => {
  const keys = [
    'port = ssh', 'protocol = tcp', 'action = %(action_mwl)s', 'banaction = nftables-multiport',
    'banaction_allports = nftables-allports', 'chain = INPUT', 'backend = auto', 'usedns = warn',
    'logencoding = auto', 'journalmatch = _SYSTEMD_UNIT=sshd.service', 'datepattern = {^LN-BEG}',
    'prefregex = ^%(__prefix_line)s', 'maxlines = 1', 'mode = aggressive', 'mta = sendmail',
    'sender = root@localhost', 'destemail = root@localhost', 'sendername = Fail2Ban',
    'ignorecommand =', 'ignoreself = true', 'dbfile = /var/lib/fail2ban/fail2ban.sqlite3',
    'dbpurgeage = 1d', 'allowipv6 = auto', 'before = paths-debian.conf', 'after = x.conf',
    'action_mwl = %(banaction)s[name=%(__name__)s]', 'action_abuseipdb = abuseipdb',
    'abuseipdb.apikey = 123', 'bantime.overalljails = true',
    'bantime.formula = ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor',
  ];
  const text = `[DEFAULT]\n${keys.join('\n')}\n\n[sshd]\n${keys.join('\n')}\nlogpath = /var/log/auth.log\n`;
  const c = parseConfig(text, FILE, opts);
  tt.equal(c.jails.length, 1);
  tt.same(c.jails[0]?.logpath, ['/var/log/auth.log']);
  tt.equal(c.jails[0]?.maxretry, 5);
});

t.test('a typical fail2ban jail.local loads', async (tt) => {
  const dir = tt.testdir({
    'jail.local': `#
# jail.local: local overrides of jail.conf
#
[INCLUDES]
before = paths-debian.conf

[DEFAULT]
# whitelist the office and the monitoring host
ignoreip = 127.0.0.1/8 ::1
           192.0.2.0/24 ; office
           2001:db8:0:0::17
bantime  = 1h
findtime = 600
maxretry = 5
banaction = nftables-multiport
banaction_allports = nftables-allports
destemail = ops@example.com
sender = fail2ban@example.com
mta = sendmail
action = %(action_mwl)s
bantime.increment = true
bantime.rndtime = 30m
bantime.overalljails = false

[sshd]
enabled  = true
port     = ssh
filter   = sshd
mode     = aggressive
logpath  = /var/log/auth.log
backend  = polling
maxretry = 3
action   = %(action_)s
           sendmail-whois[name=SSH, dest=%(destemail)s]

[nginx-botsearch]
enabled  = false
port     = http,https
logpath  = /var/log/nginx/access.log
           /var/log/nginx/*access.log

[Definition]
failregex = ^whatever %(__prefix_line)s
`,
  });
  const c = loadConfig(join(dir, 'jail.local'), opts);
  tt.same(c.jails.map((j) => [j.name, j.enabled]), [['sshd', true], ['nginx-botsearch', false]]);
  const [sshd, bots] = c.jails;
  tt.same(sshd?.ignoreip, ['127.0.0.0/8', '::1', '192.0.2.0/24', '2001:db8::17']);
  tt.equal(sshd?.bantimeMs, 3_600_000);
  tt.equal(sshd?.findtimeMs, 600_000, 'a bare number is seconds');
  tt.equal(sshd?.maxretry, 3);
  tt.equal(sshd?.filter, 'sshd');
  tt.same(sshd?.increment, { enabled: true, factor: 1, multipliers: [], maxtimeMs: 0, rndtimeMs: 1_800_000, formula: DEFAULT_BANTIME_FORMULA, overalljails: false });
  tt.same(bots?.logpath, ['/var/log/nginx/access.log', '/var/log/nginx/*access.log']);
  tt.same(c.agent, parseConfig('', '', opts).agent, 'fleetban sections default when absent');
});

t.test('backend is read once, into a typed value', async (tt) => {
  const backend = (text: string) => parseConfig(`[sshd]\n${text}\n`, FILE, opts).jails[0]?.backend;
  tt.same(backend(''), { kind: 'auto' }, "default: auto (fail2ban's)");
  for (const k of ['auto', 'polling', 'pyinotify', 'gamin']) tt.same(backend(`backend = ${k}`), { kind: k });
  tt.same(backend('backend = Polling'), { kind: 'polling' }, 'names in any case, as fail2ban');
  tt.same(backend('backend = systemd'), { kind: 'systemd', journalpath: '', journalfiles: [] });
  tt.same(backend('backend = systemd[journalpath=/var/log/journal/remote]'), { kind: 'systemd', journalpath: '/var/log/journal/remote', journalfiles: [] });
  tt.same(backend('backend = systemd[journalfiles="/srv/j/a.journal /srv/j/b.journal" ]'), { kind: 'systemd', journalpath: '', journalfiles: ['/srv/j/a.journal', '/srv/j/b.journal'] });
  tt.same(backend('backend = docker[container=/web]'), { kind: 'docker', container: 'web', root: '/var/lib/docker' });
  tt.same(backend("backend = docker[container=4f1c2a9b7d3e, root='/srv/docker']"), { kind: 'docker', container: '4f1c2a9b7d3e', root: '/srv/docker' });
  const c = parseConfig('[DEFAULT]\nbackend = systemd\n[sshd]\n[nginx]\nbackend = auto\n', FILE, opts);
  tt.same(c.jails.map((j) => j.backend.kind), ['systemd', 'auto'], "[DEFAULT]'s, overridden by the jail's");
  tt.equal(c.jailDefaults.backend.kind, 'systemd');
  const dir = tt.testdir({
    'paths-common.conf': '[DEFAULT]\ndefault_backend = auto\nsshd_backend = %(default_backend)s\n',
    'paths-debian.conf': '[INCLUDES]\nbefore = paths-common.conf\n[DEFAULT]\nsshd_backend = systemd\n',
    'jail.conf': '[INCLUDES]\nbefore = paths-debian.conf\n[sshd]\nbackend = %(sshd_backend)s\n[dropbear]\nbackend = %(default_backend)s\n',
  });
  tt.same(loadConfig(join(dir, 'jail.conf'), opts).jails.map((j) => j.backend.kind), ['systemd', 'auto'], "%(sshd_backend)s as Debian's paths files set it");
});

t.test('an enabled jail without logpath is fine', async (tt) => {
  const [j] = parseConfig('[sshd]\nenabled = true\n', FILE, opts).jails;
  tt.equal(j?.enabled, true);
  tt.same(j?.logpath, []);
});

t.test('an unreadable file', async (tt) => {
  const dir = tt.testdir({ sub: {} });
  const missing = join(dir, 'nope.conf');
  const err = expectConfigError(tt, () => loadConfig(missing, opts), { file: missing, key: 'file', expected: 'a readable file' });
  tt.match(err?.message, /got "ENOENT"/);
  tt.equal((err?.cause as NodeJS.ErrnoException | undefined)?.code, 'ENOENT', 'the fs error is kept as cause');
  const asDir = join(dir, 'sub');
  expectConfigError(tt, () => loadConfig(asDir, opts), { file: asDir, key: 'file', expected: 'a readable file' });
});

t.test('syntax errors from a loaded file name it', async (tt) => {
  const dir = tt.testdir({ 'bad.conf': '# fine\nbantime = 1h\n' });
  const file = join(dir, 'bad.conf');
  expectConfigError(tt, () => loadConfig(file, opts), { file, key: 'line 2', expected: 'a [section] header before the first key' });
});

t.test('%(name)s interpolation and [INCLUDES], as fail2ban reads them', async (tt) => {
  const dir = tt.testdir({
    'paths-common.conf': '[INCLUDES]\nafter = paths-overrides.local\n[DEFAULT]\nsyslog_authpriv = /var/log/auth.log\nsshd_log = %(syslog_authpriv)s\nsshd_backend = %(default_backend)s\napache_error_log = /var/log/apache2/*error.log\n',
    'paths-debian.conf': '[INCLUDES]\nbefore = paths-common.conf\n[DEFAULT]\nsyslog_mail = /var/log/mail.log\n',
    'jail.local': `[INCLUDES]
before = paths-debian.conf

[DEFAULT]
my_nets = 192.0.2.0/24 198.51.100.0/24
ignoreip = 127.0.0.1/8 %(my_nets)s
bantime = 1h
hours = 2
long = %(hours)sh

[agent]
filter_path = /etc/fleetban/filter.d
              /srv/filters

[sshd]
enabled = true
logpath = %(sshd_log)s
action = %(action_mwl)s
failregex = %(known/failregex)s
            ^extra <HOST>$
mode = aggressive

[apache]
logpath = %(apache_error_log)s
filter = %(__name__)s-auth
bantime = %(long)s
`,
  });
  const c = loadConfig(join(dir, 'jail.local'), opts);
  const [sshd, apache] = c.jails;
  tt.same(sshd?.logpath, ['/var/log/auth.log'], 'a DEFAULT of an included file, through two levels');
  tt.same(sshd?.ignoreip, ['127.0.0.0/8', '192.0.2.0/24', '198.51.100.0/24'], 'a helper key of DEFAULT (not a typo: something refers to it)');
  tt.same(sshd?.failregex, ['%(known/failregex)s', '^extra <HOST>$'], '%(known/...)s is left for the filter stage');
  tt.equal(sshd?.options.action?.value, '%(action_mwl)s', 'a fail2ban-only key with an unknown reference is kept as written');
  tt.equal(sshd?.options.mode?.value, 'aggressive');
  tt.same(apache?.logpath, ['/var/log/apache2/*error.log']);
  tt.equal(apache?.filter, 'apache-auth', '%(__name__)s is the section name');
  tt.equal(apache?.bantimeMs, 7_200_000, 'nested references');
  tt.throws(() => parseConfig('[DEFAULT]\nx = %(bantime)s\n[j]\nbantime = %(x)s\n', FILE, opts), /at most 10 levels/, 'a loop is an error');
  tt.same(c.agent.filterPath, ['/etc/fleetban/filter.d', '/srv/filters']);
  tt.same(sshd?.filterPath, ['/etc/fleetban/filter.d', '/srv/filters'], 'every jail gets the filter path');
  tt.throws(() => parseConfig('[sshd]\nfindtime = %%(x)s\n', FILE, opts), 'a literal %% stays a % (and is then a bad duration)');
});

t.test('a .local next to the file overrides it, and KNOWN values stay reachable', async (tt) => {
  const dir = tt.testdir({
    'fleetban.conf': '[DEFAULT]\nmaxretry = 5\n[sshd]\nenabled = false\nignoreip = 192.0.2.1\n',
    'fleetban.local': '[sshd]\nenabled = true\nignoreip = %(known/ignoreip)s 192.0.2.2\n',
  });
  const [sshd] = loadConfig(join(dir, 'fleetban.conf'), opts).jails;
  tt.equal(sshd?.enabled, true);
  tt.same(sshd?.ignoreip, ['192.0.2.1', '192.0.2.2']);
});
