/**
 * fail2ban's own action.d files run unchanged: Debian's cloudflare.conf (curl + jq through a
 * shell) and a user's action written for fail2ban (fixtures/action.d/cloudflare-firewall.conf),
 * configured through the config loader, pointed at a local server that checks every request.
 */

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { buildActions, escapeTag, loadConfig, parseConfig, silentLogger } from '../src/index.js';
import { fail2banPackage } from '../../../test/fixtures/fail2ban-package.js';
import { ban, banEvent, unbanEvent } from './fixtures/ban-event.js';
import { type RecordedRequest, recordingServer } from './fixtures/recording-server.js';

const FIXTURE_ACTIONS = fileURLToPath(new URL('./fixtures/action.d', import.meta.url));
const pkg = fail2banPackage();
const debianActions = join(pkg.etc, 'action.d');

t.test("Debian's cloudflare.conf and a user's cloudflare action, from jail.conf's %(action_)s on", async (tt) => {
  const srv = await recordingServer((r: RecordedRequest) => {
    if (r.method !== 'GET') return { status: 200, body: '{"success":true}' };
    const id = r.url.startsWith('/rules') ? 'u-1' : 'cf-1';
    return { status: 200, body: JSON.stringify({ success: true, result: r.url.includes('198.51.100.9') ? [] : [{ id }] }) };
  });
  tt.teardown(() => srv.close());
  const dir = tt.testdir({});
  const cfRules = `${srv.url}/client/v4/user/firewall/access_rules/rules`;
  const file = join(dir, 'fleetban.conf');
  writeFileSync(file, `[INCLUDES]
before = ${join(pkg.etc, 'jail.conf')}

[sshd]
enabled = true
action = %(action_)s
         cloudflare[cfuser="ops@example.com", cftoken="cf-key", _cf_api_url="${cfRules}"]
         cloudflare-firewall[_cf_url="${srv.url}/rules"]
`);
  const cfg = loadConfig(file, { hostname: 'ctl-1' });
  const sshd = cfg.jails.find((j) => j.name === 'sshd');
  if (!sshd) throw new Error('no sshd jail');
  tt.same(sshd.actions.map((a) => a.name), ['cloudflare', 'cloudflare-firewall'], "jail.conf's banaction (iptables-multiport) is the agent's");
  const runners = buildActions(sshd, 'controller', { actionPath: [FIXTURE_ACTIONS, debianActions], logger: silentLogger() });
  tt.same(runners.map((r) => r.name), ['cloudflare', 'cloudflare-firewall']);
  for (const r of runners) await r.start();

  for (const r of runners) await r.run(banEvent());
  const [cfBan, userBan] = srv.requests.splice(0);
  tt.equal(cfBan?.method, 'POST');
  tt.equal(cfBan?.url, '/client/v4/user/firewall/access_rules/rules');
  tt.equal(cfBan?.headers['x-auth-email'], 'ops@example.com');
  tt.equal(cfBan?.headers['x-auth-key'], 'cf-key');
  tt.same(JSON.parse(cfBan?.body ?? ''), { mode: 'block', configuration: { target: 'ip', value: '203.0.113.7' }, notes: 'Fail2Ban sshd' });
  tt.equal(userBan?.method, 'POST');
  tt.equal(userBan?.url, '/rules');
  tt.equal(userBan?.headers.authorization, 'Bearer TOKEN');
  tt.equal(userBan?.headers['content-type'], 'application/json');
  tt.same(JSON.parse(userBan?.body ?? ''), { mode: 'block', configuration: { target: 'ip', value: '203.0.113.7' }, notes: 'jail sshd' });

  for (const r of runners) await r.run(unbanEvent());
  const [cfFind, cfDelete, userFind, userDelete] = srv.requests.splice(0);
  tt.equal(cfFind?.method, 'GET');
  tt.equal(cfFind?.url, '/client/v4/user/firewall/access_rules/rules?mode=block&configuration_target=ip&configuration_value=203.0.113.7&page=1&per_page=1&notes=Fail2Ban%20sshd');
  tt.equal(cfFind?.headers['x-auth-key'], 'cf-key');
  tt.equal(cfDelete?.method, 'DELETE');
  tt.equal(cfDelete?.url, '/client/v4/user/firewall/access_rules/rules/cf-1');
  tt.equal(userFind?.method, 'GET');
  tt.equal(userFind?.url, '/rules?mode=block&configuration_target=ip&configuration_value=203.0.113.7');
  tt.equal(userFind?.headers.authorization, 'Bearer TOKEN');
  tt.equal(userDelete?.method, 'DELETE');
  tt.equal(userDelete?.url, '/rules/u-1');
  tt.equal(userDelete?.headers.authorization, 'Bearer TOKEN');

  const [cf] = runners;
  await cf?.run(banEvent(ban({ ip: '2001:db8::7' })));
  tt.match(JSON.parse(srv.requests.splice(0)[0]?.body ?? ''), { configuration: { target: 'ip6', value: '2001:db8::7' } }, "cloudflare.conf's [Init?family=inet6]");

  for (const r of runners) await r.run(unbanEvent(ban({ ip: '198.51.100.9' })));
  // Debian's file tests for an empty id, but jq prints "null": it deletes .../null (Cloudflare
  // answers 404, curl -s exits 0), exactly as under fail2ban; the user's file checks for "null".
  tt.same(srv.requests.splice(0).map((r) => `${r.method} ${r.url.split('?')[0] ?? ''}`), [
    'GET /client/v4/user/firewall/access_rules/rules',
    'DELETE /client/v4/user/firewall/access_rules/rules/null',
    'GET /rules',
  ], 'no rule found: both end well');
  for (const r of runners) await r.stop();
});

