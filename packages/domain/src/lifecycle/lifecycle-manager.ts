import { ResultAsync, type Result } from 'neverthrow';
import type { GarbageCollectionStats, ReconcileStats } from '../events/gc-stats.js';
import type { CleanupReason, TerminationReason } from '../events/reasons.js';
import { validatePolicy, type EphemeralWorkerPolicy } from '../policy/policy.js';
import type { Clock } from '../ports/clock.port.js';
import type { LifecycleEventPublisher } from '../ports/event-publisher.port.js';
import type { WorkerEventHistory } from '../ports/event-store.port.js';
import type { IdGenerator } from '../ports/id-generator.port.js';
import { silentLogger, type Logger } from '../ports/logger.port.js';
import type {
  WatchSubscription,
  WorkerHandle,
  WorkerProvider,
  WorkerSpec,
  WorkerStatus,
} from '../ports/worker-provider.port.js';
import type { ProviderId } from '../worker/ids.js';
import type { Worker } from '../worker/worker.js';
import { ActivityHeartbeats } from './activity-heartbeats.js';
import { BackgroundStops } from './background-stops.js';
import { CreateAttempts } from './create-attempts.js';
import { DeadlinePass } from './deadline-pass.js';
import { dueRule } from './deadlines.js';
import { newLifecycleCounters, type LifecycleCounters } from './lifecycle-counters.js';
import { guardPublisher } from './guarded-publisher.js';
import { LifecycleEventEmitter, type OperationContext } from './lifecycle-event-emitter.js';
import type { LifecycleError } from './lifecycle.errors.js';
import { OrphanSweep, type OrphanReport } from './orphan-sweep.js';
import { JoinedPass, PassQueue } from './pass-queue.js';
import { PolicyChanges, type PolicyChange, type PolicyChangeOutcome } from './policy-changes.js';
import { PushNotifications } from './push-notifications.js';
import { Reconciliation } from './reconciliation.js';
import { settledPass } from './settled-pass.js';
import { Recovery, type RecoveryOptions, type RecoveryReport } from './recovery.js';
import { StatusObserver } from './status-observer.js';
import { Transitions } from './transitions.js';
import {
  handleOf,
  WorkerRegistry,
  type WorkerFilter,
  type WorkerPageRequest,
} from './worker-registry.js';

export type { LifecycleCounters } from './lifecycle-counters.js';
export type { OperationContext } from './lifecycle-event-emitter.js';
export type { OrphanReport } from './orphan-sweep.js';
export type { PolicyChange, PolicyChangeOutcome } from './policy-changes.js';
export type { RecoveryOptions, RecoveryReport } from './recovery.js';
export type { WorkerFilter, WorkerPageRequest } from './worker-registry.js';

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
  /**
   * Stops the deadline pass has started and runs in the background at once (default 256):
   * each may wait out a graceful timeout, the provider doing the waiting, so the bound is
   * on open requests, not work; a stop still queued when the force-remove rule comes is
   * never graceful.
   */
  readonly stopConcurrency?: number;
  /**
   * A deadline pass that did nothing is recorded (GarbageCollectionCompleted) only when none
   * was for this long: a heartbeat. Default 5 min; 0 records every pass.
   */
  readonly gcHeartbeatMs?: number;
  /**
   * The operator's cap on maxLifetime (ms) for policy changes at run time: a change past it
   * is refused with PolicyLimitExceeded. None by default (the policy's own 30-day maximum).
   */
  readonly maxLifetimeCap?: number;
  /**
   * False while this manager may not act (its server shuts down, lost its provider lock or
   * recovers): a pass under way then changes no worker, and its due workers keep their
   * deadlines for a later pass. Always true by default.
   */
  readonly mayAct?: () => boolean;
}

/**
 * The shortest wait between two deadline passes woken by a due time (1 s): a deadline in
 * the past (a retry) or a burst of close ones must not make the scheduler spin.
 */
export const DEADLINE_PASS_MIN_GAP_MS = 1_000;

export interface TerminatedDetails {
  readonly exitCode: number | null;
  readonly forced: boolean;
}

type Ctx = OperationContext | undefined;

