import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ActionError, type ActionRunner, buildActions, parseConfig, silentLogger } from '../src/index.js';
import { ban, banEvent, unbanEvent } from './fixtures/ban-event.js';
import { recordingServer } from './fixtures/recording-server.js';

const FILE = '/etc/fleetban/fleetban.conf';
const logger = silentLogger();

/** The runners of the one jail of `text` at `site`. */
function runners(text: string, site: 'controller' | 'host' = 'controller', actionPath: string[] = []): ActionRunner[] {
  const jail = parseConfig(text, FILE, { hostname: 'ctl-1' }).jails[0];
  if (!jail) throw new Error('no jail');
  return buildActions(jail, site, { actionPath, logger });
}

/** The one runner of `action = <spec>` in jail sshd. */
function one(spec: string): ActionRunner {
  const [r] = runners(`[sshd]\naction = ${spec}\n`);
  if (!r) throw new Error(`no runner for ${spec}`);
  return r;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  return undefined;
}

t.test('webhook: the event as JSON, signed with the secret', async (tt) => {
  const srv = await recordingServer();
  tt.teardown(() => srv.close());
  const r = one(`webhook[url="${srv.url}/hooks/f2b", secret=s3cret]`);
  tt.same([r.name, r.jail, r.site], ['webhook', 'sshd', 'controller']);
  await r.start();
  await r.run(banEvent());
  await r.run(unbanEvent());
  await r.stop();
  tt.equal(srv.requests.length, 2);
  const [b, u] = srv.requests;
  tt.equal(b?.method, 'POST');
  tt.equal(b?.url, '/hooks/f2b');
  tt.equal(b?.headers['content-type'], 'application/json');
  tt.same(JSON.parse(b?.body ?? ''), {
    kind: 'ban', id: 'ban:ev-1', ip: '203.0.113.7', jail: 'sshd', failures: 5, bantime: 600, bancount: 1,
    hosts: ['web-1', 'web-2'], matches: ban().matches, user: 'root', reason: 'threshold',
    atMs: ban().atMs, expiresMs: ban().expiresMs,
  });
  const sig = (body: string) => `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`;
  tt.equal(b?.headers['x-fleetban-signature'], sig(b?.body ?? ''));
  tt.match(JSON.parse(u?.body ?? ''), { kind: 'unban', id: 'unban:ev-1', why: 'expired', atMs: ban().expiresMs });
  tt.equal(u?.headers['x-fleetban-signature'], sig(u?.body ?? ''));

  const plain = one(`webhook[url="${srv.url}/plain"]`);
  await plain.run(banEvent(ban({ expiresMs: 0, user: undefined })));
  const p = srv.requests[2];
  tt.equal(p?.headers['x-fleetban-signature'], undefined, 'no secret, no signature');
  tt.match(JSON.parse(p?.body ?? ''), { bantime: -1, expiresMs: 0, user: '' }, 'permanent: bantime -1');
});

