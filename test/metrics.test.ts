// Prometheus metrics on real parts: nats-server, a controller and an agent (dry-run enforcer, a
// plain log file) as processes, each serving /metrics. Failure lines are written; the test then
// (1) fetches both pages and runs `promtool check metrics` on them, and (2) runs a real prometheus
// scraping both and asks its HTTP API until the failures and the ban appear. It waits on log lines
// and on query results; it asserts no wall-clock time.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { testDir } from './fixtures/test-dir.js';
import { FleetbanProcess } from './fixtures/fleetban-process.js';
import { writeTestConfig } from './fixtures/fleet-config.js';
import { freePort, startNatsServer } from './fixtures/nats-server.js';
import { waitUntil } from './fixtures/wait-until.js';

const ATTACKER = '203.0.113.10';
const hasTools = ['promtool', 'prometheus'].every((c) => spawnSync(c, ['--version']).status === 0);

/** Two sshd failures from `ip`, as web-1's log has them. */
const failures = (ip: string) =>
  `Nov 21 12:00:00 web-1 sshd[10]: Failed password for root from ${ip} port 40000 ssh2\n` +
  `Nov 21 12:00:01 web-1 sshd[10]: Failed password for root from ${ip} port 40002 ssh2\n`;

/** GET `url`: status and body. */
async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

