import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { GarbageCollectionStats, ReconcileStats } from '@hodei/domain';
import type { ProviderEntry } from '../workers/provider-entry.js';
import {
  registerManagerCounters,
  registerSpoolGauges,
  registerWorkerGauge,
  type SpoolState,
} from './scrape-time-metrics.js';

export type { SpoolState } from './scrape-time-metrics.js';

/**
 * The server's Prometheus metrics (SPEC §8), prefix `hodei_`. Gauges and the counters kept by
 * the managers are read at scrape time; pass durations and provider call latencies are
 * observed as they happen.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly gcDuration: Histogram<'provider'>;
  readonly reconcileDuration: Histogram<'provider'>;
  readonly providerCallDuration: Histogram<'provider' | 'kind' | 'operation' | 'outcome'>;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;

  constructor(providers: () => readonly ProviderEntry[], spool: () => SpoolState | undefined) {
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];

    registerWorkerGauge(registers, providers);
    registerManagerCounters(registers, providers);
    registerSpoolGauges(registers, spool);

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
  }

  observeGc(provider: string, stats: GarbageCollectionStats): void {
    this.gcDuration.observe({ provider }, stats.durationMs / 1000);
  }

  observeReconcile(provider: string, stats: ReconcileStats): void {
    this.reconcileDuration.observe({ provider }, stats.durationMs / 1000);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
