import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import {
  silentLogger,
  type GarbageCollectionStats,
  type LifecycleEvent,
  type Logger,
  type ReconcileStats,
} from '@hodei/domain';
import { DEFAULT_OBSERVABILITY } from '../config/observability-config.js';
import type { ProviderEntry } from '../workers/provider-entry.js';
import { LifecycleEventMetrics } from './lifecycle-event-metrics.js';
import { ProviderCallReporter } from './provider-call-reporter.js';
import { ProviderFailureStreaks, type DegradationRule } from './provider-failure-streaks.js';
import {
  registerBuildInfo,
  registerManagerCounters,
  registerProviderUp,
  registerSpoolGauges,
  registerWorkerGauge,
  type SpoolState,
} from './scrape-time-metrics.js';

export type { SpoolState } from './scrape-time-metrics.js';

export interface MetricsOptions {
  /** Where failed provider calls are logged; nowhere by default. */
  readonly logger?: Logger;
  /** When a provider counts as degraded; 3 failures in a row, for 60 s, by default. */
  readonly degradation?: DegradationRule;
  /** Epoch milliseconds; `Date.now` by default. */
  readonly now?: () => number;
}

const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/**
 * The server's Prometheus metrics (SPEC §8), prefix `hodei_`. Gauges and the counters kept by
 * the managers are read at scrape time; pass durations, provider call latencies, HTTP
 * requests, publish failures and workers' lives are observed as they happen.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly gcDuration: Histogram<'provider'>;
  readonly reconcileDuration: Histogram<'provider'>;
  readonly providerCallDuration: Histogram<'provider' | 'kind' | 'operation' | 'outcome'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_class'>;
  readonly publishFailures: Counter<'provider' | 'publisher'>;
  /** Failed provider calls logged, and the failure streaks `/readyz` reads. */
  readonly providerCalls: ProviderCallReporter;
  /** The publisher the fan-out feeds: workers' lifetimes, terminations and cleanups. */
  readonly events: LifecycleEventMetrics;
  #publishers: readonly string[] = [];

  constructor(
    providers: () => readonly ProviderEntry[],
    spool: () => SpoolState | undefined,
    options: MetricsOptions = {},
  ) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const streaks = new ProviderFailureStreaks(
      options.degradation ?? {
        afterFailures: DEFAULT_OBSERVABILITY.degradedAfterFailures,
        forMs: DEFAULT_OBSERVABILITY.degradedForMs,
      },
      options.now,
    );
    this.providerCalls = new ProviderCallReporter(options.logger ?? silentLogger, streaks);

    registerBuildInfo(registers);
    registerWorkerGauge(registers, providers);
    registerManagerCounters(registers, providers);
    registerSpoolGauges(registers, spool);
    registerProviderUp(registers, providers, streaks);
    this.events = new LifecycleEventMetrics(registers, providers);

    this.gcDuration = new Histogram({
      name: 'hodei_gc_duration_seconds',
      help: 'Duration of deadline passes.',
      labelNames: ['provider'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'hodei_reconcile_duration_seconds',
      help: 'Duration of reconciliation passes.',
      labelNames: ['provider'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
    this.providerCallDuration = new Histogram({
      name: 'hodei_provider_call_duration_seconds',
      help: 'Latency of calls to providers (Docker Engine, the Kubernetes stub).',
      labelNames: ['provider', 'kind', 'operation', 'outcome'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30],
      registers,
    });
    this.httpRequests = new Counter({
      name: 'hodei_http_requests_total',
      help: 'HTTP requests by route and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'hodei_http_request_duration_seconds',
      help: 'Time to answer HTTP requests (streams: until they end), by route and status class.',
      labelNames: ['method', 'route', 'status_class'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const publisherNames = () => this.#publishers;
    this.publishFailures = new Counter({
      name: 'hodei_event_publish_failures_total',
      help: 'Lifecycle events a publisher failed to take, by provider and publisher.',
      labelNames: ['provider', 'publisher'] as const,
      registers,
      collect() {
        // Touched at each scrape, so every series exists before its first failure.
        for (const entry of providers())
          for (const publisher of publisherNames()) this.inc({ provider: entry.id, publisher }, 0);
      },
    });
  }

  observeGc(provider: string, stats: GarbageCollectionStats): void {
    this.gcDuration.observe({ provider }, stats.durationMs / 1000);
  }

  observeReconcile(provider: string, stats: ReconcileStats): void {
    this.reconcileDuration.observe({ provider }, stats.durationMs / 1000);
  }

  /** One answered HTTP request: its count and its duration. */
  observeRequest(method: string, route: string, status: number, durationMs: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe(
      { method, route, status_class: statusClass(status) },
      Math.max(0, durationMs) / 1000,
    );
  }

  /**
   * Counts the failures of the fan-out's publishers under their names (`postgres`, `logger`,
   * `live`, …); returns the fan-out's failure listener.
   */
  countPublishFailures(
    publishers: readonly string[],
  ): (publisher: string, events: readonly LifecycleEvent[]) => void {
    this.#publishers = [...publishers];
    return (publisher, events) => {
      const perProvider = new Map<string, number>();
      for (const e of events)
        perProvider.set(e.providerId, (perProvider.get(e.providerId) ?? 0) + 1);
      for (const [provider, n] of perProvider) this.publishFailures.inc({ provider, publisher }, n);
    };
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