/** The value of the sample `series` (name with its labels, as exposed) in an exposition page. */
function sample(page: string, series: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

t.test('controller and agent metrics: promtool-clean, scraped by prometheus', { skip: hasTools ? false : 'promtool/prometheus not installed (Debian package prometheus)' }, async (t) => {
  const dir = testDir(t, {});
  const nats = await startNatsServer(t);
  const [ctlPort, agentPort, promPort] = [await freePort(), await freePort(), await freePort()];
  const common = { nats: nats.url, dir, maxretry: 2, bantime: '1h' };
  const ctlConf = writeTestConfig({ ...common, host: 'ctl', extra: `\n[controller]\nmetrics = 127.0.0.1:${ctlPort}\n` });
  const agentConf = writeTestConfig({ ...common, host: 'web-1', enforcer: 'dry-run', agentExtra: `metrics = 127.0.0.1:${agentPort}` });
  const log = join(dir, 'web-1', 'sshd.log');
  writeFileSync(log, '');
  const controller = FleetbanProcess.start(t, 'controller', ['controller', '-c', ctlConf]);
  await controller.waitForMsg('controller ready', 30_000);
  const agent = FleetbanProcess.start(t, 'web-1', ['agent', '-c', agentConf]);
  await agent.waitForMsg('agent ready', 30_000);

  const enforced = agent.waitForNext((e) => e.msg === 'enforced' && Array.isArray(e.bans) && e.bans.includes(ATTACKER), 30_000, `enforced ${ATTACKER}`);
  const ban = controller.waitFor((e) => e.msg === 'ban' && e.ip === ATTACKER, 30_000, `ban ${ATTACKER}`);
  appendFileSync(log, failures(ATTACKER));
  await ban;
  await enforced;

  const ctlUrl = `http://127.0.0.1:${ctlPort}/metrics`;
  const agentUrl = `http://127.0.0.1:${agentPort}/metrics`;
  await t.test('each page holds the failures and the ban, and passes promtool check metrics', async (t) => {
    const ctl = await get(ctlUrl);
    const ag = await get(agentUrl);
    t.equal(ctl.status, 200, 'controller /metrics answers');
    t.equal(ag.status, 200, 'agent /metrics answers');
    t.equal(sample(ctl.body, 'fleetban_controller_failures_total{jail="sshd",host="web-1",outcome="counted"}'), 2, 'controller: 2 failures counted for sshd from web-1');
    t.equal(sample(ctl.body, 'fleetban_controller_bans_total{jail="sshd",reason="threshold"}'), 1, 'controller: 1 threshold ban made in sshd');
    t.equal(sample(ctl.body, 'fleetban_controller_bans_active{jail="sshd",reason="threshold"}'), 1, 'controller: 1 ban active');
    t.equal(sample(ctl.body, 'fleetban_controller_decision_seconds_count{jail="sshd"}'), 1, 'controller: one decision latency observed');
    t.equal(sample(ctl.body, 'fleetban_fleet_hosts'), 1, 'controller: one fleet host (web-1)');
    t.ok(ctl.body.includes('fleetban_fleet_host_heartbeat_age_seconds{host="web-1"}'), 'controller: web-1\'s heartbeat age');
    t.equal(sample(ag.body, 'fleetban_agent_failures_matched_total{jail="sshd"}'), 2, 'agent: 2 failures matched in sshd');
    t.equal(sample(ag.body, 'fleetban_agent_lines_read_total{jail="sshd"}'), 2, 'agent: 2 lines read');
    t.equal(sample(ag.body, 'fleetban_agent_fleet_bans'), 1, 'agent: 1 fleet ban enforced');
    t.equal(sample(ag.body, 'fleetban_agent_enforcement_seconds_count'), 1, 'agent: one enforcement latency observed');
    t.equal(sample(ag.body, 'fleetban_agent_fallback'), 0, 'agent: not in fallback');
    t.equal(sample(ag.body, 'fleetban_agent_reading_paced_total'), 0, 'agent: reading never waited for its own log');
    t.notOk(`${ctl.body}\n${ag.body}`.includes(ATTACKER), 'no address in any label');
    for (const [name, body] of [['controller', ctl.body], ['agent', ag.body]] as const) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      t.equal(check.status, 0, `promtool check metrics passes on the ${name}'s page${check.status === 0 ? '' : `: ${check.stdout}${check.stderr}`}`);
    }
    t.equal((await get(`http://127.0.0.1:${ctlPort}/`)).status, 404, 'any other path is 404');
    t.equal((await get(`http://127.0.0.1:${agentPort}/metrics/x`)).status, 404, 'any other path is 404 (agent)');
  });

  await t.test('a real prometheus scrapes both and its API returns the counts', async (t) => {
    const promDir = testDir(t, {});
    const promConf = join(promDir, 'prometheus.yml');
    writeFileSync(promConf, `global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: fleetban-controller
    static_configs: [{ targets: ['127.0.0.1:${ctlPort}'] }]
  - job_name: fleetban-agent
    static_configs: [{ targets: ['127.0.0.1:${agentPort}'] }]
`);
    const prom = spawn('prometheus', [`--config.file=${promConf}`, `--storage.tsdb.path=${join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const promErr: string[] = [];
    prom.stderr.on('data', (d: Buffer) => promErr.push(d.toString()));
    const exited = new Promise((r) => prom.once('exit', r));
    t.teardown(async () => {
      if (prom.exitCode === null && prom.signalCode === null) {
        process.kill(prom.pid as number, 'SIGKILL');
        await exited;
      }
    });
    const query = async (q: string): Promise<number | undefined> => {
      try {
        const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
        const j = (await r.json()) as { status: string; data?: { result: Array<{ value: [number, string] }> } };
        const v = j.data?.result[0]?.value[1];
        return v === undefined ? undefined : Number(v);
      } catch {
        return undefined;
      }
    };
    const expect = async (q: string, want: number, what: string) => {
      let got: number | undefined;
      await waitUntil(async () => (got = await query(q)) === want, `${what} (${q} = ${want}, last ${String(got)}; prometheus: ${promErr.slice(-3).join('')})`, 60_000);
      t.equal(got, want, what);
    };
    await expect('up{job="fleetban-controller"}', 1, 'prometheus scrapes the controller');
    await expect('up{job="fleetban-agent"}', 1, 'prometheus scrapes the agent');
    await expect('sum(fleetban_controller_failures_total{jail="sshd",outcome="counted"})', 2, 'failures counted by the controller');
    await expect('sum by (jail) (fleetban_controller_bans_total{jail="sshd"})', 1, 'bans made');
    await expect('fleetban_agent_failures_matched_total{jail="sshd"}', 2, 'failures matched on the agent');
    await expect('fleetban_agent_fleet_bans', 1, 'bans enforced on the agent');
  });

  await t.test('stopping closes both endpoints', async (t) => {
    t.equal(await agent.stop(), 0, 'agent stops cleanly');
    t.equal(await controller.stop(), 0, 'controller stops cleanly');
    for (const url of [ctlUrl, agentUrl]) t.rejects(fetch(url), `${url} is closed`);
  });
});
