import {
  isTerminal,
  OWNERSHIP_LABELS,
  type Logger,
  type OperationContext,
  type WorkerHandle,
} from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import type { BackgroundJobs } from './background-jobs.js';
import type { CreationFingerprints } from './creation-fingerprints.js';
import { checkPressure, type PressureGauge } from './publisher-pressure.js';
import { describeError, workerNotFound, type WorkerServiceError } from './service.errors.js';
import type { TrackedWorker, WorkerLookup } from './worker-lookup.js';
import { resourceView, workerView, type WorkerView } from './worker-view.js';

/** A destroy's answer: the worker, and whether it is gone already or still terminating. */
export interface DestroyOutcome {
  worker: WorkerView;
  finished: boolean;
}

export interface CommandDeps {
  readonly lookup: WorkerLookup;
  readonly fingerprints: CreationFingerprints;
  readonly jobs: BackgroundJobs;
  readonly logger: Logger;
  readonly now: () => number;
  /** Every change records an event: refused before it is made while the publisher cannot. */
  readonly publisher?: PressureGauge;
}

/** What moves a worker on request: an agent's ready and busy, and a destroy. */
export class WorkerCommands {
  constructor(private readonly deps: CommandDeps) {}

  async mark(
    workerId: string,
    to: 'ready' | 'busy',
    ctx: OperationContext,
  ): Promise<Result<WorkerView, WorkerServiceError>> {
    const found = this.deps.lookup.find(workerId);
    if (found === undefined) {
      if (this.deps.lookup.defaultEntry.lifecycle === undefined) {
        return err({
          type: 'LifecycleDisabled',
          message:
            'lifecycle management is off (HODEI_LIFECYCLE_ENABLED=false): workers have no ready/busy state',
        });
      }
      return err(workerNotFound(workerId));
    }
    if (found.worker.mode === 'job') {
      return err({
        type: 'NotAnAgent',
        workerId,
        message: `worker ${workerId} runs a job: it goes ready and busy by itself; /ready and /busy are for agents`,
      });
    }
    const pressure = checkPressure(this.deps.publisher);
    if (pressure.isErr()) return err(pressure.error);
    const manager = found.entry.lifecycle!.manager;
    const moved = await (to === 'ready'
      ? manager.markWorkerReady(workerId, ctx)
      : manager.markWorkerBusy(workerId, ctx));
    return moved.map((w) => workerView(w, this.deps.now()));
  }

  /**
   * Graceful destroy. Returns at once with the worker `terminating` (the rest runs in the
   * background) unless `wait`; a finished worker is removed at once.
   */
  async destroy(
    workerId: string,
    wait: boolean,
    ctx: OperationContext,
  ): Promise<Result<DestroyOutcome, WorkerServiceError>> {
    const found = this.deps.lookup.find(workerId);
    if (found === undefined) return this.#destroyBare(workerId, wait);
    const pressure = checkPressure(this.deps.publisher);
    if (pressure.isErr()) return err(pressure.error);
    return this.#destroyTracked(found, wait, ctx);
  }

  async #destroyTracked(
    { entry, worker }: TrackedWorker,
    wait: boolean,
    ctx: OperationContext,
  ): Promise<Result<DestroyOutcome, WorkerServiceError>> {
    const workerId = worker.id;
    const lifecycle = entry.lifecycle!;
    const handle = lifecycle.manager.handleOf(worker);
    if (isTerminal(worker.state)) {
      const removed = await lifecycle.managed.destroyWorker(handle, undefined, ctx);
      if (removed.isErr()) return err(removed.error);
      this.deps.fingerprints.release(workerId);
      return ok({ worker: workerView(worker, this.deps.now()), finished: true });
    }
    const terminating = await lifecycle.manager.startTermination(
      workerId,
      'ManualTermination',
      ctx,
    );
    if (terminating.isErr()) {
      // It finished by itself meanwhile: remove it as a finished worker.
      const now = lifecycle.manager.getWorker(workerId);
      if (
        terminating.error.type === 'InvalidTransition' &&
        now !== undefined &&
        isTerminal(now.state)
      ) {
        return this.destroy(workerId, wait, ctx);
      }
      if (terminating.error.type === 'WorkerNotFound') return err(workerNotFound(workerId));
      return err(terminating.error);
    }
    const job = (async () => {
      const result = await lifecycle.managed.destroyWorker(handle, undefined, ctx);
      if (result.isErr()) {
        this.deps.logger.warn('background destroy failed; the deadline pass will force it', {
          workerId,
          error: describeError(result.error),
        });
      } else {
        this.deps.fingerprints.release(workerId);
      }
      return result;
    })();
    this.deps.jobs.track(job);
    if (!wait)
      return ok({ worker: workerView(terminating.value, this.deps.now()), finished: false });
    const done = await job;
    if (done.isErr()) return err(done.error);
    const after = lifecycle.manager.getWorker(workerId);
    const now = this.deps.now();
    return ok({
      worker: workerView(
        after ?? { ...terminating.value, state: 'terminated', terminatedAt: now },
        now,
      ),
      finished: true,
    });
  }

  async #destroyBare(
    workerId: string,
    wait: boolean,
  ): Promise<Result<DestroyOutcome, WorkerServiceError>> {
    for (const entry of this.deps.lookup.providers) {
      if (entry.lifecycle !== undefined) continue;
      const listed = await entry.provider.listManagedWorkers();
      if (listed.isErr()) return err(listed.error);
      const r = listed.value.find((x) => x.labels[OWNERSHIP_LABELS.workerId] === workerId);
      const view = r === undefined ? undefined : resourceView(r, entry.id, entry.policy);
      if (r === undefined || view === undefined) continue;
      const handle: WorkerHandle = {
        workerId: view.id as WorkerHandle['workerId'],
        resourceId: r.resourceId,
        providerId: entry.id,
        createdAt: r.createdAt,
      };
      const gracePeriod = entry.policy.gracefulTerminationTimeout;
      const job = (async () => await entry.provider.destroyWorker(handle, { gracePeriod }))();
      this.deps.jobs.track(job);
      if (!wait) return ok({ worker: { ...view, state: 'terminating' }, finished: false });
      const done = await job;
      if (done.isErr()) return err(done.error);
      return ok({ worker: { ...view, state: 'terminated' }, finished: true });
    }
    return err(workerNotFound(workerId));
  }
}
