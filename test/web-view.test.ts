// The web view on real parts: nats-server, a controller serving the page and an agent with real
// nft, all in a network namespace the test creates, and Debian's chromium (playwright-core)
// inside it. A wrong token is refused, the API is 401 without a session; a ban made with the CLI
// appears on an open page; a read-only session has no controls and its POST is 403; an admin
// unbans from the page and the agent's nft set loses the element. Log-derived strings are shown
// as text. A screenshot is saved to test/artifacts/web-view.png (gitignored).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { hasChromium, launchBrowser } from './fixtures/browser.js';
import { FleetbanProcess, runFleetban } from './fixtures/fleetban-process.js';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { startNatsServer } from './fixtures/nats-server.js';
import { createNetns } from './fixtures/netns.js';
import { nftElements } from './fixtures/nft-set.js';
import { waitUntil } from './fixtures/wait-until.js';

const READ_TOKEN = 'read-only-token-of-the-web-view';
const ADMIN_TOKEN = 'admin-token-of-the-web-view-0123';
const BANNED = '203.0.113.7';
const HOSTILE_IP = '198.51.100.23';
const HOSTILE_USER = '<script>window.__pwned=1</script>';
const ARTIFACTS = new URL('./artifacts/', import.meta.url).pathname;

/** Two sshd failures naming a user made of markup. */
const hostileFailures = () =>
  `Nov 21 12:00:00 web-1 sshd[10]: Failed password for invalid user ${HOSTILE_USER} from ${HOSTILE_IP} port 40000 ssh2\n` +
  `Nov 21 12:00:01 web-1 sshd[10]: Failed password for invalid user ${HOSTILE_USER} from ${HOSTILE_IP} port 40002 ssh2\n`;

/** Logs in on `page` with `token`; resolves with the login POST's status. */
async function login(page: Page, base: string, token: string): Promise<number> {
  await page.goto(`${base}/login`);
  await page.fill('#token', token);
  const [resp] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'), page.click('#login')]);
  return resp.status();
}

/** The visible table row showing `ip`. */
const rowOf = (page: Page, ip: string) => page.locator('#rows .row:not([hidden])', { has: page.locator('span', { hasText: new RegExp(`^${ip.replace(/\./g, '\\.')}$`) }) });

