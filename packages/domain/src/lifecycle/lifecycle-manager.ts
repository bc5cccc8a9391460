import { err, ok, okAsync, ResultAsync, type Result } from 'neverthrow';
import {
  emptyGcStats,
  type GarbageCollectionStats,
  type ReconcileStats,
} from '../events/gc-stats.js';
import type { EventMeta, LifecycleEvent } from '../events/lifecycle-event.js';
import type { Actor, CleanupReason, TerminationReason } from '../events/reasons.js';
import { retentionOf, validatePolicy, type EphemeralWorkerPolicy } from '../policy/policy.js';
import type { Clock } from '../ports/clock.port.js';
import type { LifecycleEventPublisher } from '../ports/event-publisher.port.js';
import type { WorkerEventHistory } from '../ports/event-store.port.js';
import type { IdGenerator } from '../ports/id-generator.port.js';
import { silentLogger, type Logger } from '../ports/logger.port.js';
import type {
  ManagedResource,
  ProviderWatchEvent,
  WatchSubscription,
  WorkerHandle,
  WorkerProvider,
  WorkerSpec,
  WorkerStatus,
} from '../ports/worker-provider.port.js';
import { isOwnedBy, OWNERSHIP_LABELS, parseOwnership } from '../provider/ownership.js';
import type { ProviderId, WorkerId } from '../worker/ids.js';
import type { WorkerMode } from '../worker/worker-mode.js';
import { isTerminal, type WorkerState } from '../worker/worker-state.js';
import { newWorker, transition, type TransitionInput, type Worker } from '../worker/worker.js';
import { DeadlineIndex } from './deadline-index.js';
import { dueRule, nextDeadline, type DueRule } from './deadlines.js';
import { KeyedMutex } from './keyed-mutex.js';
import { workerNotFound, type LifecycleError } from './lifecycle.errors.js';

export interface LifecycleManagerDeps {
  /** The bare provider: the passes act on resources through it. */
  readonly provider: WorkerProvider;
  readonly publisher: LifecycleEventPublisher;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** The provider's policy (a profile); workers carry their own effective copy. */
  readonly policy: EphemeralWorkerPolicy;
  readonly logger?: Logger;
  /** Where recovery reads each worker's last state; without it, state comes from the provider. */
  readonly history?: WorkerEventHistory;
  /** Provider calls a pass makes at once. */
  readonly concurrency?: number;
}

export interface OperationContext {
  readonly correlationId?: string;
  readonly actor?: Actor;
}

export interface WorkerFilter {
  readonly state?: WorkerState;
  readonly mode?: WorkerMode;
}

export interface OrphanReport {
  readonly detected: number;
  readonly removed: number;
  readonly errors: number;
}

export interface RecoveryReport {
  readonly recovered: number;
  readonly alreadyTracked: number;
  /** Resources with our provider id whose labels could not be read: left to orphan detection. */
  readonly unreadable: number;
}

export interface TerminatedDetails {
  readonly exitCode: number | null;
  readonly forced: boolean;
}

/** Counters the server exports as metrics. */
export interface LifecycleCounters {
  transitions: number;
  eventsPublished: number;
  publishFailures: number;
  lostWorkers: number;
  orphansDetected: number;
}

type Ctx = OperationContext | undefined;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const errorMessage = (e: { readonly type: string; readonly message?: string }): string =>
  e.message ?? e.type;

/**
 * Tracks the workers of one provider (SPEC §5): every state change is one event in causal
 * order per worker; calls on one worker are serialised; the deadline pass works from an index
 * of due times; reconciliation compares tracking with the provider; recovery rebuilds tracking
 * from the resources' labels after a restart.
 */
export class LifecycleManager {
  readonly providerId: ProviderId;
  readonly policy: EphemeralWorkerPolicy;
  readonly counters: LifecycleCounters = {
    transitions: 0,
    eventsPublished: 0,
    publishFailures: 0,
    lostWorkers: 0,
    orphansDetected: 0,
  };

  readonly #provider: WorkerProvider;
  readonly #publisher: LifecycleEventPublisher;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #logger: Logger;
  readonly #history: WorkerEventHistory | undefined;
  readonly #concurrency: number;

  readonly #workers = new Map<string, Worker>();
  readonly #deadlines = new DeadlineIndex();
  readonly #locks = new KeyedMutex();
  /** Orphans already reported, so each is reported once while it lasts. */
  readonly #reportedOrphans = new Set<string>();
  #orphansSinceGc = 0;
  #lastOrphanCheck: number | null = null;
  #gcCycle: Promise<Result<GarbageCollectionStats, LifecycleError>> | null = null;
  #reconcilePass: Promise<Result<ReconcileStats, LifecycleError>> | null = null;
  readonly #inFlight = new Set<Promise<void>>();
  /** GC and reconciliation never run at the same time. */
  #passes: Promise<unknown> = Promise.resolve();

