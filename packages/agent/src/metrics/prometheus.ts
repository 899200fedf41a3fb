import {
  type Clock,
  LATENCY_BUCKETS,
  type ListenAddress,
  type Logger,
  type MetricRows,
  MetricRegistry,
  type MetricsServer,
  serveMetricsIfSet,
} from '@fleetban/shared';
import type { FirewallWriter } from '../decisions/firewall-writer.js';
import type { Enforcer } from '../enforce/enforcer.js';
import type { LocalFallback } from '../fallback/local-fallback.js';
import type { JailRunner } from '../jail/jail-runner.js';
import type { FailureReporter } from '../report/failure-reporter.js';
import type { LogGate } from '../report/log-gate.js';

/** What the agent's metrics read: the owners of the numbers. */
export interface AgentMetricSources {
  readonly jails: readonly JailRunner[];
  readonly reporter: FailureReporter;
  /** The hold of reading while the agent's own log lines wait to be written. */
  readonly logGate: Pick<LogGate, 'held'>;
  readonly writer: FirewallWriter;
  readonly enforcer: Enforcer;
  readonly fallback: LocalFallback;
  readonly clock: Clock;
}

/**
 * The agent's Prometheus metrics (docs/metrics.md). Counters and gauges are read at scrape time
 * from their owners — each jail's source and filter counters, the reporter's, the enforcer's
 * report, the firewall writer and the fallback — so no number is kept twice; labels are the
 * host's configured jails only. The enforcement latency is observed by the firewall writer through
 * {@link enforced}. Served on `[agent] metrics` when that is set.
 */
export class AgentMetrics {
  readonly #registry = new MetricRegistry();
  #s: AgentMetricSources | undefined;
  #server: MetricsServer | undefined;
  readonly #enforced = this.#registry.histogram(
    'fleetban_agent_enforcement_seconds',
    'Time from a fleet ban arriving (a change of the ban list) to the firewall holding it.',
    [],
    LATENCY_BUCKETS,
  );

  constructor() {
    const r = this.#registry;
    const perJail = (read: (j: JailRunner) => number) => (): MetricRows => (this.#s?.jails ?? []).map((j) => [{ jail: j.jail.name }, read(j)] as const);
    const one = (read: (s: AgentMetricSources) => number) => (): MetricRows => (this.#s ? read(this.#s) : []);
    r.counter('fleetban_agent_lines_read_total', 'Log lines read, by jail.', ['jail'], perJail((j) => j.sourceCounters().lines));
    r.counter('fleetban_agent_lines_skipped_total', 'Log lines skipped (longer than max_line, binary, not decodable as an entry), by jail.', ['jail'], perJail((j) => j.sourceCounters().skipped));
    r.counter('fleetban_agent_lines_undecodable_total', 'Log lines read with bytes the encoding could not decode, by jail.', ['jail'], perJail((j) => j.sourceCounters().undecodable));
    r.counter('fleetban_agent_failures_matched_total', 'Lines the jail\'s filter matched as failures and reported, by jail.', ['jail'], perJail((j) => j.counters.matched));
    r.counter('fleetban_agent_failures_allowlisted_total', 'Matched failures of an address in the jail\'s ignoreip (not reported), by jail.', ['jail'], perJail((j) => j.counters.allowlisted));
    r.gauge('fleetban_agent_log_behind_bytes', 'Bytes written to the jail\'s logs and not read yet, by jail.', ['jail'], perJail((j) => j.sourceCounters().bytesBehind));
    r.counter('fleetban_agent_failures_published_total', 'Failures acknowledged by the events stream.', [], one((s) => s.reporter.counters.published));
    r.gauge('fleetban_agent_failures_buffered', 'Failures waiting to be published (in memory and in the spool).', [], one((s) => s.reporter.counters.buffered));
    r.gauge('fleetban_agent_spool_bytes', 'Bytes of the on-disk spool not sent yet.', [], one((s) => s.reporter.counters.spoolBytes));
    r.counter('fleetban_agent_reading_blocked_total', 'Times reading was held back because the spool was full.', [], one((s) => s.reporter.counters.blocked));
    r.counter('fleetban_agent_reading_paced_total', 'Times reading waited for the agent\'s own log lines to be written (a log reader slower than the failures read).', [], one((s) => s.logGate.held));
    r.gauge('fleetban_agent_fleet_bans', 'Bans of the fleet\'s list this host enforces.', [], one((s) => s.writer.fleetSize));
    r.gauge('fleetban_agent_local_bans', 'Bans this host made on its own while the fleet was unreachable, in force.', [], one((s) => s.fallback.status().localBans));
    r.gauge('fleetban_agent_local_window_addresses', 'Addresses in the local failure windows (kept for local decisions), over every jail.', [], one((s) => s.fallback.window().tracked));
    r.counter('fleetban_agent_local_window_evicted_total', 'Addresses dropped from a full local failure window (least recently failing first).', [], one((s) => s.fallback.window().evicted));
    r.gauge('fleetban_agent_fallback', '1 while the fleet is unreachable and the host decides bans locally, else 0.', [], one((s) => (s.fallback.status().fallback ? 1 : 0)));
    r.gauge('fleetban_agent_firewall_elements', 'Elements in the firewall\'s ban sets, as last written or seen.', [], one((s) => s.enforcer.report().elements));
    r.counter('fleetban_agent_bans_enforced_total', 'Elements added to the firewall\'s ban sets (a new timeout included).', [], one((s) => s.enforcer.report().applied));
    r.counter('fleetban_agent_unbans_enforced_total', 'Elements removed from the firewall\'s ban sets (unbans and reconcile removals).', [], one((s) => s.enforcer.report().removed));
    r.counter('fleetban_agent_enforcement_failures_total', 'Elements the firewall could not take (invalid target, refused by the kernel).', [], one((s) => s.enforcer.report().failed));
    r.counter('fleetban_agent_drift_repaired_total', 'Differences between the kernel and the ban list found and repaired by a reconcile.', [], one((s) => s.enforcer.report().drift));
    r.counter('fleetban_agent_reconciles_total', 'Reconciles of the firewall with the ban list.', [], one((s) => s.enforcer.report().reconciles));
  }

  /** Records a fleet ban applied `seconds` after it arrived (FirewallWriter's `enforced`). */
  readonly enforced = (seconds: number): void => this.#enforced(seconds);

  /**
   * Reads `sources` from now on and serves `GET /metrics` on `at` (nothing when null). An address
   * that cannot be bound is logged as an error and the agent goes on without metrics: protection
   * never waits on them.
   */
  async start(at: ListenAddress | null, sources: AgentMetricSources, logger: Logger): Promise<void> {
    this.#s = sources;
    this.#server = await serveMetricsIfSet(at, () => this.#registry.render(), logger);
  }

  /** Stops serving. */
  async stop(): Promise<void> {
    await this.#server?.close();
    this.#server = undefined;
  }
}