/** POSTs from inside the page (its cookie, its CSRF token); resolves with the status. */
const postFromPage = (page: Page, path: string, body: unknown) =>
  page.evaluate(
    async ([p, b]) => {
      const s = (await (await fetch('/api/session')).json()) as { csrf: string };
      const r = await fetch(p as string, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Fleetban-Csrf': s.csrf }, body: JSON.stringify(b) });
      return r.status;
    },
    [path, body] as const,
  );

t.test('the web view: login, live bans, read-only and admin', { skip: hasChromium ? false : 'chromium not installed (apt-get install chromium)' }, async (t) => {
  const dir = testDir(t, {});
  const ns = await createNetns(t, 'web');
  const nats = await startNatsServer(t, { netns: ns.name, host: '127.0.0.1', port: 4222 });
  const adminTokenFile = join(dir, 'web-admin.token');
  writeFileSync(adminTokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  const web = `\n[controller]\nweb = 127.0.0.1:9609\nweb_token = ${READ_TOKEN}\nweb_admin_token = file:${adminTokenFile}\n`;
  const ctlConf = writeTestConfig({ host: 'ctl', nats: nats.url, dir, maxretry: 2, bantime: '1h', extra: web });
  const agentConf = writeTestConfig({ host: 'web-1', nats: nats.url, dir, maxretry: 2, bantime: '1h' });
  const sshdLog = join(dir, 'web-1', 'sshd.log');
  writeFileSync(sshdLog, '');
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', ctlConf], { netns: ns.name });
  await controller.waitForMsg('serving the web view', 30_000);
  await controller.waitForMsg('controller ready', 30_000);
  const agent = FleetbanProcess.start(t, 'web-1', ['agent', '-c', agentConf], { netns: ns.name });
  await agent.waitForMsg('agent ready', 30_000);
  const base = 'http://127.0.0.1:9609';
  const browser: Browser = await launchBrowser(t, { netns: ns.name, dir });
  const cli = (...argv: string[]) => runFleetban([...argv, '-c', ctlConf], { netns: ns.name });
  const inSet = async (ip: string) => (await nftElements(ns.name)).includes(ip);

  await t.test('without a session the API is 401; a wrong token is refused; the headers forbid inline code', async (t) => {
    const page = await (await browser.newContext()).newPage();
    const resp = await page.goto(`${base}/`);
    t.equal(new URL(page.url()).pathname, '/login', 'the page sends a browser without a session to /login');
    const h = resp!.headers();
    t.equal(h['content-security-policy']?.split(';')[0], "default-src 'self'", 'Content-Security-Policy: default-src self');
    t.equal(h['x-content-type-options'], 'nosniff');
    t.equal(h['referrer-policy'], 'no-referrer');
    t.equal(await page.evaluate(async () => (await fetch('/api/session')).status), 401, 'GET /api/session without a cookie: 401');
    t.equal(await page.evaluate(async () => (await fetch('/api/events')).status), 401, 'GET /api/events without a cookie: 401');
    t.equal(await login(page, base, 'not-the-token-at-all-0000'), 401, 'a wrong token: 401');
    t.match(await page.textContent('#login-error'), /not valid/, 'and the form says so');
    t.same(await page.context().cookies(), [], 'no cookie set');
    await page.context().close();
  });

  await t.test('read-only: a CLI ban appears live; no controls; a POST is 403; hostile text stays text', async (t) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    t.equal(await login(page, base, READ_TOKEN), 303, 'the read-only token logs in');
    const [cookie] = await context.cookies();
    t.match(cookie, { name: 'fleetban_session', httpOnly: true, sameSite: 'Strict' }, 'an HttpOnly SameSite=Strict cookie');
    await page.waitForSelector('#link.live');
    await page.waitForFunction(() => document.getElementById('role')?.textContent !== '');
    t.equal(await page.textContent('#role'), 'read-only');
    const ban = await cli('ban', BANNED);
    t.equal(ban.code, 0, `fleetban ban ${BANNED}`);
    // the page was open before the ban: it arrives over the event stream, no reload
    await rowOf(page, BANNED).waitFor({ timeout: 1_000 });
    t.pass(`${BANNED} appeared on the open page within a second of the CLI's answer`);
    t.equal(await page.locator('button.unban, #ban-form').count(), 0, 'no ban form and no unban button');
    t.equal(await postFromPage(page, '/api/unban', { ip: BANNED }), 403, 'POST /api/unban with the read-only session: 403');
    t.equal(await postFromPage(page, '/api/ban', { ip: '203.0.113.99' }), 403, 'POST /api/ban: 403');
    await waitUntil(() => inSet(BANNED), `${BANNED} in web-1's nft set`, 30_000);
    t.pass(`web-1's nft set holds ${BANNED}`);

    appendFileSync(sshdLog, hostileFailures());
    await rowOf(page, HOSTILE_IP).waitFor({ timeout: 30_000 });
    const row = rowOf(page, HOSTILE_IP);
    // the user column is filled once bans carry the failure's user (the decider on main leaves it empty)
    t.ok(['', HOSTILE_USER].includes((await row.locator('span').nth(8).textContent()) ?? ''), 'the user column, if filled, is the text itself');
    t.match(await row.locator('span').nth(9).textContent(), HOSTILE_USER, 'and so is the evidence line');
    t.equal(await page.locator('#rows script').count(), 0, 'no element made from it');
    t.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'nothing of it ran');
    await page.waitForFunction((ip) => [...document.querySelectorAll('#top-prefixes td')].some((td) => td.textContent === ip), '198.51.100.0/24');
    t.pass('the hostile address\'s /24 is among the top networks');
    await context.close();
  });

  await t.test('admin: unban from the page; the agent\'s nft set loses the element', async (t) => {
    await waitUntil(() => inSet(BANNED), `${BANNED} in web-1's nft set`, 30_000);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    t.equal(await login(page, base, ADMIN_TOKEN), 303, 'the admin token (read from its file) logs in');
    await page.waitForFunction(() => document.getElementById('role')?.textContent !== '');
    t.equal(await page.textContent('#role'), 'admin');
    await rowOf(page, BANNED).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#hosts tbody tr').length === 1);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-view.png'), fullPage: true });
    t.comment(`screenshot: ${join(ARTIFACTS, 'web-view.png')}`);
    t.equal(await page.locator('#hosts tbody tr td').first().textContent(), 'web-1', 'the fleet host is listed');
    const gone = controller.waitForNext((e) => e.msg === 'unbanned by admin' && e.ip === BANNED && e.by === 'web', 10_000, 'the web unban');
    await rowOf(page, BANNED).locator('button.unban').click();
    await gone;
    await rowOf(page, BANNED).waitFor({ state: 'detached', timeout: 5_000 });
    t.pass('the row left the page');
    await waitUntil(async () => !(await inSet(BANNED)), `${BANNED} gone from web-1's nft set`, 30_000);
    t.pass(`web-1's nft set no longer holds ${BANNED}`);
    t.equal((await cli('banned', BANNED)).code === 0 ? 'banned' : 'not banned', 'not banned', 'fleetban banned agrees');

    // a ban from the page, and a refused one (the fleet's own loopback is protected)
    await page.fill('#ban-ip', '203.0.113.8');
    await page.click('#ban-button');
    await rowOf(page, '203.0.113.8').waitFor({ timeout: 5_000 });
    t.pass('a ban from the page appears on it');
    await page.fill('#ban-ip', '127.0.0.1');
    await page.click('#ban-button');
    await page.waitForSelector('#msg.err');
    t.match(await page.textContent('#msg'), /refused/, 'a protected address is refused by the guard, and the page says why');
    t.equal(await page.evaluate(async () => (await fetch('/api/unban', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"ip":"203.0.113.8"}' })).status), 403, 'an admin POST without the CSRF header: 403');
    await context.close();
  });

  await browser.close();
  await agent.stop();
  await controller.stop();
});