  constructor(deps: LifecycleManagerDeps) {
    const policy = validatePolicy(deps.policy);
    if (policy.isErr()) {
      // A programmer error: profiles and built policies are validated before they get here.
      throw new TypeError(
        `invalid provider policy: ${policy.error.map((p) => p.message).join('; ')}`,
      );
    }
    this.providerId = deps.provider.providerId;
    this.policy = deps.policy;
    this.#provider = deps.provider;
    this.#publisher = deps.publisher;
    this.#clock = deps.clock;
    this.#ids = deps.ids;
    this.#logger = deps.logger ?? silentLogger;
    this.#history = deps.history;
    this.#concurrency = Math.max(1, deps.concurrency ?? 8);
  }

  get provider(): WorkerProvider {
    return this.#provider;
  }

  // ---------------------------------------------------------------- queries

  getWorker(workerId: string): Worker | undefined {
    return this.#workers.get(workerId);
  }

  listWorkers(filter: WorkerFilter = {}): Worker[] {
    const out: Worker[] = [];
    for (const w of this.#workers.values()) {
      if (filter.state !== undefined && w.state !== filter.state) continue;
      if (filter.mode !== undefined && w.mode !== filter.mode) continue;
      out.push(w);
    }
    return out;
  }

  get trackedCount(): number {
    return this.#workers.size;
  }

  handleOf(worker: Worker): WorkerHandle {
    return {
      workerId: worker.id,
      resourceId: worker.resourceId,
      providerId: worker.providerId,
      createdAt: worker.createdAt,
    };
  }

