import { err, ok, type Result } from 'neverthrow';
import type { ActivityMark } from '../events/lifecycle-event.js';
import type { CleanupReason } from '../events/reasons.js';
import { retentionOf, validatePolicy, type EphemeralWorkerPolicy } from '../policy/policy.js';
import type { Clock } from '../ports/clock.port.js';
import type { WorkerHandle, WorkerSpec } from '../ports/worker-provider.port.js';
import type { ProviderId } from '../worker/ids.js';
import { isTerminal } from '../worker/worker-state.js';
import { newWorker, transition, type TransitionInput, type Worker } from '../worker/worker.js';
import type { LifecycleCounters } from './lifecycle-counters.js';
import type { LifecycleEventEmitter, OperationContext } from './lifecycle-event-emitter.js';
import { workerNotFound, type LifecycleError, type WorkerReplaced } from './lifecycle.errors.js';
import { sharedPolicy } from './shared-policy.js';
import type { WorkerRegistry } from './worker-registry.js';

export interface TransitionsDeps {
  readonly providerId: ProviderId;
  /** The provider's policy, shared by the workers that do not override it. */
  readonly policy: EphemeralWorkerPolicy;
  readonly registry: Pick<WorkerRegistry, 'get' | 'has' | 'store' | 'remove'>;
  readonly events: Pick<LifecycleEventEmitter, 'publish' | 'workerMeta'>;
  readonly clock: Clock;
  readonly counters: LifecycleCounters;
}

type Ctx = OperationContext | undefined;

/** What an event of a change carries besides the worker's own fields. */
export interface TransitionExtra {
  /** The worker was removed by force (rule 4). */
  readonly forced?: boolean;
  /** The deadline (epoch ms) of the pass rule that caused the change, for the reap lag. */
  readonly deadlineAt?: number;
}

/** The refusal of a change fenced by `resourceId` once the worker has another resource. */
export const workerReplaced = (workerId: string, resourceId: string): WorkerReplaced => ({
  type: 'WorkerReplaced',
  workerId,
  resourceId,
  message: `worker ${workerId} was re-created: resource ${resourceId} is no longer its own`,
});

const iso = (ms: number): string => new Date(ms).toISOString();

/** The worker's last activity as the state events carry it. */
export const activityOf = (w: Worker): ActivityMark => ({
  at: iso(w.lastActivityAt),
  by: w.lastActivityBy ?? 'unknown',
});

/**
 * Emits the WorkerEphemeralCreated that starts a life, from the tracked worker itself, so a
 * tracked create and a life recovery rebuilds announce themselves alike.
 */
