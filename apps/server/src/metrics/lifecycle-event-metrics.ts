import {
  CLEANUP_REASONS,
  TERMINATION_REASONS,
  type DueRule,
  type LifecycleEvent,
  type LifecycleEventPublisher,
  type PublishError,
  type TerminationReason,
  type Worker,
  type WorkerEphemeralFailed,
  type WorkerEphemeralIdle,
  type WorkerEphemeralTerminated,
  type WorkerEphemeralTerminating,
} from '@hodei/domain';
import { okAsync, type ResultAsync } from 'neverthrow';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { ProviderEntry } from '../workers/provider-entry.js';
import { RecentObservations } from './recent-observations.js';

type Providers = () => readonly ProviderEntry[];

/** A worker's reason to end when none was recorded (it ended without being asked to). */
const NO_REASON = 'None';

/** The deadline-pass rules whose reap lag is observed, each a value of the `rule` label. */
export const REAP_RULES = [
  'lifetime',
  'idle',
  'startup',
  'forceRemove',
  'ttl',
] as const satisfies readonly DueRule[];

/**
 * Seconds past a deadline: the pass runs every `HODEI_GC_INTERVAL_SECONDS` (30 s by default)
 * and a stop can take the graceful timeout (30 s by default), so edges at 30 and 60 s.
 */
export const REAP_LAG_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 15, 30, 45, 60, 90, 120, 300, 600];

/**
 * Seconds from last activity to stop: the idle timeout plus the lag. Edges at the profiles'
 * idle timeouts (300 s Docker, 600 s Kubernetes) and a minute past each, for the SLO.
 */
export const IDLE_TAIL_BUCKETS = [
  1, 5, 15, 30, 60, 120, 300, 360, 600, 660, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400,
];

/**
 * Most workers between their lifetime or idle Terminating and their Terminated at once: past
 * it the oldest is forgotten (its lag then not observed), so memory stays bounded.
 */
export const MAX_PENDING_TERMINATIONS = 100_000;

/** What a lifetime or idle termination's end needs from its start. */
interface PendingTermination {
  readonly rule?: 'lifetime' | 'idle';
  /** Epoch ms: the deadline the pass applied, when its event carried it. */
  readonly deadlineAt?: number;
  /** Epoch ms: the worker's last activity, when an event carried it. */
  readonly lastActivityAt?: number;
}

/** Epoch ms of an ISO time, or undefined when absent or unreadable. */
const epochMs = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
};

/** Seconds from `from` to `to`, never negative (a clock step must not make a lag negative). */
const secondsBetween = (from: number, to: number): number => Math.max(0, to - from) / 1000;

/**
 * The pending lifetime and idle terminations, by provider and worker, in insertion order so
 * the oldest is the one dropped at the bound. An entry lives from the Terminating (or the Idle
 * before it) to the worker's end, cleanup or loss.
 */
class PendingTerminations {
  readonly #byWorker = new Map<string, PendingTermination>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#byWorker.size;
  }

  merge(key: string, entry: PendingTermination): void {
    const merged = { ...this.#byWorker.get(key), ...entry };
    this.#byWorker.delete(key);
    this.#byWorker.set(key, merged);
    if (this.#byWorker.size > this.#max) {
      const oldest = this.#byWorker.keys().next();
      if (oldest.done !== true) this.#byWorker.delete(oldest.value);
    }
  }

  take(key: string): PendingTermination | undefined {
    const entry = this.#byWorker.get(key);
    this.#byWorker.delete(key);
    return entry;
  }
}

/** Keys of series already created, so a scrape's touch never resets one that has samples. */
class SeenSeries {
  readonly #keys = new Set<string>();