  /** True when the worker is finished and its retention is over (or it has none). */
  needsCleanup(workerId: string): boolean {
    const w = this.#workers.get(workerId);
    return w !== undefined && dueRule(w, this.#clock.now()) === 'ttl';
  }

  // ---------------------------------------------------------------- operations

  /** Starts tracking a created resource and emits the one WorkerEphemeralCreated. */
  initializeWorker(
    handle: WorkerHandle,
    spec: WorkerSpec,
    ctx?: Ctx,
  ): ResultAsync<Worker, LifecycleError> {
    return this.#locked(handle.workerId, async () => {
      if (this.#workers.has(handle.workerId)) {
        return err<Worker, LifecycleError>({
          type: 'WorkerAlreadyTracked',
          workerId: handle.workerId,
          message: `worker ${handle.workerId} is already tracked`,
        });
      }
      const policy = validatePolicy(spec.policy);
      if (policy.isErr()) {
        return err<Worker, LifecycleError>({
          type: 'InvalidPolicy',
          problems: policy.error,
          message: policy.error.map((p) => p.message).join('; '),
        });
      }
      const worker = newWorker({
        id: handle.workerId,
        providerId: this.providerId,
        mode: spec.mode,
        ...(spec.readiness === undefined ? {} : { readiness: spec.readiness }),
        resourceId: handle.resourceId,
        image: spec.image,
        // Share the provider's policy object when the worker did not override it.
        policy: samePolicy(spec.policy, this.policy) ? this.policy : spec.policy,
        createdAt: handle.createdAt,
      });
      this.#store(worker);
      await this.#publish({
        ...this.#workerMeta(worker.id, ctx),
        type: 'WorkerEphemeralCreated',
        mode: worker.mode,
        image: worker.image,
        resourceId: worker.resourceId,
        maxLifetimeSecs: Math.round(worker.policy.maxLifetime / 1000),
        ttlAfterCompletionSecs:
          worker.policy.ttlAfterCompletion === null
            ? null
            : Math.round(worker.policy.ttlAfterCompletion / 1000),
      });
      return ok(worker);
    });
  }

  markWorkerReady(workerId: string, ctx?: Ctx): ResultAsync<Worker, LifecycleError> {
    return this.#locked(workerId, () => this.#apply(workerId, { to: 'ready' }, ctx));
  }

  markWorkerBusy(workerId: string, ctx?: Ctx): ResultAsync<Worker, LifecycleError> {
    return this.#locked(workerId, () => this.#apply(workerId, { to: 'busy' }, ctx));
  }

  startTermination(
    workerId: string,
    reason: TerminationReason,
    ctx?: Ctx,
  ): ResultAsync<Worker, LifecycleError> {
    return this.#locked(workerId, () => this.#apply(workerId, { to: 'terminating', reason }, ctx));
  }

  markWorkerTerminated(
    workerId: string,
    details: TerminatedDetails,
    ctx?: Ctx,
  ): ResultAsync<Worker, LifecycleError> {
    return this.#locked(workerId, () =>
      this.#apply(workerId, { to: 'terminated', exitCode: details.exitCode }, ctx, {
        forced: details.forced,
      }),
    );
  }

  markWorkerFailed(
    workerId: string,
    error: string,
    ctx?: Ctx,
    reason?: TerminationReason,
  ): ResultAsync<Worker, LifecycleError> {
    return this.#locked(workerId, () =>
      this.#apply(
        workerId,
        { to: 'failed', error, ...(reason === undefined ? {} : { reason }) },
        ctx,
      ),
    );
  }

  /**
   * Stops tracking a finished worker and emits WorkerEphemeralCleanedUp. The resource is the
   * caller's business (the decorator and the pass remove it first). `startedAt`: when the
   * cleanup began, for `cleanupDurationMs`.
   */
  cleanupWorker(
    workerId: string,
    reason: CleanupReason,
    ctx?: Ctx,
    startedAt?: number,
  ): ResultAsync<void, LifecycleError> {
    return this.#locked(workerId, () => this.#cleanup(workerId, reason, ctx, startedAt));
  }

  /** `cleanupWorker` for a caller that holds the worker's lock. */
  async #cleanup(
    workerId: string,
    reason: CleanupReason,
    ctx: Ctx,
    startedAt: number | undefined,
  ): Promise<Result<void, LifecycleError>> {
    const w = this.#workers.get(workerId);
    if (w === undefined) return err(workerNotFound(workerId));
    if (!isTerminal(w.state)) {
      return err({
        type: 'WorkerNotFinished',
        workerId,
        state: w.state,
        message: `worker ${workerId} is ${w.state}: terminate it before cleaning it up`,
      });
    }
    this.#workers.delete(workerId);
    this.#deadlines.set(workerId, null);
    const now = this.#clock.now();
    await this.#publish({
      ...this.#workerMeta(workerId, ctx),
      type: 'WorkerEphemeralCleanedUp',
      cleanupReason: reason,
      cleanupDurationMs: Math.max(0, now - (startedAt ?? now)),
    });
    return ok(undefined);
  }

  /**
   * Applies what the provider says of a worker's resource (a watch notification, a
   * reconciliation, a status read after create), idempotently: running → ready (and busy for
   * a job); exited → terminated; missing → lost; unhealthy → terminated for HealthCheckFailed.
   */
  observeStatus(
    workerId: string,
    status: WorkerStatus,
    ctx?: Ctx,
    resourceId?: string,
  ): ResultAsync<Worker | undefined, LifecycleError> {
    const applied = this.#locked(
      workerId,
      async (): Promise<Result<Worker | undefined, LifecycleError>> => {
        const w = this.#workers.get(workerId);
        if (w === undefined || isTerminal(w.state)) return ok(w);
        // Said of another resource (the worker was re-created under its id): not this one.
        if (resourceId !== undefined && w.resourceId !== resourceId) return ok(w);
        switch (status.state) {
          case 'creating':
            return ok(w);
          case 'running':
            return this.#observeRunning(w, ctx);
          case 'exited':
            return this.#observeExited(w, status.exitCode, status.finishedAt, ctx);
          case 'missing':
            return this.#observeMissing(w, ctx);
        }
      },
    );
    if (status.state === 'running' && status.health === 'unhealthy') {
      return applied.andThen((w) =>
        w === undefined || isTerminal(w.state) || w.state === 'terminating'
          ? okAsync(w)
          : this.#terminate(w.id, 'HealthCheckFailed', ctx).map((t) => t as Worker | undefined),
      );
    }
    return applied;
  }

  /** Subscribes to the provider's push notifications, when it has them. */
  startWatching(): WatchSubscription | undefined {
    if (this.#provider.watch === undefined) return undefined;
    return this.#provider.watch((event) => {
      const handling = this.#onWatch(event);
      this.#inFlight.add(handling);
      void handling.finally(() => this.#inFlight.delete(handling));
    });
  }

  /** Resolves once every notification received so far has been applied. */
  async whenIdle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  // ---------------------------------------------------------------- deadline pass

  /** Runs the deadline pass (SPEC §5); a call while one runs gets that cycle's result. */
  runGcCycle(): ResultAsync<GarbageCollectionStats, LifecycleError> {
    if (this.#gcCycle === null) {
      const cycle = this.#exclusive(() => this.#gc());
      this.#gcCycle = cycle;
      void cycle.finally(() => {
        if (this.#gcCycle === cycle) this.#gcCycle = null;
      });
    }
    return new ResultAsync(this.#gcCycle);
  }

  async #gc(): Promise<Result<GarbageCollectionStats, LifecycleError>> {
    const started = this.#clock.now();
    const stats: Mutable<GarbageCollectionStats> = { ...emptyGcStats() };
    const retry: string[] = [];
    const visits = new Map<string, number>();
    // A worker ended by rules 1–3 with no retention is cleaned up in the same cycle: pop
    // again, at most three visits per worker.
    for (let round = 0; round < 3; round++) {
      const now = this.#clock.now();
      const due = this.#deadlines.popDue(now).filter((id) => {
        const n = (visits.get(id) ?? 0) + 1;
        visits.set(id, n);
        return n <= 3;
      });
      if (due.length === 0) break;
      await forEachLimited(due, this.#concurrency, async (id) => {
        const outcome = await this.#applyDue(id, now);
        if (outcome === 'error') {
          stats.errors += 1;
          retry.push(id);
        } else if (outcome !== null) {
          stats[RULE_STAT[outcome]] += 1;
          if (outcome === 'ttl') stats.workersCleaned += 1;
        }
      });
    }
    // Failed actions are tried again next cycle, not in a loop within this one.
    for (const id of retry) {
      const w = this.#workers.get(id);
      if (w !== undefined && this.#deadlines.get(id) === undefined)
        this.#deadlines.set(id, this.#clock.now());
    }
    stats.orphansDetected = this.#orphansSinceGc;
    this.#orphansSinceGc = 0;
    stats.durationMs = this.#clock.now() - started;
    await this.#publish({
      ...this.#meta({ actor: 'gc' }),
      type: 'GarbageCollectionCompleted',
      ...stats,
    });
    return ok(stats);
  }

  /** Applies the first due rule to one worker; the rule applied, `null` if none, or `error`. */
  async #applyDue(workerId: string, now: number): Promise<DueRule | null | 'error'> {
    const w = this.#workers.get(workerId);
    if (w === undefined) return null;
    const rule = dueRule(w, now);
    if (rule === null) {
      this.#deadlines.set(workerId, nextDeadline(w));
      return null;
    }
    const ctx: OperationContext = { actor: 'gc' };
    const result = await this.#runRule(rule, w, ctx);
    if (result.isErr()) {
      this.#logger.warn('deadline pass action failed', {
        workerId,
        rule,
        error: errorMessage(result.error),
      });
      return 'error';
    }
    if (!result.value) {
      // Something else moved the worker meanwhile; its deadline follows its new state.
      const current = this.#workers.get(workerId);
      if (current !== undefined) this.#deadlines.set(workerId, nextDeadline(current));
      return null;
    }
    return rule;
  }

  /**
   * Applies `rule` to the worker. The rule is checked again under the worker's lock, so a
   * call that moved the worker since the pass looked (a busy agent, a destroy under way, an
   * exit) is never overridden: `false` then, and nothing done.
   */
  #runRule(rule: DueRule, w: Worker, ctx: OperationContext): ResultAsync<boolean, LifecycleError> {
    const stillDue = (): Worker | undefined => {
      const current = this.#workers.get(w.id);
      return current !== undefined && dueRule(current, this.#clock.now()) === rule
        ? current
        : undefined;
    };
    switch (rule) {
      case 'lifetime':
      case 'idle': {
        const reason: TerminationReason = rule === 'lifetime' ? 'LifetimeExceeded' : 'IdleTimeout';
        return this.#locked(w.id, async (): Promise<Result<Worker | undefined, LifecycleError>> => {
          const current = stillDue();
          if (current === undefined) return ok(undefined);
          if (rule === 'idle') {
            await this.#publish({
              ...this.#workerMeta(w.id, ctx),
              type: 'WorkerEphemeralIdle',
              idleSince: new Date(current.lastActivityAt).toISOString(),
            });
          }
          return this.#apply(w.id, { to: 'terminating', reason }, ctx);
        }).andThen((terminating) =>
          terminating === undefined
            ? okAsync(false)
            : this.#stopTerminating(terminating, ctx).map(() => true),
        );
      }
      case 'startup':
        return this.#locked(w.id, async (): Promise<Result<Worker | undefined, LifecycleError>> => {
          if (stillDue() === undefined) return ok(undefined);
          return this.#apply(
            w.id,
            {
              to: 'failed',
              error: `not running after startupTimeout (${w.policy.startupTimeout} ms)`,
              reason: 'StartupTimeout',
            },
            ctx,
          );
        }).andThen((failed) =>
          failed === undefined
            ? okAsync(false)
            : this.#provider
                .stopWorker(this.handleOf(failed), {
                  gracePeriod: failed.policy.gracefulTerminationTimeout,
                })
                .map(() => true),
        );
      case 'forceRemove':
        // Under the worker's lock, so the provider's own exit notification cannot mark it
        // terminated first as if it had stopped by itself.
        return this.#locked(w.id, async (): Promise<Result<boolean, LifecycleError>> => {
          const current = stillDue();
          if (current === undefined) return ok(false);
          const removed = await this.#provider.destroyWorker(this.handleOf(current), {
            gracePeriod: 0,
          });
          if (removed.isErr()) return err(removed.error);
          return (
            await this.#apply(w.id, { to: 'terminated', exitCode: null }, ctx, { forced: true })
          ).map(() => true);
        });
      case 'ttl':
        return this.#locked(w.id, async (): Promise<Result<boolean, LifecycleError>> => {
          const current = stillDue();
          if (current === undefined) return ok(false);
          const started = this.#clock.now();
          const removed = await this.#provider.destroyWorker(this.handleOf(current), {
            gracePeriod: 0,
          });
          if (removed.isErr()) return err(removed.error);
          return (await this.#cleanup(w.id, 'TtlExpired', ctx, started)).map(() => true);
        });
    }
  }

  /**
   * Ends a worker by policy: Terminating, stop the resource within the graceful timeout and
   * keep it for retention, then Terminated with the exit code the provider reports. A stop
   * that fails leaves the worker terminating; the force-remove rule finishes it.
   */
  #terminate(
    workerId: string,
    reason: TerminationReason,
    ctx: Ctx,
  ): ResultAsync<Worker, LifecycleError> {
    return this.startTermination(workerId, reason, ctx).andThen((w) =>
      w.state === 'terminating' ? this.#stopTerminating(w, ctx) : okAsync(w),
    );
  }

  /** Stops a terminating worker's resource and, once it has exited, marks it terminated. */
  #stopTerminating(w: Worker, ctx: Ctx): ResultAsync<Worker, LifecycleError> {
    const handle = this.handleOf(w);
    return this.#provider
      .stopWorker(handle, { gracePeriod: w.policy.gracefulTerminationTimeout })
      .andThen(() => this.#provider.getWorkerStatus(handle))
      .andThen((status) => {
        // A resource still shutting down (a pod in its grace period) stays terminating; its
        // exit, pushed or reconciled, ends it with the real exit code, or the force-remove
        // rule does.
        if (status.state === 'running' || status.state === 'creating') {
          return okAsync(this.#workers.get(w.id) ?? w);
        }
        if (status.state === 'missing') {
          return this.markWorkerTerminated(w.id, { exitCode: null, forced: false }, ctx);
        }
        return this.observeStatus(w.id, status, ctx, w.resourceId).map((t) => t ?? w);
      });
  }

  // ---------------------------------------------------------------- reconciliation

  /**
   * Compares tracking with one listing of the provider (SPEC §5): lost and exited workers,
   * workers that started while no notification came, then orphans when their interval is due.
   */
  reconcile(): ResultAsync<ReconcileStats, LifecycleError> {
    if (this.#reconcilePass === null) {
      const pass = this.#exclusive(() => this.#reconcile());
      this.#reconcilePass = pass;
      void pass.finally(() => {
        if (this.#reconcilePass === pass) this.#reconcilePass = null;
      });
    }
    return new ResultAsync(this.#reconcilePass);
  }

  async #reconcile(): Promise<Result<ReconcileStats, LifecycleError>> {
    const started = this.#clock.now();
    // Only workers tracked before the listing was asked for can be judged by it.
    const judged = [...this.#workers.values()];
    const listing = await this.#provider.listManagedWorkers();
    if (listing.isErr()) return err(listing.error);
    const byResource = new Map(listing.value.map((r) => [r.resourceId, r]));
    const stats = {
      lost: 0,
      exited: 0,
      started: 0,
      orphansDetected: 0,
      orphansRemoved: 0,
      errors: 0,
      durationMs: 0,
    };
    const ctx: OperationContext = { actor: 'gc' };
    await forEachLimited(judged, this.#concurrency, async (before) => {
      const resource = byResource.get(before.resourceId);
      const status: WorkerStatus = resource?.status ?? { state: 'missing' };
      const result = await this.observeStatus(before.id, status, ctx, before.resourceId);
      if (result.isErr()) {
        stats.errors += 1;
        this.#logger.warn('reconciliation could not apply a status', {
          workerId: before.id,
          error: errorMessage(result.error),
        });
        return;
      }
      const after = result.value;
      if (after === undefined || after.state === before.state) return;
      if (status.state === 'missing') stats.lost += 1;
      else if (status.state === 'exited') stats.exited += 1;
      else stats.started += 1;
    });
    if (this.policy.orphanDetectionEnabled) {
      const now = this.#clock.now();
      if (
        this.#lastOrphanCheck === null ||
        now - this.#lastOrphanCheck >= this.policy.orphanCheckInterval
      ) {
        this.#lastOrphanCheck = now;
        const orphans = await this.#detectOrphans(listing.value, started);
        stats.orphansDetected = orphans.detected;
        stats.orphansRemoved = orphans.removed;
        stats.errors += orphans.errors;
      }
    }
    stats.durationMs = this.#clock.now() - started;
    return ok(stats);
  }

  /** Orphan detection now, whatever its interval and switch say. */
  cleanupOrphans(): ResultAsync<OrphanReport, LifecycleError> {
    return new ResultAsync(
      this.#exclusive(async () => {
        const started = this.#clock.now();
        const listing = await this.#provider.listManagedWorkers();
        if (listing.isErr()) return err<OrphanReport, LifecycleError>(listing.error);
        this.#lastOrphanCheck = started;
        return ok<OrphanReport, LifecycleError>(await this.#detectOrphans(listing.value, started));
      }),
    );
  }

  async #detectOrphans(
    listing: readonly ManagedResource[],
    passStarted: number,
  ): Promise<OrphanReport> {
    const tracked = this.#trackedResources();
    const now = this.#clock.now();
    const present = new Set(listing.map((r) => r.resourceId));
    for (const id of this.#reportedOrphans) if (!present.has(id)) this.#reportedOrphans.delete(id);

    const candidates = listing.filter(
      (r) =>
        // Never anything without our labels, whatever the provider returned.
        isOwnedBy(r.labels, this.providerId) &&
        !tracked.has(r.resourceId) &&
        !this.#isTrackedWorkerId(r.labels[OWNERSHIP_LABELS.workerId]) &&
        r.createdAt < passStarted &&
        now - r.createdAt >= this.policy.orphanGracePeriod,
    );
    let detected = 0;
    let removed = 0;
    let errors = 0;
    if (candidates.length === 0) return { detected, removed, errors };

    let confirmed = candidates;
    if (this.policy.orphanAction === 'remove') {
      // Re-read just before removal: only what is still there, still ours and still untracked.
      const again = await this.#provider.listManagedWorkers();
      if (again.isErr()) return { detected, removed, errors: errors + 1 };
      const still = new Map(again.value.map((r) => [r.resourceId, r]));
      const trackedNow = this.#trackedResources();
      confirmed = candidates.filter((r) => {
        const current = still.get(r.resourceId);
        return (
          current !== undefined &&
          isOwnedBy(current.labels, this.providerId) &&
          current.labels[OWNERSHIP_LABELS.workerId] === r.labels[OWNERSHIP_LABELS.workerId] &&
          !trackedNow.has(r.resourceId) &&
          !this.#isTrackedWorkerId(r.labels[OWNERSHIP_LABELS.workerId])
        );
      });
    }
    await forEachLimited(confirmed, this.#concurrency, async (r) => {
      const claimed = r.labels[OWNERSHIP_LABELS.workerId];
      let action: 'reported' | 'removed' = 'reported';
      if (this.policy.orphanAction === 'remove') {
        const handle: WorkerHandle = {
          workerId: (claimed ?? '') as WorkerId,
          resourceId: r.resourceId,
          providerId: this.providerId,
          createdAt: r.createdAt,
        };
        const gone = await this.#provider.destroyWorker(handle, {
          gracePeriod: this.policy.gracefulTerminationTimeout,
        });
        if (gone.isErr()) {
          errors += 1;
          this.#logger.warn('could not remove an orphan', {
            resourceId: r.resourceId,
            error: errorMessage(gone.error),
          });
          return;
        }
        action = 'removed';
        removed += 1;
      } else if (this.#reportedOrphans.has(r.resourceId)) {
        return;
      }
      this.#reportedOrphans.add(r.resourceId);
      detected += 1;
      this.counters.orphansDetected += 1;
      this.#orphansSinceGc += 1;
      await this.#publish({
        ...this.#meta({ actor: 'gc' }),
        type: 'OrphanWorkerDetected',
        ...(claimed === undefined ? {} : { workerId: claimed }),
        resourceId: r.resourceId,
        lastSeen: new Date(now).toISOString(),
        orphanedDurationSecs: Math.floor((now - r.createdAt) / 1000),
        action,
      });
    });
    return { detected, removed, errors };
  }

  #isTrackedWorkerId(id: string | undefined): boolean {
    return id !== undefined && this.#workers.has(id);
  }

  #trackedResources(): Set<string> {
    const ids = new Set<string>();
    for (const w of this.#workers.values()) ids.add(w.resourceId);
    return ids;
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Rebuilds tracking from the provider's labelled resources after a restart (SPEC §5): the
   * labels give the immutable facts, the provider the state, the event history (if any) the
   * last busy/ready and the last activity. Emits WorkerRecovered for each.
   */
  recover(): ResultAsync<RecoveryReport, LifecycleError> {
    return new ResultAsync(this.#exclusive(() => this.#recover()));
  }

  async #recover(): Promise<Result<RecoveryReport, LifecycleError>> {
    const listing = await this.#provider.listManagedWorkers();
    if (listing.isErr()) return err(listing.error);
    const found: { resource: ManagedResource; facts: ReturnType<typeof parseOwnership> }[] = [];
    let unreadable = 0;
    let alreadyTracked = 0;
    for (const resource of listing.value) {
      const facts = parseOwnership(resource.labels, this.providerId);
      if (facts.isErr()) {
        unreadable += 1;
        this.#logger.warn('a labelled resource could not be recovered', {
          resourceId: resource.resourceId,
          error: facts.error.message,
        });
        continue;
      }
      if (this.#workers.has(facts.value.workerId)) {
        alreadyTracked += 1;
        continue;
      }
      found.push({ resource, facts });
    }
    let lastEvents: ReadonlyMap<string, LifecycleEvent> = new Map();
    if (this.#history !== undefined && found.length > 0) {
      const ids = found.flatMap((f) => (f.facts.isOk() ? [f.facts.value.workerId] : []));
      const history = await this.#history.lastStateEvents(this.providerId, ids);
      if (history.isOk()) lastEvents = history.value;
      else
        this.#logger.warn('event history unavailable: recovering state from the provider only', {
          error: history.error.message,
        });
    }
    const now = this.#clock.now();
    for (const { resource, facts } of found) {
      if (facts.isErr()) continue;
      const f = facts.value;
      const last = lastEvents.get(f.workerId);
      const lastAt = last === undefined ? now : Date.parse(last.occurredAt);
      const base = newWorker({
        id: f.workerId,
        providerId: this.providerId,
        mode: f.mode,
        readiness: f.readiness,
        resourceId: resource.resourceId,
        image: resource.image,
        policy: samePolicy(f.policy, this.policy) ? this.policy : f.policy,
        createdAt: f.createdAt,
      });
      const worker = recoveredWorker(base, resource, last, lastAt, now);
      this.#store(worker);
      await this.#publish({
        ...this.#workerMeta(worker.id, { actor: 'recovery' }),
        type: 'WorkerRecovered',
        resourceId: resource.resourceId,
        recoveredState: worker.state,
      });
    }
    return ok({ recovered: found.length, alreadyTracked, unreadable });
  }

  // ---------------------------------------------------------------- internals

  #observeRunning(w: Worker, ctx: Ctx): Promise<Result<Worker | undefined, LifecycleError>> {
    if (w.state !== 'creating') return Promise.resolve(ok(w));
    if (w.mode === 'agent' && w.readiness === 'external') return Promise.resolve(ok(w));
    return this.#apply(w.id, { to: 'ready' }, ctx).then((ready) =>
      ready.isOk() && w.mode === 'job' ? this.#apply(w.id, { to: 'busy' }, ctx) : ready,
    );
  }

  async #observeExited(
    w: Worker,
    exitCode: number | null,
    finishedAt: number | null,
    ctx: Ctx,
  ): Promise<Result<Worker | undefined, LifecycleError>> {
    // A job that ran and ended before anyone saw it running still went through ready and busy.
    if (w.state === 'creating' && w.mode === 'job' && exitCode !== null) {
      const ready = await this.#apply(w.id, { to: 'ready' }, ctx);
      if (ready.isErr()) return ready;
      const busy = await this.#apply(w.id, { to: 'busy' }, ctx);
      if (busy.isErr()) return busy;
    }
    const reason: TerminationReason =
      w.mode === 'job' || exitCode === 0 ? 'JobCompleted' : 'ProviderError';
    return this.#apply(w.id, { to: 'terminated', exitCode, reason, at: finishedAt }, ctx, {
      forced: false,
    });
  }

  async #observeMissing(w: Worker, ctx: Ctx): Promise<Result<Worker | undefined, LifecycleError>> {
    // A terminating worker's resource is being removed by whoever terminates it: gone is
    // expected, not lost, and they mark it terminated (or the force-remove rule does).
    if (w.state === 'terminating') return ok(w);
    this.counters.lostWorkers += 1;
    await this.#publish({
      ...this.#workerMeta(w.id, ctx),
      type: 'WorkerLost',
      resourceId: w.resourceId,
      lastKnownState: w.state,
    });
    return this.#apply(w.id, { to: 'terminated', exitCode: null, reason: 'ProviderError' }, ctx, {
      forced: false,
    });
  }

  async #onWatch(event: ProviderWatchEvent): Promise<void> {
    if (event.type === 'resynced') {
      const reconciled = await this.reconcile();
      if (reconciled.isErr()) {
        this.#logger.warn('reconciliation after a watch gap failed', {
          error: errorMessage(reconciled.error),
        });
      }
      return;
    }
    const ctx: OperationContext = { actor: 'watch' };
    const w = this.#workers.get(event.workerId);
    if (w === undefined || w.resourceId !== event.resourceId) return;
    let status: WorkerStatus;
    switch (event.type) {
      case 'started':
        status = { state: 'running', health: 'none' };
        break;
      case 'exited':
        status = {
          state: 'exited',
          exitCode: event.exitCode,
          finishedAt: event.finishedAt ?? this.#clock.now(),
          oomKilled: event.oomKilled,
        };
        break;
      case 'removed':
        status = { state: 'missing' };
        break;
      case 'health':
        status = { state: 'running', health: event.health };
        break;
    }
    const result = await this.observeStatus(event.workerId, status, ctx, event.resourceId);
    if (result.isErr()) {
      this.#logger.warn('a provider notification could not be applied', {
        workerId: event.workerId,
        notification: event.type,
        error: errorMessage(result.error),
      });
    }
  }

  /** Moves a worker (the caller holds its lock), emitting the one event of the change. */
  async #apply(
    workerId: string,
    input: TransitionInput,
    ctx: Ctx,
    extra: { forced?: boolean } = {},
  ): Promise<Result<Worker, LifecycleError>> {
    const w = this.#workers.get(workerId);
    if (w === undefined) return err(workerNotFound(workerId));
    const now = this.#clock.now();
    const moved = transition(w, input, now);
    if (moved.isErr()) return err(moved.error);
    if (moved.value.kind === 'repeat') return ok(w);
    const next = moved.value.worker;
    this.#store(next);
    this.counters.transitions += 1;
    const meta = this.#workerMeta(workerId, ctx);
    switch (input.to) {
      case 'ready':
        await this.#publish({ ...meta, type: 'WorkerEphemeralReady' });
        break;
      case 'busy':
        await this.#publish({ ...meta, type: 'WorkerEphemeralBusy' });
        break;
      case 'terminating':
        await this.#publish({ ...meta, type: 'WorkerEphemeralTerminating', reason: input.reason });
        break;
      case 'terminated': {
        const cleanupScheduled = next.policy.autoCleanupEnabled;
        await this.#publish({
          ...meta,
          type: 'WorkerEphemeralTerminated',
          exitCode: next.exitCode,
          forced: extra.forced ?? false,
          cleanupScheduled,
          ttlExpiresAt: cleanupScheduled
            ? new Date((next.terminatedAt ?? now) + retentionOf(next.policy)).toISOString()
            : null,
        });
        break;
      }
      case 'failed':
        await this.#publish({ ...meta, type: 'WorkerEphemeralFailed', error: input.error });
        break;
    }
    return ok(next);
  }

  #store(worker: Worker): void {
    this.#workers.set(worker.id, worker);
    this.#deadlines.set(worker.id, nextDeadline(worker));
  }

  #meta(ctx: Ctx): EventMeta {
    // Built field by field: conditional spreads are costly on the hot path of every pass.
    const meta: Mutable<EventMeta> = {
      eventId: this.#ids.eventId(),
      occurredAt: new Date(this.#clock.now()).toISOString(),
      providerId: this.providerId,
    };
    if (ctx?.correlationId !== undefined) meta.correlationId = ctx.correlationId;
    if (ctx?.actor !== undefined) meta.actor = ctx.actor;
    return meta;
  }

  #workerMeta(workerId: string, ctx: Ctx): EventMeta & { readonly workerId: string } {
    const meta = this.#meta(ctx) as Mutable<EventMeta> & { workerId: string };
    meta.workerId = workerId;
    return meta;
  }

  /** A publisher failure never fails an operation that already changed the world (SPEC §5). */
  async #publish(event: LifecycleEvent): Promise<void> {
    const result = await this.#publisher.publish(event);
    if (result.isOk()) {
      this.counters.eventsPublished += 1;
    } else {
      this.counters.publishFailures += 1;
      this.#logger.error('event not published', {
        eventId: event.eventId,
        type: event.type,
        error: errorMessage(result.error),
      });
    }
  }

  #locked<T>(
    workerId: string,
    work: () => Promise<Result<T, LifecycleError>>,
  ): ResultAsync<T, LifecycleError> {
    return new ResultAsync(this.#locks.run(workerId, work));
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#passes.then(work, work);
    this.#passes = run.catch(() => undefined);
    return run;
  }
}

