import { ok, okAsync, type Result, type ResultAsync } from 'neverthrow';
import type { TerminationReason } from '../events/reasons.js';
import { retentionOf } from '../policy/policy.js';
import type { Clock } from '../ports/clock.port.js';
import type { WorkerProvider, WorkerStatus } from '../ports/worker-provider.port.js';
import { isTerminal } from '../worker/worker-state.js';
import type { Worker } from '../worker/worker.js';
import type { LifecycleCounters } from './lifecycle-counters.js';
import type { LifecycleEventEmitter, OperationContext } from './lifecycle-event-emitter.js';
import type { LifecycleError } from './lifecycle.errors.js';
import type { Transitions } from './transitions.js';
import { handleOf, type WorkerRegistry } from './worker-registry.js';

export interface StatusObserverDeps {
  readonly registry: Pick<WorkerRegistry, 'get' | 'locked' | 'expectGone' | 'markLost'>;
  readonly transitions: Pick<Transitions, 'apply'>;
  readonly events: Pick<LifecycleEventEmitter, 'publish' | 'workerMeta'>;
  readonly provider: Pick<WorkerProvider, 'stopWorker' | 'getWorkerStatus'>;
  readonly counters: LifecycleCounters;
  readonly clock: Clock;
}

type Ctx = OperationContext | undefined;

/**
 * How early before a finished worker's retention ends its resource may vanish without being
 * lost: the provider counts the retention from its own finish time, which the manager may
 * have seen a little later.
 */
const RETENTION_END_TOLERANCE_MS = 2_000;
type Observed = Result<Worker | undefined, LifecycleError>;

/**
 * Turns what the provider says of a worker's resource into transitions, and ends a
 * terminating worker once its resource has stopped: ending one reads its status back.
 */
export class StatusObserver {
  readonly #deps: StatusObserverDeps;

  constructor(deps: StatusObserverDeps) {
    this.#deps = deps;
  }

