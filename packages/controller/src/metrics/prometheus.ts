import {
  type BanDecision,
  type BanEvent,
  type Clock,
  isActive,
  LATENCY_BUCKETS,
  type ListenAddress,
  type Logger,
  MetricRegistry,
  type MetricsServer,
  serveMetricsIfSet,
} from '@fleetban/shared';
import type { HostRegistry } from '../fleet/host-registry.js';
import type { BanStore } from '../store/ban-store.js';
import type { BreakdownRow, CounterSet } from './counter-set.js';

/** What the controller's metrics read: the owners of the numbers. */
export interface ControllerMetricSources {
  readonly counters: CounterSet;
  readonly store: BanStore;
  readonly hosts: HostRegistry;
  readonly clock: Clock;
}

/** Counters of the intake and the decider that are not a counted failure: their kind is the rest of the name. */
const EVENT_PREFIX = 'events.';
const NOT_REJECTED = new Set(['events.received', 'events.counted']);
/** Counters whose breakdown is (jail, reason) of a ban made. */
const BANS_MADE = ['bans.made', 'bans.recidive', 'bans.manual'];

/**
 * The controller's Prometheus metrics (docs/metrics.md). Every counter and gauge is read at scrape
 * time from its owner — the {@link CounterSet} (inputs, rejections, bans made, by jail, host and
 * reason), the {@link BanStore} (active bans), the {@link HostRegistry} (fleet hosts and their
 * last heartbeat) — so no number is kept twice. The decision latency is observed by the failure
 * handler through {@link banStored}. Served on `[controller] metrics` when that is set.
 */