  /** True the first time `key` is given. */
  first(key: string): boolean {
    if (this.#keys.has(key)) return false;
    this.#keys.add(key);
    return true;
  }
}

const workerKey = (providerId: string, workerId: string): string =>
  `${providerId}\u0000${workerId}`;
const seriesKey = (providerId: string, rule: DueRule): string => `${providerId}\u0000${rule}`;

/**
 * The metrics of workers' lives, derived from the lifecycle events the fan-out publishes:
 * `hodei_worker_lifetime_seconds` (created to terminated or failed), the terminations and
 * cleanups by reason, the reap lag per rule (the action's time minus the deadline the pass
 * applied, from the events' `deadlineAt`) and the idle tail (an idle worker's stop minus its
 * last activity). A publisher that never fails. At a life's end it reads the worker's creation
 * time, mode and reason from its manager, which still tracks it then (it is cleaned up later)
 * — so lives recovered after a restart count too.
 *
 * The lifetime and idle lag need the deadline at the worker's Terminated, but the deadline is
 * on the Terminating before it: that event's `deadlineAt` is kept per worker until its end.
 * Not recomputed from the tracked worker at Terminated: `explainDeadlines` no longer gives a
 * lifetime or idle deadline for a finished worker, and redoing the policy maths here would
 * count terminations the pass did not time (no `deadlineAt`) and drift from what the pass
 * applied. The cost: a restart between the two loses that one observation.
 */
export class LifecycleEventMetrics implements LifecycleEventPublisher {
  readonly lifetime: Histogram<'provider' | 'mode' | 'outcome'>;
  readonly terminations: Counter<'provider' | 'reason'>;
  readonly cleanups: Counter<'provider' | 'reason'>;
  readonly reapLag: Histogram<'provider' | 'rule'>;
  readonly idleTail: Histogram<'provider'>;
  /** The same reap lags and idle tails, the last day of them, for `GET /v1/stats/deadlines`. */
  readonly recent = new RecentObservations();
  readonly #pending: PendingTerminations;
  /** The reap lag's series (provider, rule) and the idle tail's (provider) that exist. */
  readonly #lagSeries = new SeenSeries();
  readonly #tailSeries = new SeenSeries();

  constructor(
    registers: Registry[],
    providers: Providers,
    maxPending: number = MAX_PENDING_TERMINATIONS,
  ) {
    this.#pending = new PendingTerminations(maxPending);
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
    // These histograms are touched at each scrape too (a series for every managed provider and
    // rule from the first scrape, so `rate` sees the first observation); `zero` resets a
    // series, so only one neither touched nor observed before.
    const managed = () => providers().filter((entry) => entry.lifecycle !== undefined);
    const lagSeries = this.#lagSeries;
    const tailSeries = this.#tailSeries;
    this.reapLag = new Histogram({
      name: 'hodei_reap_lag_seconds',
      help: 'Time from a deadline to the action of the deadline pass on it (for lifetime and idle: the worker stopped), by rule.',
      labelNames: ['provider', 'rule'] as const,
      buckets: REAP_LAG_BUCKETS,
      registers,
      collect() {
        for (const entry of managed())
          for (const rule of REAP_RULES) {
            if (lagSeries.first(seriesKey(entry.id, rule))) this.zero({ provider: entry.id, rule });
          }
      },
    });
    this.idleTail = new Histogram({
      name: 'hodei_idle_tail_seconds',
      help: 'Time from an idle-terminated worker’s last activity to its stop.',
      labelNames: ['provider'] as const,
      buckets: IDLE_TAIL_BUCKETS,
      registers,
      collect() {
        for (const entry of managed()) {
          if (tailSeries.first(entry.id)) this.zero({ provider: entry.id });
        }
      },
    });
    this.#lookup = (providerId, workerId) =>
      providers()
        .find((p) => p.id === providerId)
        ?.lifecycle?.manager.getWorker(workerId);
  }

  readonly #lookup: (providerId: string, workerId: string) => Worker | undefined;

