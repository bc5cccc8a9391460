import { Counter, Gauge, type Registry } from 'prom-client';
import { WORKER_STATES } from '@hodei/domain';
import { checkProvider } from './provider-check.js';
import type { ProviderFailureStreaks } from './provider-failure-streaks.js';
import { NODE_VERSION, SERVER_VERSION } from './build-info.js';
import type { ProviderEntry } from '../workers/provider-entry.js';

export interface SpoolState {
  readonly spooled: number;
  readonly oldestAgeMs: number | null;
  readonly connected: boolean;
}

type Providers = () => readonly ProviderEntry[];

interface ManagerCounters {
  readonly transitions: number;
  readonly eventsPublished: number;
  readonly lostWorkers: number;
  readonly orphansDetected: number;
}

// Metrics read at scrape time from the managers and the spool, not observed as they happen.

/** `hodei_workers`: tracked workers by provider and state. */
export function registerWorkerGauge(registers: Registry[], providers: Providers): void {
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
        for (const [state, n] of Object.entries(counts)) this.set({ provider: entry.id, state }, n);
      }
    },
  });
}

/** Counters the managers keep, exposed as Prometheus counters by their growth since the last scrape. */
export function registerManagerCounters(registers: Registry[], providers: Providers): void {
  const fromCounters = (name: string, help: string, read: (c: ManagerCounters) => number) => {
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
  fromCounters('hodei_worker_transitions_total', 'Worker state transitions.', (c) => c.transitions);
  fromCounters(
    'hodei_events_published_total',
    'Lifecycle events published.',
    (c) => c.eventsPublished,
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
}

/** The local spool's depth and age. */
export function registerSpoolGauges(
  registers: Registry[],
  spool: () => SpoolState | undefined,
): void {
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
}

/** `hodei_build_info`: 1, with the server's and Node.js' versions as labels. */
export function registerBuildInfo(registers: Registry[]): void {
  const info = new Gauge({
    name: 'hodei_build_info',
    help: 'The running server: its version and the Node.js version, as labels; always 1.',
    labelNames: ['version', 'node'] as const,
    registers,
  });
  info.set({ version: SERVER_VERSION, node: NODE_VERSION }, 1);
}

/**
 * `hodei_provider_up`: 1 when the provider passes its `/readyz` check (its health check
 * answers and it is not degraded by failures in a row), 0 otherwise; checked at scrape time.
 */
export function registerProviderUp(
  registers: Registry[],
  providers: Providers,
  streaks: ProviderFailureStreaks,
): void {
  new Gauge({
    name: 'hodei_provider_up',
    help: 'Whether the provider passes its readiness check (1) or not (0).',
    labelNames: ['provider'] as const,
    registers,
    async collect() {
      const checks = await Promise.all(
        providers().map(async (entry) => [entry.id, await checkProvider(entry, streaks)] as const),
      );
      this.reset();
      for (const [provider, check] of checks) this.set({ provider }, check.ok ? 1 : 0);
    },
  });
}