t.test('telegram: sendMessage with the chat id and a text', async (tt) => {
  const srv = await recordingServer(() => ({ status: 200, body: '{"ok":true}' }));
  tt.teardown(() => srv.close());
  const r = one(`telegram[token=123:ABC, chat_id=-100200, api_url="${srv.url}/tg/"]`);
  await r.run(banEvent());
  await r.run(unbanEvent());
  const [b, u] = srv.requests;
  tt.equal(b?.method, 'POST');
  tt.equal(b?.url, '/tg/bot123:ABC/sendMessage');
  const bb = JSON.parse(b?.body ?? '') as { chat_id: string; text: string };
  tt.equal(bb.chat_id, '-100200');
  tt.match(bb.text, /^fleetban: banned 203\.0\.113\.7 in jail sshd for 10m\n5 failures reported by web-1, web-2; ban #1; reason threshold; user root\nFailed password/);
  tt.same(JSON.parse(u?.body ?? ''), { chat_id: '-100200', text: 'fleetban: unbanned 203.0.113.7 in jail sshd (expired)' });
});

t.test('ntfy: text to <url>/<topic>, a Title, a bearer token', async (tt) => {
  const srv = await recordingServer();
  tt.teardown(() => srv.close());
  const r = one(`ntfy[url="${srv.url}", topic=fleet-bans, token=tk_abc]`);
  await r.run(banEvent());
  await r.run(unbanEvent());
  const [b, u] = srv.requests;
  tt.equal(b?.method, 'POST');
  tt.equal(b?.url, '/fleet-bans');
  tt.equal(b?.headers.title, 'fleetban: banned 203.0.113.7 (sshd)');
  tt.equal(b?.headers.authorization, 'Bearer tk_abc');
  tt.match(b?.body, /^fleetban: banned 203\.0\.113\.7 in jail sshd/);
  tt.equal(u?.headers.title, 'fleetban: unbanned 203.0.113.7 (sshd)');
  tt.equal(u?.body, 'fleetban: unbanned 203.0.113.7 in jail sshd (expired)');
  const anon = one(`ntfy[url="${srv.url}", topic=t2]`);
  await anon.run(banEvent());
  tt.equal(srv.requests[2]?.headers.authorization, undefined, 'no token, no Authorization');
});

t.test('discord: {content}, mentions from log lines never ping', async (tt) => {
  const srv = await recordingServer(() => ({ status: 204 }));
  tt.teardown(() => srv.close());
  const r = one(`discord[webhook_url="${srv.url}/api/webhooks/1/xyz"]`);
  await r.run(banEvent(ban({ matches: ['Invalid user @everyone from 203.0.113.7'] })));
  await r.run(unbanEvent());
  const [b, u] = srv.requests;
  tt.equal(b?.method, 'POST');
  tt.equal(b?.url, '/api/webhooks/1/xyz');
  const body = JSON.parse(b?.body ?? '') as { content: string; allowed_mentions: unknown };
  tt.match(body.content, /banned 203\.0\.113\.7[\s\S]*@everyone/);
  tt.same(body.allowed_mentions, { parse: [] });
  tt.match(JSON.parse(u?.body ?? ''), { content: 'fleetban: unbanned 203.0.113.7 in jail sshd (expired)' });
});

t.test('cloudflare: an IP access rule created on ban, found and deleted on unban', async (tt) => {
  const srv = await recordingServer((r) => {
    if (r.method === 'GET') {
      return { status: 200, body: JSON.stringify({ success: true, result: [{ id: 'r-own', notes: 'by hand' }, { id: 'r-42', notes: 'fleetban sshd' }] }) };
    }
    return { status: 200, body: '{"success":true,"result":{"id":"r-42"}}' };
  });
  tt.teardown(() => srv.close());
  const r = one(`cloudflare[token=cf-token, api_url="${srv.url}/client/v4"]`);
  await r.run(banEvent());
  await r.run(unbanEvent());
  const [b, g, d] = srv.requests;
  tt.equal(b?.method, 'POST');
  tt.equal(b?.url, '/client/v4/user/firewall/access_rules/rules');
  tt.equal(b?.headers.authorization, 'Bearer cf-token');
  tt.same(JSON.parse(b?.body ?? ''), { mode: 'block', configuration: { target: 'ip', value: '203.0.113.7' }, notes: 'fleetban sshd' });
  tt.equal(g?.method, 'GET');
  tt.equal(g?.url, '/client/v4/user/firewall/access_rules/rules?configuration.value=203.0.113.7&mode=block');
  tt.equal(g?.headers.authorization, 'Bearer cf-token');
  tt.equal(d?.method, 'DELETE');
  tt.equal(d?.url, '/client/v4/user/firewall/access_rules/rules/r-42', "only fleetban's rule is deleted");
  tt.equal(d?.headers.authorization, 'Bearer cf-token');
  tt.equal(srv.requests.length, 3);

  const zone = one(`cloudflare[token=t, zone=0123abcd, api_url="${srv.url}/client/v4"]`);
  await zone.run(banEvent(ban({ ip: '2001:db8::7' })));
  await zone.run(banEvent(ban({ ip: '198.51.100.0/24' })));
  tt.equal(srv.requests[3]?.url, '/client/v4/zones/0123abcd/firewall/access_rules/rules');
  tt.match(JSON.parse(srv.requests[3]?.body ?? ''), { configuration: { target: 'ip6', value: '2001:db8::7' } });
  tt.match(JSON.parse(srv.requests[4]?.body ?? ''), { configuration: { target: 'ip_range', value: '198.51.100.0/24' } });

  srv.respond((q) => (q.method === 'GET' ? { status: 200, body: '{"success":true,"result":[]}' } : { status: 404, body: '{}' }));
  await zone.run(unbanEvent());
  tt.equal(srv.requests.length, 6, 'nothing found on unban: done, no DELETE');
  srv.respond(() => ({ status: 400, body: '{"success":false,"errors":[{"code":10009,"message":"firewallaccessrules.api.duplicate_of_existing"}]}' }));
  await zone.run(banEvent());
  tt.pass('a rule that exists already counts as done');
});

t.test('HTTP failures: 5xx, 408, 429 and network errors are retryable, other 4xx not', async (tt) => {
  const srv = await recordingServer(() => ({ status: 500, body: 'boom' }));
  tt.teardown(() => srv.close());
  const kinds = [
    `webhook[url="${srv.url}/h"]`,
    `telegram[token=1:a, chat_id=1, api_url="${srv.url}"]`,
    `ntfy[url="${srv.url}", topic=t]`,
    `discord[webhook_url="${srv.url}/d"]`,
    `cloudflare[token=t, api_url="${srv.url}"]`,
  ];
  for (const [status, retryable] of [[500, true], [503, true], [408, true], [429, true], [400, false], [401, false], [403, false], [404, false]] as const) {
    srv.respond(() => ({ status, body: '{"errors":[{"code":1}]}' }));
    for (const k of kinds) {
      const err = await rejection(one(k).run(banEvent()));
      tt.ok(err instanceof ActionError, `${k} ${status}`);
      tt.equal((err as ActionError).retryable, retryable, `${k.split('[')[0]} on ${status}: retryable ${retryable}`);
      tt.equal((err as ActionError).code, 'ACTION_FAILED');
    }
  }
  srv.respond(() => ({ status: 301, headers: { Location: 'http://127.0.0.1:9/elsewhere' } }));
  const moved = await rejection(one(`webhook[url="${srv.url}/h"]`).run(banEvent()));
  tt.ok(moved instanceof ActionError && !moved.retryable, 'a redirect is not followed, and not retried');
  srv.respond(() => ({ status: 500 }));
  const tg = await rejection(one(`telegram[token=SECRET-TOKEN, chat_id=1, api_url="${srv.url}"]`).run(banEvent()));
  tt.notMatch((tg as Error).message, /SECRET-TOKEN/, 'the token is not in the message');
  await srv.close();
  const down = await rejection(one(`webhook[url="${srv.url}/h"]`).run(banEvent()));
  tt.ok(down instanceof ActionError && down.retryable, 'connection refused: retryable');
});

t.test('HTTP timeout: retryable', async (tt) => {
  const srv = await recordingServer();
  tt.teardown(() => srv.close());
  const { createServer } = await import('node:http');
  const hang = createServer(() => {});
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
  tt.teardown(() => new Promise<void>((resolve) => { hang.closeAllConnections(); hang.close(() => resolve()); }));
  const port = (hang.address() as { port: number }).port;
  const err = await rejection(one(`webhook[url="http://127.0.0.1:${port}/h", timeout=200ms]`).run(banEvent()));
  tt.ok(err instanceof ActionError && err.retryable, String(err));
  tt.match((err as Error).message, /no answer within 200 ms/);
});

t.test('command: argv without a shell, tags per argument, the user never run', async (tt) => {
  const dir = tt.testdir({});
  const out = join(dir, 'out.txt');
  const pwned = join(dir, 'pwned');
  const record = join(dir, 'record.sh');
  writeFileSync(record, '#!/bin/sh\nout=$1; shift\nfor a in "$@"; do printf "[%s]\\n" "$a"; done >> "$out"\n');
  chmodSync(record, 0o755);
  const [r] = runners(`[sshd]\nhost_action = command[ban="${record} ${out} ban <ip> 'user <F-USER>' <matches> <bantime> <name>", unban="${record} ${out} unban <ip> <F-NOPE>"]\n`, 'host');
  if (!r) throw new Error('no runner');
  tt.same([r.name, r.site], ['command', 'host']);
  const evil = ban({ user: `$(touch ${pwned})`, matches: [`x; touch ${pwned}`, `\`touch ${pwned}\``] });
  await r.run(banEvent(evil));
  await r.run(unbanEvent(evil));
  tt.notOk(existsSync(pwned), 'nothing from the event ran');
  tt.equal(readFileSync(out, 'utf8'), [
    '[ban]', '[203.0.113.7]', `[user $(touch ${pwned})]`, `[x; touch ${pwned}\n\`touch ${pwned}\`]`, '[600]', '[sshd]',
    '[unban]', '[203.0.113.7]', '[]', '',
  ].join('\n'));
  tt.same(runners('[sshd]\nhost_action = command[ban=true]\n', 'controller'), [], 'a host action is not run by the controller');
});

t.test('command: exit codes and timeouts', async (tt) => {
  const err = await rejection(one('command[ban="sh -c \'exit 3\'"]').run(banEvent()));
  tt.ok(err instanceof ActionError && err.retryable, 'non-zero exit: retryable');
  tt.match((err as Error).message, /exited with code 3/);
  const missing = await rejection(one('command[ban="/nonexistent/fleetban-nope <ip>"]').run(banEvent()));
  tt.ok(missing instanceof ActionError && !missing.retryable, 'a program that does not exist: not retryable');
  const slow = await rejection(one('command[ban="sleep 30", timeout=300ms]').run(banEvent()));
  tt.ok(slow instanceof ActionError && slow.retryable, 'timeout: retryable');
  tt.match((slow as Error).message, /timed out after 300 ms/);
  await one('command[unban="true"]').run(banEvent());
  tt.pass('no ban command: nothing to do');
});

t.test('repeated names get #2, #3; unknown names are ConfigErrors', async (tt) => {
  const rs = runners('[sshd]\naction = ntfy[topic=a]\n         ntfy[topic=b]\n         ntfy[topic=c]\n');
  tt.same(rs.map((r) => r.name), ['ntfy', 'ntfy#2', 'ntfy#3']);
  tt.throws(() => runners('[sshd]\naction = no-such-action[x=1]\n', 'controller', ['/nonexistent']), {
    code: 'CONFIG_INVALID',
    key: 'sshd.action (line 2)',
    expected: /a built-in action \(webhook, telegram, ntfy, discord, cloudflare, command\) or an action.d file no-such-action.conf in \/nonexistent/,
  });
  tt.throws(() => runners('[sshd]\naction = webhook[url="https://x.example/", sekret=1]\n', 'controller', ['/nonexistent']), {
    code: 'CONFIG_INVALID',
    expected: /webhook options among url, secret, timeout \(no action.d file webhook.conf has option sekret\)/,
  });
});