  /** Lifetime and idle terminations waiting for their worker's end (for tests). */
  get pendingTerminations(): number {
    return this.#pending.size;
  }

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
      case 'WorkerEphemeralIdle':
        this.#pendingIdle(event);
        return;
      case 'WorkerEphemeralTerminating':
        this.#terminating(event);
        return;
      case 'WorkerEphemeralTerminated':
        this.#ended(event, 'terminated');
        this.#terminated(event);
        return;
      case 'WorkerEphemeralFailed': {
        const reason = this.#ended(event, 'failed');
        this.#pending.take(workerKey(event.providerId, event.workerId));
        if (reason === 'StartupTimeout') this.#lag(event, 'startup', event.deadlineAt);
        return;
      }
      case 'WorkerEphemeralCleanedUp':
        this.cleanups.inc({ provider: event.providerId, reason: event.cleanupReason });
        this.#pending.take(workerKey(event.providerId, event.workerId));
        if (event.cleanupReason === 'TtlExpired') this.#lag(event, 'ttl', event.deadlineAt);
        return;
      case 'WorkerLost':
        this.#pending.take(workerKey(event.providerId, event.workerId));
        return;
      default:
        return;
    }
  }

  /** The pass's Idle before an idle Terminating: the last activity, as a fallback for the tail. */
  #pendingIdle(event: WorkerEphemeralIdle): void {
    const lastActivityAt = epochMs(event.lastActivity?.at ?? event.idleSince);
    if (lastActivityAt === undefined) return;
    this.#pending.merge(workerKey(event.providerId, event.workerId), { lastActivityAt });
  }

  /** A lifetime or idle Terminating: its deadline and last activity, kept until the end. */
  #terminating(event: WorkerEphemeralTerminating): void {
    const key = workerKey(event.providerId, event.workerId);
    const rule =
      event.reason === 'LifetimeExceeded'
        ? 'lifetime'
        : event.reason === 'IdleTimeout'
          ? 'idle'
          : undefined;
    if (rule === undefined) {
      this.#pending.take(key);
      return;
    }
    const deadlineAt = epochMs(event.deadlineAt);
    const lastActivityAt = epochMs(event.lastActivity?.at);
    this.#pending.merge(key, {
      rule,
      ...(deadlineAt === undefined ? {} : { deadlineAt }),
      ...(lastActivityAt === undefined ? {} : { lastActivityAt }),
    });
  }

  /**
   * The worker stopped: the lag of the lifetime or idle deadline that terminated it, the idle
   * tail, and, when the pass removed it by force, the force-remove lag.
   */
  #terminated(event: WorkerEphemeralTerminated): void {
    const pending = this.#pending.take(workerKey(event.providerId, event.workerId));
    if (pending?.rule !== undefined && pending.deadlineAt !== undefined)
      this.#lagFrom(event, pending.rule, pending.deadlineAt);
    if (event.forced) this.#lag(event, 'forceRemove', event.deadlineAt);
    const reason =
      event.reason ??
      this.#lookup(event.providerId, event.workerId)?.terminationReason ??
      (pending?.rule === 'idle' ? 'IdleTimeout' : undefined);
    if (reason !== 'IdleTimeout') return;
    const stoppedAt = epochMs(event.occurredAt);
    const lastActivityAt = epochMs(event.lastActivity?.at) ?? pending?.lastActivityAt;
    if (stoppedAt === undefined || lastActivityAt === undefined) return;
    const labels = { provider: event.providerId };
    this.#tailSeries.first(event.providerId);
    const tail = secondsBetween(lastActivityAt, stoppedAt);
    this.idleTail.observe(labels, tail);
    this.recent.add('idleTail', stoppedAt, tail);
  }

  /** The reap lag of `rule`: the event's time minus `deadlineAt`; none without a deadline. */
  #lag(event: LifecycleEvent, rule: DueRule, deadlineAt: string | undefined): void {
    const deadline = epochMs(deadlineAt);
    if (deadline !== undefined) this.#lagFrom(event, rule, deadline);
  }

  #lagFrom(event: LifecycleEvent, rule: DueRule, deadline: number): void {
    const at = epochMs(event.occurredAt);
    if (at === undefined) return;
    const labels = { provider: event.providerId, rule };
    this.#lagSeries.first(seriesKey(event.providerId, rule));
    const lag = secondsBetween(deadline, at);
    this.reapLag.observe(labels, lag);
    this.recent.add(rule, at, lag);
  }

  /** Counts the end and observes the life; the reason it ended, when known. */
  #ended(
    event: WorkerEphemeralTerminated | WorkerEphemeralFailed,
    outcome: string,
  ): TerminationReason | undefined {
    const worker = this.#lookup(event.providerId, event.workerId);
    this.terminations.inc({
      provider: event.providerId,
      reason: worker?.terminationReason ?? NO_REASON,
    });
    const reason = event.reason ?? worker?.terminationReason ?? undefined;
    if (worker === undefined) return reason;
    const endedAt = Date.parse(event.occurredAt);
    if (!Number.isFinite(endedAt)) return reason;
    this.lifetime.observe(
      { provider: event.providerId, mode: worker.mode, outcome },
      Math.max(0, endedAt - worker.createdAt) / 1000,
    );
    return reason;
  }
}
