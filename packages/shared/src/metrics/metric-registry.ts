/**
 * The controller's and the agent's Prometheus metrics, on prom-client. Counters and gauges are
 * read at scrape time from the numbers their owners already keep (a counter set, a reporter's
 * counters, an enforcer's report): nothing counts twice. Only histograms are observed as things
 * happen. prom-client stays behind this module: the packages see names, labels and callbacks.
 */

import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';
import { FleetbanError } from '../errors.js';
import type { MetricsPage } from './metrics-server.js';

/** Label values by label name. */
export type Labels = Readonly<Record<string, string>>;

/** What a counter or gauge reads at scrape time: one value, or one value per label set. */
export type MetricRows = number | Iterable<readonly [Labels, number]>;

/** Records one observation of a histogram (seconds, bytes...). */
export type Observe = (value: number, labels?: Labels) => void;

let promModule: typeof import('prom-client') | undefined;

/**
 * prom-client, loaded by the first registry: importing this package's door must not load it (with
 * its process collectors, about 40 modules and a few MB), since an agent without `[agent] metrics`
 * never makes a registry.
 */
function prom(): typeof import('prom-client') {
  return (promModule ??= createRequire(import.meta.url)('prom-client') as typeof import('prom-client'));
}

/** Every metric name starts with this. */
export const METRIC_PREFIX = 'fleetban_';

/** Buckets for latencies in seconds, from 1 ms to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** prom-client's process gauges whose names end in `_total`. */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * One process's metrics. Names must start with {@link METRIC_PREFIX}; counters end in `_total`.
 * Node's process metrics (`process_*`, `nodejs_*`) are included.
 */
export class MetricRegistry {
  readonly #registry: Registry = new (prom().Registry)();

  constructor() {
    prom().collectDefaultMetrics({ register: this.#registry });
    // gauges named like counters (promtool refuses them); nodejs_active_* by type stay
    for (const name of MISNAMED_DEFAULTS) this.#registry.removeSingleMetric(name);
  }

  /** A counter read from `read()` at every scrape (a monotonic number its owner keeps). */
  counter(name: string, help: string, labelNames: readonly string[], read: () => MetricRows): void {
    checkName(name, true);
    new (prom().Counter)({
      name, help, labelNames, registers: [this.#registry],
      collect() {
        this.reset();
        const rows = read();
        if (typeof rows === 'number') return void this.inc(rows);
        for (const [labels, v] of rows) this.inc(labels, v);
      },
    });
  }

  /** A gauge read from `read()` at every scrape; label sets not returned are dropped. */
  gauge(name: string, help: string, labelNames: readonly string[], read: () => MetricRows): void {
    checkName(name, false);
    new (prom().Gauge)({
      name, help, labelNames, registers: [this.#registry],
      collect() {
        this.reset();
        const rows = read();
        if (typeof rows === 'number') return void this.set(rows);
        for (const [labels, v] of rows) this.set(labels, v);
      },
    });
  }

  /** A histogram; returns the function that records one observation. */
  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Observe {
    checkName(name, false);
    const h = new (prom().Histogram)({ name, help, labelNames, buckets: [...buckets], registers: [this.#registry] });
    return (value, labels) => (labels ? h.observe(labels, value) : h.observe(value));
  }

  /** The text exposition of every metric, as Prometheus scrapes it. */
  async render(): Promise<MetricsPage> {
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }
}

function checkName(name: string, counter: boolean): void {
  if (!name.startsWith(METRIC_PREFIX) || name.endsWith('_total') !== counter) {
    throw new FleetbanError('METRIC_NAME', `metric ${name}: names start with ${METRIC_PREFIX}; counters, and only counters, end in _total`);
  }
}