const RULE_STAT = {
  lifetime: 'lifetimeExceeded',
  idle: 'idleTimedOut',
  startup: 'startupTimedOut',
  forceRemove: 'forceTerminated',
  ttl: 'ttlExpired',
} as const satisfies Record<DueRule, keyof GarbageCollectionStats>;

const DURATION_KEYS = [
  'maxLifetime',
  'ttlAfterCompletion',
  'idleTimeout',
  'gracefulTerminationTimeout',
  'startupTimeout',
] as const;

function samePolicy(a: EphemeralWorkerPolicy, b: EphemeralWorkerPolicy): boolean {
  return (
    DURATION_KEYS.every((k) => a[k] === b[k]) &&
    a.autoCleanupEnabled === b.autoCleanupEnabled &&
    a.orphanDetectionEnabled === b.orphanDetectionEnabled &&
    a.orphanCheckInterval === b.orphanCheckInterval &&
    a.orphanGracePeriod === b.orphanGracePeriod &&
    a.orphanAction === b.orphanAction
  );
}

/** The state a re-adopted worker resumes in. */
function recoveredWorker(
  base: Worker,
  resource: ManagedResource,
  last: LifecycleEvent | undefined,
  lastAt: number,
  now: number,
): Worker {
  const status = resource.status;
  switch (status.state) {
    case 'creating':
      return base;
    case 'exited':
      return {
        ...base,
        state: 'terminated',
        readyAt: null,
        terminatedAt: status.finishedAt ?? now,
        exitCode: status.exitCode,
        terminationReason: base.mode === 'job' ? 'JobCompleted' : null,
      };
    case 'running': {
      if (last?.type === 'WorkerEphemeralTerminating') {
        return {
          ...base,
          state: 'terminating',
          readyAt: lastAt,
          terminatingAt: lastAt,
          terminationReason: last.reason,
        };
      }
      const state: WorkerState =
        last?.type === 'WorkerEphemeralBusy'
          ? 'busy'
          : last?.type === 'WorkerEphemeralReady'
            ? 'ready'
            : base.mode === 'job'
              ? 'busy'
              : base.readiness === 'external'
                ? 'creating'
                : 'ready';
      return state === 'creating'
        ? base
        : { ...base, state, readyAt: lastAt, lastActivityAt: lastAt };
    }
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(lanes);
}