t.test('the configuration examples of docs/actions.md load and build', async (tt) => {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/actions.md', import.meta.url)), 'utf8');
  const blocks = [...doc.matchAll(/```ini\n([\s\S]*?)```/g)].map((m) => m[1] as string).filter((b) => !b.includes('[Definition]'));
  tt.ok(blocks.length >= 4, `${blocks.length} examples`);
  const dir = tt.testdir({});
  for (const block of blocks) {
    const text = (/^\[/m.test(block) ? block : `[sshd]\n${block}`).replaceAll('/etc/fail2ban/jail.conf', join(pkg.etc, 'jail.conf'));
    const cfg = parseConfig(text, join(dir, 'fleetban.conf'), { hostname: 'ctl-1' });
    const jails = cfg.jails.filter((j) => j.actions.length > 0);
    tt.ok(jails.length > 0, `actions read from:\n${block}`);
    for (const j of jails) {
      const n = (['controller', 'host'] as const).flatMap((site) => buildActions(j, site, { actionPath: [FIXTURE_ACTIONS, debianActions], logger: silentLogger() })).length;
      tt.equal(n, j.actions.length, `${j.name}: every action builds`);
    }
  }
});

t.test("Debian's cloudflare-token.conf (awk instead of jq), with the zone and token as options", async (tt) => {
  const srv = await recordingServer((r) => (r.method === 'GET' ? { status: 200, body: '{"result":[{"id":"tok-9","paused":false,"mode":"block"}],"success":true}' } : { status: 200, body: '{"success":true}' }));
  tt.teardown(() => srv.close());
  const dir = tt.testdir({});
  const rules = `${srv.url}/client/v4/zones/0123abcd/firewall/access_rules/rules`;
  // notes without a space: the file puts <notes> into the unban URL unencoded, and curl refuses a
  // URL with a space (exit 3: the unban then "cannot find" the rule, under fail2ban as well)
  const jail = parseConfig(`[nginx]\naction = cloudflare-token[cfzone=0123abcd, cftoken=tok, notes="Fail2Ban-<name>", _cf_api_url="${rules}"]\n`, join(dir, 'fleetban.conf'), { hostname: 'ctl-1' }).jails[0];
  if (!jail) throw new Error('no jail');
  const [r] = buildActions(jail, 'controller', { actionPath: [debianActions], logger: silentLogger() });
  if (!r) throw new Error('no runner');
  await r.run(banEvent(ban({ jail: 'nginx' })));
  await r.run(unbanEvent(ban({ jail: 'nginx' })));
  const [b, g, d] = srv.requests;
  tt.equal(b?.method, 'POST');
  tt.equal(b?.url, '/client/v4/zones/0123abcd/firewall/access_rules/rules');
  tt.equal(b?.headers.authorization, 'Bearer tok');
  tt.same(JSON.parse(b?.body ?? ''), { mode: 'block', configuration: { target: 'ip', value: '203.0.113.7' }, notes: 'Fail2Ban-nginx' });
  tt.equal(g?.method, 'GET');
  // the lookup's parameters: in the URL (fail2ban 1.0.2's file), or, from 1.1.0's
  // `curl -X GET --data-urlencode ...` (no -G), in the body of the GET
  const [path, query] = (g?.url ?? '').split('?');
  tt.equal(path, '/client/v4/zones/0123abcd/firewall/access_rules/rules');
  tt.same(Object.fromEntries(new URLSearchParams(query ?? g?.body ?? '')), { mode: 'block', notes: 'Fail2Ban-nginx', 'configuration.target': 'ip', 'configuration.value': '203.0.113.7' }, 'the lookup names the rule');
  tt.equal(d?.method, 'DELETE');
  tt.equal(d?.url, '/client/v4/zones/0123abcd/firewall/access_rules/rules/tok-9');
  tt.same(JSON.parse(d?.body ?? ''), { cascade: 'none' });
});

t.test("Debian's abuseipdb.conf: the log lines it reports never run, through a curl that records its arguments", async (tt) => {
  const dir = tt.testdir({});
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'curl-args');
  writeFileSync(join(bin, 'curl'), `#!/bin/sh\nfor a in "$@"; do printf '[%s]\\n' "$a"; done > '${log}'\n`);
  chmodSync(join(bin, 'curl'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path ?? ''}`;
  tt.teardown(() => {
    process.env.PATH = path;
  });
  const pwned = join(dir, 'pwned');
  const matches = [`sshd[1]: Invalid user $(touch ${pwned}) from 203.0.113.7`, `sshd[2]: Invalid user \`touch ${pwned}\`; touch ${pwned} from 203.0.113.7`];
  const jail = parseConfig('[sshd]\naction = abuseipdb[abuseipdb_apikey=key-1, abuseipdb_category=18]\n', join(dir, 'fleetban.conf'), { hostname: 'ctl-1' }).jails[0];
  if (!jail) throw new Error('no jail');
  const [r] = buildActions(jail, 'controller', { actionPath: [debianActions], logger: silentLogger() });
  await r?.run(banEvent(ban({ matches, user: `$(touch ${pwned})` })));
  tt.notOk(existsSync(pwned), 'nothing from the log lines ran');
  const inQuotes = (v: string) => escapeTag(v).replace(/\\([$`"\\])/g, '$1');
  const args = readFileSync(log, 'utf8');
  tt.ok(args.includes('[Key: key-1]'));
  tt.ok(args.includes('[ip=203.0.113.7]'));
  tt.ok(args.includes('[categories=18]'));
  tt.ok(args.includes(`[comment=${inQuotes(matches.join('\n'))}\n...]`), 'the comment carries the escaped lines, as fail2ban\'s would');
});
