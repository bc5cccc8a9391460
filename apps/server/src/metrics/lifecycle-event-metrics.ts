import {
  CLEANUP_REASONS,
  TERMINATION_REASONS,
  type LifecycleEvent,
  type LifecycleEventPublisher,
  type PublishError,
  type Worker,
} from '@hodei/domain';
import { okAsync, type ResultAsync } from 'neverthrow';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ProviderEntry } from '../workers/provider-entry.js';

type Providers = () => readonly ProviderEntry[];

/** A worker's reason to end when none was recorded (it ended without being asked to). */
const NO_REASON = 'None';

/**
 * The metrics of workers' lives, derived from the lifecycle events the fan-out publishes:
 * `hodei_worker_lifetime_seconds` (created to terminated or failed), and the terminations and
 * cleanups by reason. A publisher that never fails and keeps nothing per worker: at a life's
 * end it reads the worker's creation time, mode and reason from its manager, which still
 * tracks it then (it is cleaned up later) — so lives recovered after a restart count too.
 */
export class LifecycleEventMetrics implements LifecycleEventPublisher {
  readonly lifetime: Histogram<'provider' | 'mode' | 'outcome'>;
  readonly terminations: Counter<'provider' | 'reason'>;
  readonly cleanups: Counter<'provider' | 'reason'>;

  constructor(registers: Registry[], providers: Providers) {
    this.lifetime = new Histogram({
      name: 'hodei_worker_lifetime_seconds',
      help: 'Worker lifetimes, from creation to termination (outcome terminated) or failure.',
      labelNames: ['provider', 'mode', 'outcome'] as const,
      buckets: [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 86_400],
      registers,
    });
    // Every reason is touched at each scrape, so each series exists before its first end.
    const zeroed = (counter: Counter<'provider' | 'reason'>, reasons: readonly string[]) => {
      for (const entry of providers()) {
        if (entry.lifecycle === undefined) continue;
        for (const reason of reasons) counter.inc({ provider: entry.id, reason }, 0);
      }
    };
    this.terminations = new Counter({
      name: 'hodei_worker_terminations_total',
      help: 'Workers that ended (terminated or failed), by the reason of their termination.',
      labelNames: ['provider', 'reason'] as const,
      registers,
      collect() {
        zeroed(this, TERMINATION_REASONS);
      },
    });
    this.cleanups = new Counter({
      name: 'hodei_worker_cleanups_total',
      help: 'Workers cleaned up (resource removed, tracking ended), by reason.',
      labelNames: ['provider', 'reason'] as const,
      registers,
      collect() {
        zeroed(this, CLEANUP_REASONS);
      },
    });
    this.#lookup = (providerId, workerId) =>
      providers()
        .find((p) => p.id === providerId)
        ?.lifecycle?.manager.getWorker(workerId);
  }

  readonly #lookup: (providerId: string, workerId: string) => Worker | undefined;

  publish(event: LifecycleEvent): ResultAsync<void, PublishError> {
    this.#observe(event);
    return okAsync(undefined);
  }

  publishBatch(events: readonly LifecycleEvent[]): ResultAsync<void, PublishError> {
    for (const event of events) this.#observe(event);
    return okAsync(undefined);
  }

  close(): ResultAsync<void, PublishError> {
    return okAsync(undefined);
  }

  #observe(event: LifecycleEvent): void {
    switch (event.type) {
      case 'WorkerEphemeralTerminated':
      case 'WorkerEphemeralFailed':
        this.#ended(event, event.type === 'WorkerEphemeralTerminated' ? 'terminated' : 'failed');
        return;
      case 'WorkerEphemeralCleanedUp':
        this.cleanups.inc({ provider: event.providerId, reason: event.cleanupReason });
        return;
      default:
        return;
    }
  }

  #ended(event: LifecycleEvent & { readonly workerId: string }, outcome: string): void {
    const worker = this.#lookup(event.providerId, event.workerId);
    this.terminations.inc({
      provider: event.providerId,
      reason: worker?.terminationReason ?? NO_REASON,
    });
    if (worker === undefined) return;
    const endedAt = Date.parse(event.occurredAt);
    if (!Number.isFinite(endedAt)) return;
    this.lifetime.observe(
      { provider: event.providerId, mode: worker.mode, outcome },
      Math.max(0, endedAt - worker.createdAt) / 1000,
    );
  }
}
