// Durable delivery of controller-site actions, end to end on real parts: config → controller →
// JetStream → HTTP. nats-server on a loopback port, `fleetban controller` processes whose jails
// have `action = webhook[url=...]`, read by the config loader, and a real HTTP server on 127.0.0.1
// receiving each webhook. Each test waits on requests, log lines and the stream's state; none sleeps.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { ACTIONS_STREAM, adminRequest, encodeFailure, jetstream, type NatsConnection, queuedActions } from '@fleetban/shared';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { controllerClient } from './fixtures/fleet-client.js';
import { HookServer } from './fixtures/hook-server.js';
import { freePort, type NatsServer, startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';

/** A test's world: nats-server, its hook server, a client, and a way to start controllers. */
async function world(t: Test) {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const hook = await HookServer.start(t);
  const nc = await controllerClient(t, nats.url, 'test', dir);
  return { dir, nats, hook, nc, ...controllers(t, dir, nats, hook) };
}

/** Writes a controller's config (jails sshd, bantime 1h, and short, bantime 2s, each with a webhook to the hook server) and starts controllers. */
function controllers(t: Test, dir: string, nats: NatsServer, hook: HookServer) {
  const conf = (name: string, extra = '') => {
    const file = join(dir, `${name}.conf`);
    writeFileSync(
      file,
      `[fleetban]\nhost = ${name}\nnats = ${nats.url}\nstate_dir = ${join(dir, name)}\n\n[controller]\n${extra}\n\n` +
        `[DEFAULT]\nmaxretry = 3\nbantime = 1h\n\n[sshd]\nenabled = true\naction = webhook[url=${hook.url}]\n\n` +
        `[short]\nenabled = true\nbantime = 2s\naction = webhook[url=${hook.url}]\n`,
    );
    return file;
  };
  const start = (name: string, extra = '') => FleetbanProcess.start(t, name, ['controller', '-c', conf(name, extra)]);
  return { start };
}

let n = 0;
/** Three failures of `ip` in `jail`, as host web1 reports them: enough for a ban (maxretry 3). */
async function attack(nc: NatsConnection, ip: string, jail = 'sshd'): Promise<string> {
  const js = jetstream(nc);
  let id = '';
  for (let i = 0; i < 3; i++) {
    id = `web1:${jail}:l${++n}`;
    await js.publish(`fleetban.events.web1.${jail}`, encodeFailure({ id, host: 'web1', jail, ip, timeMs: Date.now(), user: 'root', line: `failure ${i} from ${ip}` }));
  }
  return id; // the failure that tips it over: the ban's id
}

/** True once the actions stream holds nothing: every delivery made or given up. */
const drained = (nc: NatsConnection) => async () => (await queuedActions(nc)) === 0;

/** A webhook body (the event, flattened: kind, id, ip, jail, why, ...) of `kind` for `ip`. */
const is = (kind: string, ip: string, why?: string) => (j: Record<string, unknown>) =>
  j.kind === kind && j.ip === ip && (why === undefined || j.why === why);

t.test('a ban and its unbans (admin, expiry): the HTTP server receives each exactly once', async (t) => {
  const w = await world(t);
  const ctl = w.start('ctl');
  await ctl.waitForMsg('controller ready');
  t.match(ctl.entries.find((e) => e.msg === 'controller actions queued through the actions stream')?.actions, ['sshd/webhook', 'short/webhook'], 'the jails\' webhooks, read from the config, started with the controller');

  const a = '203.0.113.21';
  const failureId = await attack(w.nc, a);
  await w.hook.waitFor((r) => r.status === 200 && r.json !== undefined && is('ban', a)(r.json), 'ban delivery');
  const [ban] = w.hook.delivered(is('ban', a));
  t.equal(ban?.json?.id, `ban:${failureId}`, 'the event id is the ban id, the id of the failure that caused it');
  t.match(ban?.json, { ip: a, jail: 'sshd', reason: 'threshold', user: 'root', failures: 3, bantime: 3600 }, 'the ban as stored, with the user of its failure');

  t.match(await adminRequest(w.nc, { verb: 'unban', jail: '', ip: a, bantimeMs: 0 }), { ok: true }, 'admin unban');
  await w.hook.waitFor((r) => r.status === 200 && r.json !== undefined && is('unban', a, 'admin')(r.json), 'admin unban delivery');

  const b = '203.0.113.22';
  await attack(w.nc, b, 'short');
  await w.hook.waitFor((r) => r.status === 200 && r.json !== undefined && is('unban', b, 'expired')(r.json), 'expiry unban delivery');

  await waitUntil(drained(w.nc), 'the actions stream drained');
  t.equal(w.hook.delivered(is('ban', a)).length, 1, 'one delivery of the ban');
  t.equal(w.hook.delivered(is('unban', a, 'admin')).length, 1, 'one of the admin unban');
  t.equal(w.hook.delivered(is('ban', b)).length, 1, 'one of the short ban');
  t.equal(w.hook.delivered(is('unban', b, 'expired')).length, 1, 'one of its expiry');
  t.equal(w.hook.requests.length, 4, 'nothing else');
  await ctl.stop('SIGTERM');
  t.ok(ctl.entries.some((e) => e.msg === 'controller actions stopped (actionstop run)'), 'actionstop ran at controller stop');
});

t.test('the receiver answers 500 twice, then 200: delivered on the third try, counted as retried', async (t) => {
  const w = await world(t);
  const port = await freePort();
  const ctl = w.start('ctl', `metrics = 127.0.0.1:${port}`);
  await ctl.waitForMsg('controller ready');
  w.hook.answers.push(500, 500);
  const ip = '203.0.113.31';
  await attack(w.nc, ip);
  await w.hook.waitFor((r) => r.status === 200, 'a successful delivery');
  t.same(w.hook.requests.map((r) => r.status), [500, 500, 200], 'two failures, then the delivery');
  t.ok(w.hook.requests.every((r) => r.json?.id === w.hook.requests[0]?.json?.id), 'the same event each time');
  const retries = ctl.entries.filter((e) => e.msg === 'action failed: retrying').map((e) => e.retryInMs);
  t.same(retries, [1000, 2000], 'retried after 1 s, then 2 s');
  await waitUntil(drained(w.nc), 'the actions stream drained');
  const page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(page, /^fleetban_actions_delivered_total\{action="webhook",jail="sshd"\} 1$/m, 'delivered: 1');
  t.match(page, /^fleetban_actions_retried_total\{action="webhook",jail="sshd"\} 2$/m, 'retried: 2');
  t.notMatch(page, /^fleetban_actions_failed_total\{/m, 'failed: none');
  await ctl.stop('SIGTERM');
});

t.test('a 4xx is given up: counted as failed, logged as an error, not retried', async (t) => {
  const w = await world(t);
  const port = await freePort();
  const ctl = w.start('ctl', `metrics = 127.0.0.1:${port}`);
  await ctl.waitForMsg('controller ready');
  w.hook.answers.push(404);
  await attack(w.nc, '203.0.113.35');
  await ctl.waitForMsg('action failed: given up');
  await waitUntil(drained(w.nc), 'the actions stream drained');
  t.equal(w.hook.requests.length, 1, 'tried once');
  const page = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(page, /^fleetban_actions_failed_total\{action="webhook",jail="sshd"\} 1$/m, 'failed: 1');
  await ctl.stop('SIGTERM');
});

t.test('a queued delivery survives a controller restart and is made exactly once', async (t) => {
  const w = await world(t);
  w.hook.fallback = 500;
  const first = w.start('ctl');
  await first.waitForMsg('controller ready');
  const ip = '203.0.113.41';
  await attack(w.nc, ip);
  await w.hook.waitFor(() => true, 'a first (failing) attempt');
  t.equal(await first.stop('SIGTERM'), 0, 'the controller stopped while the receiver was failing');
  t.equal(await queuedActions(w.nc), 1, 'the delivery is still queued');

  w.hook.fallback = 200;
  const second = w.start('ctl');
  await second.waitForMsg('controller ready');
  await w.hook.waitFor((r) => r.status === 200, 'the delivery');
  await waitUntil(drained(w.nc), 'the actions stream drained');
  t.equal(w.hook.delivered(is('ban', ip)).length, 1, 'made exactly once');
  await second.stop('SIGTERM');
});

t.test('two controllers: the active one SIGKILLed after the ban, the standby delivers, nothing twice', async (t) => {
  const w = await world(t);
  w.hook.fallback = 503;
  const a = w.start('ctl-a');
  await a.waitForMsg('controller ready');
  const b = w.start('ctl-b');
  await b.waitForMsg('standby: another controller is active');

  const ip = '203.0.113.51';
  await attack(w.nc, ip);
  await a.waitForMsg('ban');
  await w.hook.waitFor(() => true, 'a first attempt by the active controller');
  await a.stop('SIGKILL');
  w.hook.fallback = 200;
  await b.waitForMsg('controller ready', 20_000);
  await w.hook.waitFor((r) => r.status === 200, 'the delivery by the new active controller');
  await waitUntil(drained(w.nc), 'the actions stream drained');
  t.equal(w.hook.delivered(is('ban', ip)).length, 1, 'delivered once');
  const jsm = await jetstreamManager(w.nc);
  t.equal((await jsm.streams.info(ACTIONS_STREAM)).state.last_seq, 1, 'the stream stored the delivery once (a re-publish is dropped by its message id)');
  await b.stop('SIGTERM');
});

t.test('the actions stream deleted under a running controller: the next ban makes it again and is delivered', async (t) => {
  const w = await world(t);
  const ctl = w.start('ctl');
  await ctl.waitForMsg('controller ready');
  const jsm = await jetstreamManager(w.nc);
  await jsm.streams.delete(ACTIONS_STREAM);
  const ip = '203.0.113.61';
  await attack(w.nc, ip);
  await ctl.waitForMsg('ban', 30_000, { ip });
  t.pass('the ban is made');
  await w.hook.waitFor((r) => r.status === 200 && r.json !== undefined && is('ban', ip)(r.json), 'its delivery', 30_000);
  t.equal(w.hook.delivered(is('ban', ip)).length, 1, 'delivered once');
  await ctl.stop('SIGTERM');
});