  /**
   * Applies what the provider says of a worker's resource (a watch notification, a
   * reconciliation, a status read after create), idempotently: running → ready (and busy for
   * a job); exited → terminated; missing → lost; unhealthy → terminated for HealthCheckFailed.
   * A finished worker whose resource someone else removed is reported lost, once, and stays
   * tracked for its retention. Said of `resourceId`, it never changes another life of the id.
   */
  observe(
    workerId: string,
    status: WorkerStatus,
    ctx: Ctx,
    resourceId: string | undefined,
  ): ResultAsync<Worker | undefined, LifecycleError> {
    const fenced: Ctx = resourceId === undefined ? ctx : { ...ctx, resourceId };
    const applied = this.#deps.registry.locked(workerId, async (): Promise<Observed> => {
      const w = this.#deps.registry.get(workerId);
      if (w === undefined) return ok(w);
      // Said of another resource (the worker was re-created under its id): not this one.
      if (resourceId !== undefined && w.resourceId !== resourceId) return ok(w);
      if (isTerminal(w.state)) {
        return status.state === 'missing' ? this.#lostAfterEnd(w, fenced) : ok(w);
      }
      switch (status.state) {
        case 'creating':
          return ok(w);
        case 'running':
          return this.#observeRunning(w, fenced);
        case 'exited':
          return this.#observeExited(w, status.exitCode, status.finishedAt, fenced);
        case 'missing':
          return this.#observeMissing(w, fenced);
      }
    });
    if (status.state === 'running' && status.health === 'unhealthy') {
      return applied.andThen((w) =>
        w === undefined || isTerminal(w.state) || w.state === 'terminating'
          ? okAsync(w)
          : this.#terminate(w, 'HealthCheckFailed', ctx).map((t) => t as Worker | undefined),
      );
    }
    return applied;
  }

  /**
   * Stops a terminating worker's resource and, once it has exited, marks it terminated: that
   * life only (fenced by its resource), never one re-created under its id meanwhile.
   */
  stopTerminating(w: Worker, unfenced: Ctx): ResultAsync<Worker, LifecycleError> {
    const { registry, transitions, provider } = this.#deps;
    const ctx: Ctx = { ...unfenced, resourceId: w.resourceId };
    const handle = handleOf(w);
    return provider
      .stopWorker(handle, { gracePeriod: w.policy.gracefulTerminationTimeout })
      .andThen(() => provider.getWorkerStatus(handle))
      .andThen((status) => {
        // A resource still shutting down (a pod in its grace period) stays terminating; its
        // exit, pushed or reconciled, ends it with the real exit code, or the force-remove
        // rule does.
        if (status.state === 'running' || status.state === 'creating') {
          return okAsync(registry.get(w.id) ?? w);
        }
        if (status.state === 'missing') {
          return registry.locked(w.id, async (): Promise<Result<Worker, LifecycleError>> => {
            // Ended meanwhile (a force-remove, a cleanup): nothing left to mark.
            const current = registry.get(w.id);
            if (current === undefined || current.resourceId !== w.resourceId) return ok(w);
            // Gone after our stop (a stop that deletes, a pod not yet scheduled): not lost.
            registry.expectGone(current);
            if (isTerminal(current.state)) return ok(current);
            return transitions.apply(w.id, { to: 'terminated', exitCode: null }, ctx, {
              forced: false,
            });
          });
        }
        return this.observe(w.id, status, ctx, w.resourceId).map((t) => t ?? w);
      });
  }

  /**
   * Ends a worker by policy: Terminating, stop the resource within the graceful timeout and
   * keep it for retention, then Terminated with the exit code the provider reports. A stop
   * that fails leaves the worker terminating; the force-remove rule finishes it.
   */
  #terminate(
    w: Worker,
    reason: TerminationReason,
    unfenced: Ctx,
  ): ResultAsync<Worker, LifecycleError> {
    const ctx: Ctx = { ...unfenced, resourceId: w.resourceId };
    return this.#deps.registry
      .locked(w.id, () => this.#deps.transitions.apply(w.id, { to: 'terminating', reason }, ctx))
      .andThen((w) => (w.state === 'terminating' ? this.stopTerminating(w, ctx) : okAsync(w)));
  }

  #observeRunning(w: Worker, ctx: Ctx): Promise<Observed> {
    if (w.state !== 'creating') return Promise.resolve(ok(w));
    if (w.mode === 'agent' && w.readiness === 'external') return Promise.resolve(ok(w));
    const { transitions } = this.#deps;
    return transitions
      .apply(w.id, { to: 'ready' }, ctx)
      .then((ready) =>
        ready.isOk() && w.mode === 'job' ? transitions.apply(w.id, { to: 'busy' }, ctx) : ready,
      );
  }

  async #observeExited(
    w: Worker,
    exitCode: number | null,
    finishedAt: number | null,
    ctx: Ctx,
  ): Promise<Observed> {
    const { transitions } = this.#deps;
    // A job that ran and ended before anyone saw it running still went through ready and busy.
    if (w.state === 'creating' && w.mode === 'job' && exitCode !== null) {
      const ready = await transitions.apply(w.id, { to: 'ready' }, ctx);
      if (ready.isErr()) return ready;
      const busy = await transitions.apply(w.id, { to: 'busy' }, ctx);
      if (busy.isErr()) return busy;
    }
    const reason: TerminationReason =
      w.mode === 'job' || exitCode === 0 ? 'JobCompleted' : 'ProviderError';
    return transitions.apply(w.id, { to: 'terminated', exitCode, reason, at: finishedAt }, ctx, {
      forced: false,
    });
  }

  async #observeMissing(w: Worker, ctx: Ctx): Promise<Observed> {
    // A terminating worker's resource is being removed by whoever terminates it: gone is
    // expected, not lost, and they mark it terminated (or the force-remove rule does).
    if (w.state === 'terminating') return ok(w);
    const { transitions } = this.#deps;
    if (this.#deps.registry.markLost(w)) await this.#publishLost(w, ctx);
    return transitions.apply(
      w.id,
      { to: 'terminated', exitCode: null, reason: 'ProviderError' },
      ctx,
      { forced: false },
    );
  }

  /**
   * A finished worker's resource is gone: lost if someone else removed it (`docker rm -f`
   * after its exit), reported once and with no second terminal event. Nothing when the
   * removal is ours (a destroy, the TTL cleanup, force-remove) or was reported already.
   */
  async #lostAfterEnd(w: Worker, ctx: Ctx): Promise<Observed> {
    // Gone once its retention is (about to be) over: the provider's own cleanup of finished
    // resources (a Kubernetes Job's ttlSecondsAfterFinished, which the manifest sets to the
    // retention and counts from the provider's finish time), or ours about to come: not lost.
    const retention = retentionOf(w.policy);
    if (
      w.terminatedAt !== null &&
      w.terminatedAt + retention - RETENTION_END_TOLERANCE_MS <= this.#deps.clock.now()
    ) {
      return ok(w);
    }
    if (this.#deps.registry.markLost(w)) await this.#publishLost(w, ctx);
    return ok(w);
  }

  async #publishLost(w: Worker, ctx: Ctx): Promise<void> {
    const { events } = this.#deps;
    this.#deps.counters.lostWorkers += 1;
    await events.publish({
      ...events.workerMeta(w.id, ctx),
      type: 'WorkerLost',
      resourceId: w.resourceId,
      lastKnownState: w.state,
    });
  }
}