export const publishCreated = async (
  events: Pick<LifecycleEventEmitter, 'publish' | 'workerMeta'>,
  worker: Worker,
  ctx: Ctx,
): Promise<void> => {
  await events.publish({
    ...events.workerMeta(worker.id, ctx),
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
};

/**
 * The changes of a tracked worker, each stored and then emitted as its one event: tracking
 * starts, state transitions, tracking ends. Every method expects the caller to hold the
 * worker's lock.
 */
export class Transitions {
  readonly #deps: TransitionsDeps;

  constructor(deps: TransitionsDeps) {
    this.#deps = deps;
  }

  /** Starts tracking a created resource and emits the one WorkerEphemeralCreated. */
  async track(
    handle: WorkerHandle,
    spec: WorkerSpec,
    ctx: Ctx,
  ): Promise<Result<Worker, LifecycleError>> {
    const { registry, events } = this.#deps;
    if (registry.has(handle.workerId)) {
      return err({
        type: 'WorkerAlreadyTracked',
        workerId: handle.workerId,
        message: `worker ${handle.workerId} is already tracked`,
      });
    }
    const policy = validatePolicy(spec.policy);
    if (policy.isErr()) {
      return err({
        type: 'InvalidPolicy',
        problems: policy.error,
        message: policy.error.map((p) => p.message).join('; '),
      });
    }
    const worker: Worker = {
      ...newWorker({
        id: handle.workerId,
        providerId: this.#deps.providerId,
        mode: spec.mode,
        ...(spec.readiness === undefined ? {} : { readiness: spec.readiness }),
        resourceId: handle.resourceId,
        image: spec.image,
        policy: sharedPolicy(spec.policy, this.#deps.policy),
        createdAt: handle.createdAt,
      }),
      // The creation is the first activity: by whoever asked for it.
      lastActivityBy: ctx?.actor ?? null,
    };
    registry.store(worker);
    await publishCreated(events, worker, ctx);
    return ok(worker);
  }

  /**
   * Moves a worker, emitting the one event of the change; a repeated move emits nothing.
   * Refused with WorkerReplaced when `ctx.resourceId` names another life than the tracked one.
   */
  async apply(
    workerId: string,
    input: TransitionInput,
    ctx: Ctx,
    extra: TransitionExtra = {},
  ): Promise<Result<Worker, LifecycleError>> {
    const { registry, events } = this.#deps;
    const found = this.#current(workerId, ctx);
    if (found.isErr()) return err(found.error);
    const w = found.value;
    const now = this.#deps.clock.now();
    const moved = transition(w, input, now);
    if (moved.isErr()) return err(moved.error);
    if (moved.value.kind === 'repeat') return ok(w);
    const next: Worker =
      input.to === 'ready' || input.to === 'busy'
        ? { ...moved.value.worker, lastActivityBy: ctx?.actor ?? null }
        : moved.value.worker;
    registry.store(next);
    this.#deps.counters.transitions += 1;
    const meta = {
      ...events.workerMeta(workerId, ctx),
      lastActivity: activityOf(next),
      ...(extra.deadlineAt === undefined ? {} : { deadlineAt: iso(extra.deadlineAt) }),
    };
    switch (input.to) {
      case 'ready':
        await events.publish({ ...meta, type: 'WorkerEphemeralReady' });
        break;
      case 'busy':
        await events.publish({ ...meta, type: 'WorkerEphemeralBusy' });
        break;
      case 'terminating':
        await events.publish({ ...meta, type: 'WorkerEphemeralTerminating', reason: input.reason });
        break;
      case 'terminated': {
        const cleanupScheduled = next.policy.autoCleanupEnabled;
        await events.publish({
          ...meta,
          type: 'WorkerEphemeralTerminated',
          exitCode: next.exitCode,
          ...(next.terminationReason === null ? {} : { reason: next.terminationReason }),
          forced: extra.forced ?? false,
          cleanupScheduled,
          ttlExpiresAt: cleanupScheduled
            ? new Date((next.terminatedAt ?? now) + retentionOf(next.policy)).toISOString()
            : null,
        });
        break;
      }
      case 'failed':
        await events.publish({
          ...meta,
          type: 'WorkerEphemeralFailed',
          error: input.error,
          ...(next.terminationReason === null ? {} : { reason: next.terminationReason }),
        });
        break;
    }
    return ok(next);
  }

  /**
   * Stops tracking a finished worker and emits WorkerEphemeralCleanedUp. `startedAt`: when
   * the cleanup began, for `cleanupDurationMs`; `deadlineAt`: the TTL deadline when the pass
   * cleaned it up. Fenced by `ctx.resourceId` as `apply` is.
   */
  async cleanUp(
    workerId: string,
    reason: CleanupReason,
    ctx: Ctx,
    startedAt: number | undefined,
    deadlineAt?: number,
  ): Promise<Result<void, LifecycleError>> {
    const { registry, events } = this.#deps;
    const found = this.#current(workerId, ctx);
    if (found.isErr()) return err(found.error);
    const w = found.value;
    if (!isTerminal(w.state)) {
      return err({
        type: 'WorkerNotFinished',
        workerId,
        state: w.state,
        message: `worker ${workerId} is ${w.state}: terminate it before cleaning it up`,
      });
    }
    registry.remove(workerId);
    const now = this.#deps.clock.now();
    await events.publish({
      // No longer tracked: the event says which life it ends.
      ...events.workerMeta(workerId, { ...ctx, resourceId: w.resourceId }),
      type: 'WorkerEphemeralCleanedUp',
      cleanupReason: reason,
      cleanupDurationMs: Math.max(0, now - (startedAt ?? now)),
      ...(deadlineAt === undefined ? {} : { deadlineAt: iso(deadlineAt) }),
    });
    return ok(undefined);
  }

  /** The tracked worker, if it is the life `ctx.resourceId` names (when it names one). */
  #current(workerId: string, ctx: Ctx): Result<Worker, LifecycleError> {
    const w = this.#deps.registry.get(workerId);
    if (w === undefined) return err(workerNotFound(workerId));
    const fence = ctx?.resourceId;
    if (fence !== undefined && fence !== w.resourceId) return err(workerReplaced(workerId, fence));
    return ok(w);
  }
}