/**
 * Tracks the workers of one provider (SPEC §5): every state change is one event in causal
 * order per worker; calls on one worker are serialised; the deadline pass works from an index
 * of due times; reconciliation compares tracking with the provider; recovery rebuilds tracking
 * from the resources' labels after a restart. This class composes those parts and is the one
 * door to them.
 */
export class LifecycleManager {
  readonly providerId: ProviderId;
  readonly policy: EphemeralWorkerPolicy;
  readonly counters: LifecycleCounters = newLifecycleCounters();
  /** The operator's cap on maxLifetime (ms), for creates and changes; none when undefined. */
  readonly maxLifetimeCap: number | undefined;
  /** Creates under way and failed (recorded by the decorator before each create). */
  readonly createAttempts = new CreateAttempts();

  readonly #provider: WorkerProvider;
  readonly #clock: Clock;
  /** Where a pass that throws is logged and counted. */
  readonly #guards: { readonly logger: Logger; readonly counters: LifecycleCounters };
  /** Asks the provider, after a failed removal of ours, whether the resource is still there. */
  readonly #registry = new WorkerRegistry({
    statusOf: (w) => this.#provider.getWorkerStatus(handleOf(w)),
  });
  readonly #transitions: Transitions;
  readonly #observer: StatusObserver;
  readonly #orphans: OrphanSweep;
  readonly #recovery: Recovery;
  readonly #policyChanges: PolicyChanges;
  readonly #activity: ActivityHeartbeats;
  readonly #watch: PushNotifications;
  readonly #passes = new PassQueue();
  readonly #stops: BackgroundStops;
  readonly #gcCycle: JoinedPass<Result<GarbageCollectionStats, LifecycleError>>;
  readonly #reconcilePass: JoinedPass<Result<ReconcileStats, LifecycleError>>;

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
    this.#clock = deps.clock;
    this.maxLifetimeCap = deps.maxLifetimeCap;

    // Each part takes the narrow slice of these it declares in its own deps.
    const shared = {
      providerId: this.providerId,
      policy: this.policy,
      counters: this.counters,
      registry: this.#registry,
      provider: deps.provider,
      clock: deps.clock,
      logger: deps.logger ?? silentLogger,
      concurrency: Math.max(1, deps.concurrency ?? 8),
      attempts: this.createAttempts,
    };
    const events = new LifecycleEventEmitter({
      ...shared,
      publisher: guardPublisher(deps.publisher),
      ids: deps.ids,
    });
    const transitions = new Transitions({ ...shared, events });
    const observer = new StatusObserver({ ...shared, events, transitions });
    const orphans = new OrphanSweep({ ...shared, events });
    const parts = { ...shared, events, transitions, observer, orphans };
    this.#stops = new BackgroundStops({
      concurrency: deps.stopConcurrency ?? 256,
      logger: shared.logger,
    });
    const deadlinePass = new DeadlinePass({
      ...parts,
      stops: this.#stops,
      ...(deps.gcHeartbeatMs === undefined ? {} : { heartbeatMs: deps.gcHeartbeatMs }),
      ...(deps.mayAct === undefined ? {} : { mayAct: deps.mayAct }),
    });
    const reconciliation = new Reconciliation(parts);
    this.#transitions = transitions;
    this.#observer = observer;
    this.#orphans = orphans;
    this.#recovery = new Recovery({ ...parts, history: deps.history });
    this.#policyChanges = new PolicyChanges({ ...parts, maxLifetimeCap: deps.maxLifetimeCap });
    this.#activity = new ActivityHeartbeats(parts);
    this.#watch = new PushNotifications({ ...parts, reconcile: () => this.reconcile() });
    const guards = { logger: shared.logger, counters: this.counters };
    this.#guards = guards;
    this.#gcCycle = new JoinedPass(() =>
      this.#passes.run(() => settledPass('deadline pass', guards, () => deadlinePass.run())),
    );
    this.#reconcilePass = new JoinedPass(() =>
      this.#passes.run(() => settledPass('reconciliation', guards, () => reconciliation.run())),
    );
  }

  get provider(): WorkerProvider {
    return this.#provider;
  }

  // ---------------------------------------------------------------- queries

  getWorker(workerId: string): Worker | undefined {
    return this.#registry.get(workerId);
  }

  listWorkers(filter: WorkerFilter = {}): Worker[] {
    return this.#registry.list(filter);
  }

  /**
   * One page of tracked workers, ordered by (createdAt, id) with ids compared by code unit:
   * at most `limit` of them, strictly after `after`, keeping only `state` and `mode` when
   * given. Costs O(log N + page) from the registry's ordered listings, not a sort.
   */
  listWorkersPage(request: WorkerPageRequest): readonly Worker[] {
    return this.#registry.page(request);
  }

  /** Tracked workers not in a terminal state; O(1). */
  countLiveWorkers(): number {
    return this.#registry.liveCount;
  }

  get trackedCount(): number {
    return this.#registry.size;
  }

  handleOf(worker: Worker): WorkerHandle {
    return handleOf(worker);
  }

  /** True when the worker is finished and its retention is over (or it has none). */
  needsCleanup(workerId: string): boolean {
    const w = this.#registry.get(workerId);
    return w !== undefined && dueRule(w, this.#clock.now()) === 'ttl';
  }

  /** When the deadline pass is next needed (epoch ms, by the manager's clock), if ever. */
  nextDueAt(): number | undefined {
    return this.#registry.nextDueAt();
  }

  /**
   * How long a scheduler should wait before the next deadline pass: the interval, or less to
   * be on time for the next due time (a warning shorter than the interval, say), but never
   * less than DEADLINE_PASS_MIN_GAP_MS. Reads `nextDueAt()`, so `onEarlierDeadline` then
   * tells of deadlines earlier than this wait's.
   */
  deadlinePassDelay(intervalMs: number): number {
    const next = this.nextDueAt();
    if (next === undefined) return intervalMs;
    return Math.min(intervalMs, Math.max(next - this.#clock.now(), DEADLINE_PASS_MIN_GAP_MS));
  }

  /**
   * Tells `listener` of a deadline filed earlier than the last `nextDueAt()` gave (a create
   * with a short lifetime, a shortened policy), so a sleeping scheduler can wake for it; see
   * `deadlinePassDelay`. Returns the unsubscribe.
   */
  onEarlierDeadline(listener: (at: number) => void): () => void {
    return this.#registry.onEarlierDeadline(listener);
  }

  // ---------------------------------------------------------------- operations

  /** Starts tracking a created resource and emits the one WorkerEphemeralCreated. */
  initializeWorker(
    handle: WorkerHandle,
    spec: WorkerSpec,
    ctx?: Ctx,
  ): ResultAsync<Worker, LifecycleError> {
    return this.#registry.locked(handle.workerId, () => this.#transitions.track(handle, spec, ctx));
  }

  markWorkerReady(workerId: string, ctx?: Ctx): ResultAsync<Worker, LifecycleError> {
    return this.#registry.locked(workerId, () =>
      this.#transitions.apply(workerId, { to: 'ready' }, ctx),
    );
  }

  markWorkerBusy(workerId: string, ctx?: Ctx): ResultAsync<Worker, LifecycleError> {
    return this.#registry.locked(workerId, () =>
      this.#transitions.apply(workerId, { to: 'busy' }, ctx),
    );
  }

  startTermination(
    workerId: string,
    reason: TerminationReason,
    ctx?: Ctx,
  ): ResultAsync<Worker, LifecycleError> {
    return this.#registry.locked(workerId, () =>
      this.#transitions.apply(workerId, { to: 'terminating', reason }, ctx),
    );
  }

  markWorkerTerminated(
    workerId: string,
    details: TerminatedDetails,
    ctx?: Ctx,
  ): ResultAsync<Worker, LifecycleError> {
    return this.#registry.locked(workerId, () =>
      this.#transitions.apply(workerId, { to: 'terminated', exitCode: details.exitCode }, ctx, {
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
    return this.#registry.locked(workerId, () =>
      this.#transitions.apply(
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
    return this.#registry.locked(workerId, () =>
      this.#transitions.cleanUp(workerId, reason, ctx, startedAt),
    );
  }

  /**
   * Runs `remove`, our removal of the tracked worker's resource (a destroy): its absence,
   * pushed or listed meanwhile, is then not taken for a loss (WorkerLost).
   */
  removeResource<T, E>(worker: Worker, remove: () => ResultAsync<T, E>): ResultAsync<T, E> {
    return this.#registry.removeResource(worker, remove);
  }

  /**
   * PATCH semantics: `change` merged onto the worker's current policy and validated as at
   * create; the deadlines follow at once and one WorkerEphemeralPolicyChanged is emitted. A
   * change with no effect succeeds with `changed` empty and emits nothing. Refused for a
   * terminating worker, for a finished one except its ttlAfterCompletion, and past
   * `maxLifetimeCap`. `change` may be a function of the current policy, called under the
   * worker's lock: relative changes (an extension by some minutes) then all count.
   */
  changePolicy(
    workerId: string,
    change: PolicyChange,
    ctx?: Ctx,
  ): ResultAsync<PolicyChangeOutcome, LifecycleError> {
    return this.#registry.locked(workerId, () => this.#policyChanges.change(workerId, change, ctx));
  }

  /**
   * An activity heartbeat on a creating, ready or busy worker: resets the idle clock
   * (`lastActivityAt` = now, `lastActivityBy` = `by`) without an event; the next state event
   * carries it. `ctx` is accepted for symmetry with the other operations; nothing is emitted.
   */
  recordActivity(workerId: string, by: string, _ctx?: Ctx): ResultAsync<Worker, LifecycleError> {
    return this.#registry.locked(workerId, () =>
      Promise.resolve(this.#activity.record(workerId, by)),
    );
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
    return this.#observer.observe(workerId, status, ctx, resourceId);
  }

  /** Subscribes to the provider's push notifications, when it has them. */
  startWatching(): WatchSubscription | undefined {
    return this.#watch.start();
  }

  /** Resolves once every notification received so far has been applied. */
  whenIdle(): Promise<void> {
    return this.#watch.whenIdle();
  }

  /** Stops the deadline pass started that are queued or under way. */
  get stopsInFlight(): number {
    return this.#stops.size;
  }

  /** Resolves once no stop the deadline pass started is queued or under way. */
  whenStopsSettled(): Promise<void> {
    return this.#stops.settled();
  }

  /**
   * For shutdown: the deadline pass starts no more stops, the queued ones are dropped (their
   * workers stay terminating, for the next start) and those under way are awaited. Passes
   * still run; stop the scheduler first.
   */
  close(): Promise<void> {
    return this.#stops.close();
  }

  // ---------------------------------------------------------------- passes

  /** Runs the deadline pass (SPEC §5); a call while one runs gets that cycle's result. */
  runGcCycle(): ResultAsync<GarbageCollectionStats, LifecycleError> {
    return new ResultAsync(this.#gcCycle.run());
  }

  /**
   * Compares tracking with one listing of the provider (SPEC §5): lost and exited workers,
   * workers that started while no notification came, then orphans when their interval is due.
   * A call while one runs gets that pass's result.
   */
  reconcile(): ResultAsync<ReconcileStats, LifecycleError> {
    return new ResultAsync(this.#reconcilePass.run());
  }

  /** Orphan detection now, whatever its interval and switch say. */
  cleanupOrphans(): ResultAsync<OrphanReport, LifecycleError> {
    return new ResultAsync(
      this.#passes.run(() =>
        settledPass('orphan sweep', this.#guards, () => this.#orphans.sweepNow()),
      ),
    );
  }

  /**
   * Rebuilds tracking from the provider's labelled resources after a restart (SPEC §5): the
   * labels give the immutable facts, the provider the state, the event history (if any) the
   * last busy/ready, the last activity and the policy changed at run time. Emits
   * WorkerRecovered for each. With `refresh` (after this server could not act for a while,
   * e.g. its provider lock was lost), the tracked workers are rebuilt too: see `Recovery.run`.
   */
  recover(options: RecoveryOptions = {}): ResultAsync<RecoveryReport, LifecycleError> {
    return new ResultAsync(
      this.#passes.run(() =>
        // Notifications of workers not tracked yet wait for the recovery to store them.
        this.#watch.duringRecovery(() =>
          settledPass('recovery', this.#guards, () => this.#recovery.run(options)),
        ),
      ),
    );
  }
}