export class ControllerMetrics {
  readonly #registry = new MetricRegistry();
  readonly #decision = this.#registry.histogram(
    'fleetban_controller_decision_seconds',
    'Time from a failure reaching the decider to the ban it caused being stored in the ban list, by jail.',
    ['jail'],
    LATENCY_BUCKETS,
  );
  #server: MetricsServer | undefined;

  constructor(private readonly s: ControllerMetricSources) {
    const r = this.#registry;
    const c = s.counters;
    r.counter('fleetban_controller_events_received_total', 'Failure event messages taken from the events stream (replays included).', [], () => c.get('events.received'));
    r.counter('fleetban_controller_failures_total', 'Decoded failures by jail, reporting host and outcome (counted, or why not).', ['jail', 'host', 'outcome'], () =>
      c.labelledNames().filter((n) => n.startsWith(EVENT_PREFIX)).flatMap((n) => rows(c.breakdown(n), ['jail', 'host'], { outcome: n.slice(EVENT_PREFIX.length) })));
    r.counter('fleetban_controller_events_rejected_total', 'Failure events not counted towards a ban, by kind (malformed, duplicate, rejected.stale, refused.<guard>, ...).', ['kind'], () =>
      prefixed(c, EVENT_PREFIX).filter(([name]) => !NOT_REJECTED.has(name)).map(([name, v]) => [{ kind: name.slice(EVENT_PREFIX.length) }, v] as const));
    r.counter('fleetban_controller_bans_total', 'Bans made and stored, by jail and reason (threshold, recidive, manual).', ['jail', 'reason'], () =>
      BANS_MADE.flatMap((n) => rows(c.breakdown(n), ['jail', 'reason'])));
    r.counter('fleetban_controller_bans_widened_total', 'Bans held on some hosts only that became fleet-wide, by jail.', ['jail'], () =>
      rows(c.breakdown('bans.widened'), ['jail', 'reason']).map(([l, v]) => [{ jail: l.jail ?? '' }, v] as const));
    r.counter('fleetban_controller_bans_refused_total', 'Bans the guard refused before they were stored, by refusal.', ['kind'], () =>
      prefixed(c, 'bans.refused.').map(([name, v]) => [{ kind: name.slice('bans.refused.'.length) }, v] as const));
    r.counter('fleetban_controller_ban_write_failures_total', 'Attempts to store a ban that failed (each is retried).', [], () => c.get('bans.write-failed'));
    r.counter('fleetban_controller_unbans_total', 'Bans lifted, by jail and why (expired, admin, replaced: another ban took its place).', ['jail', 'why'], () =>
      rows(c.breakdown('bans.lifted'), ['jail', 'why']));
    r.counter('fleetban_actions_delivered_total', 'Ban events delivered by a controller-site action, by action and jail.', ['action', 'jail'], () =>
      rows(c.breakdown('actions.delivered'), ['action', 'jail']));
    r.counter('fleetban_actions_retried_total', 'Deliveries of a controller-site action that failed and were queued again with a delay, by action and jail.', ['action', 'jail'], () =>
      rows(c.breakdown('actions.retried'), ['action', 'jail']));
    r.counter('fleetban_actions_failed_total', 'Deliveries of a controller-site action given up (a failure retrying cannot help), by action and jail.', ['action', 'jail'], () =>
      rows(c.breakdown('actions.failed'), ['action', 'jail']));
    r.counter('fleetban_actions_queue_failures_total', 'Attempts to queue a ban event for its jail\'s actions that failed (the ban write is retried), by jail.', ['jail'], () =>
      rows(c.breakdown('actions.queue-failed'), ['jail']));
    r.counter('fleetban_controller_snapshots_total', 'Snapshots of the controller\'s state saved to the FLEETBAN_SNAPSHOTS stream, and attempts that failed (the previous snapshot stays the latest).', ['result'], () => [
      [{ result: 'saved' }, c.get('snapshots.saved')],
      [{ result: 'failed' }, c.get('snapshots.failed')],
    ]);
    r.counter('fleetban_controller_heartbeats_received_total', 'Heartbeat messages received from agents.', [], () => c.get('heartbeats.received'));
    r.counter('fleetban_controller_heartbeats_malformed_total', 'Heartbeat messages dropped as malformed.', [], () => c.get('heartbeats.malformed'));
    r.gauge('fleetban_controller_bans_active', 'Bans in force in the ban list, by jail and reason.', ['jail', 'reason'], () => this.#active());
    r.gauge('fleetban_fleet_hosts', 'Hosts of the fleet known to the controller (heard from, or read back from the hosts bucket).', [], () => s.hosts.list().length);
    r.gauge('fleetban_fleet_host_heartbeat_age_seconds', 'Seconds since each host\'s last heartbeat reached the controller.', ['host'], () => {
      const now = s.clock();
      return s.hosts.list().map((h) => [{ host: h.host }, Math.max(0, now - h.lastHeartbeatMs) / 1000] as const);
    });
  }

  /** Records a ban stored `seconds` after its failure reached the decider (FailureHandler's `stored`). */
  readonly banStored = (seconds: number, d: BanDecision): void => this.#decision(seconds, { jail: d.jail });

  /** Counts each ban lifted by jail and why (a {@link BanStore} listener). */
  readonly banEvent = (e: BanEvent): void => {
    if (e.kind === 'unban') this.s.counters.add('bans.lifted', 1, [e.ban.jail, e.why ?? 'replaced']);
  };

  /**
   * Serves `GET /metrics` on `at` (nothing when null). An address that cannot be bound is logged
   * as an error and the controller goes on without metrics: decisions never wait on them.
   */
  async start(at: ListenAddress | null, logger: Logger): Promise<void> {
    this.#server = await serveMetricsIfSet(at, () => this.#registry.render(), logger);
  }

  /** Stops serving. */
  async stop(): Promise<void> {
    await this.#server?.close();
    this.#server = undefined;
  }

  #active(): Array<readonly [Record<string, string>, number]> {
    const byKey = new Map<string, number>();
    const now = this.s.clock();
    for (const b of this.s.store.bans.values()) {
      if (!isActive(b, now)) continue;
      const k = `${b.jail}\n${b.reason}`;
      byKey.set(k, (byKey.get(k) ?? 0) + 1);
    }
    return [...byKey].map(([k, v]) => {
      const [jail = '', reason = ''] = k.split('\n');
      return [{ jail, reason }, v] as const;
    });
  }
}

/** Breakdown rows as label sets named `names`, plus `extra` labels. */
function rows(r: readonly BreakdownRow[], names: readonly string[], extra: Record<string, string> = {}): Array<readonly [Record<string, string>, number]> {
  return r.map((row) => [{ ...Object.fromEntries(names.map((n, i) => [n, row.labels[i] ?? ''])), ...extra }, row.value] as const);
}

/** Flat counters whose name starts with `prefix`, as [name, value]. */
function prefixed(c: CounterSet, prefix: string): Array<[string, number]> {
  return Object.entries(c.snapshot()).filter(([name]) => name.startsWith(prefix));
}
