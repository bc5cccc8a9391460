import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { WORKER_STATES, type GarbageCollectionStats, type ReconcileStats } from '@hodei/domain';
import type { ProviderEntry } from '../workers/worker-service.js';

export interface SpoolState {
  readonly spooled: number;
  readonly oldestAgeMs: number | null;
  readonly connected: boolean;
}

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

    new Gauge({
      name: 'hodei_workers',
      help: 'Tracked workers by provider and state.',
      labelNames: ['provider', 'state'] as const,
      registers,
      collect() {
        this.reset();
        for (const entry of providers()) {
          const counts = Object.fromEntries(WORKER_STATES.map((s) => [s, 0])) as Record<
            string,
            number
          >;
          for (const w of entry.lifecycle?.manager.listWorkers() ?? [])
            counts[w.state] = (counts[w.state] ?? 0) + 1;
          for (const [state, n] of Object.entries(counts))
            this.set({ provider: entry.id, state }, n);
        }
      },
    });

    const fromCounters = (
      name: string,
      help: string,
      read: (c: {
        transitions: number;
        eventsPublished: number;
        publishFailures: number;
        lostWorkers: number;
        orphansDetected: number;
      }) => number,
    ) => {
      const seen = new Map<string, number>();
      new Counter({
        name,
        help,
        labelNames: ['provider'] as const,
        registers,
        collect() {
          for (const entry of providers()) {
            const counters = entry.lifecycle?.manager.counters;
            if (counters === undefined) continue;
            const now = read(counters);
            const delta = now - (seen.get(entry.id) ?? 0);
            // Always touched, so the series exists from the first scrape.
            this.inc({ provider: entry.id }, Math.max(0, delta));
            seen.set(entry.id, now);
          }
        },
      });
    };
    fromCounters(
      'hodei_worker_transitions_total',
      'Worker state transitions.',
      (c) => c.transitions,
    );
    fromCounters(
      'hodei_events_published_total',
      'Lifecycle events published.',
      (c) => c.eventsPublished,
    );
    fromCounters(
      'hodei_event_publish_failures_total',
      'Lifecycle events a publisher failed to take.',
      (c) => c.publishFailures,
    );
    fromCounters(
      'hodei_workers_lost_total',
      'Tracked workers whose resource vanished.',
      (c) => c.lostWorkers,
    );
    fromCounters(
      'hodei_orphans_detected_total',
      'Resources with our labels that nothing tracked.',
      (c) => c.orphansDetected,
    );

    new Gauge({
      name: 'hodei_spooled_events',
      help: 'Events waiting in the local spool for PostgreSQL.',
      registers,
      collect() {
        this.set(spool()?.spooled ?? 0);
      },
    });
    new Gauge({
      name: 'hodei_spool_oldest_age_seconds',
      help: 'Age of the oldest event in the local spool.',
      registers,
      collect() {
        this.set((spool()?.oldestAgeMs ?? 0) / 1000);
      },
    });

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
