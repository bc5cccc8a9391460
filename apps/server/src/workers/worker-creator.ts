import {
  newWorker,
  OWNERSHIP_LABELS,
  type OperationContext,
  type Worker,
  type WorkerHandle,
  type WorkerId,
  type WorkerSpec,
} from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import {
  parseCreateRequest,
  type CreateDefaults,
  type CreateWorkerRequest,
} from './create-request.js';
import { fingerprintOf, type CreationFingerprints } from './creation-fingerprints.js';
import type { ProviderEntry } from './provider-entry.js';
import { checkPressure, type PressureGauge } from './publisher-pressure.js';
import { describeError, workerNotFound, type WorkerServiceError } from './service.errors.js';
import type { WorkerLookup } from './worker-lookup.js';
import { workerView, type WorkerView } from './worker-view.js';

/** A create's answer: the worker, and whether this request made it or repeated its create. */
export interface CreateOutcome {
  worker: WorkerView;
  created: boolean;
}

export interface CreatorLimits extends CreateDefaults {
  /** Live workers per provider (HODEI_MAX_WORKERS). */
  readonly maxWorkers: number;
  /** The service's clock, for the deadlines in the answer. */
  readonly now: () => number;
  /** The publisher's backpressure refuses creates before anything is made. */
  readonly publisher?: PressureGauge;
}

/** Creation with idempotency by id, the per-provider quota and policy overrides. */
export class WorkerCreator {
  readonly #creating = new Map<string, Promise<unknown>>();
  /** Creates under way per provider, counted against HODEI_MAX_WORKERS. */
  readonly #pending = new Map<string, number>();

  constructor(
    private readonly lookup: WorkerLookup,
    private readonly fingerprints: CreationFingerprints,
    private readonly limits: CreatorLimits,
  ) {}

  async create(
    request: CreateWorkerRequest,
    ctx: OperationContext,
  ): Promise<Result<CreateOutcome, WorkerServiceError>> {
    const valid = parseCreateRequest(request, this.lookup, this.limits);
    if (valid.isErr()) return err(valid.error);
    const { entry, spec } = valid.value;
    const workerId = spec.workerId;
    const fingerprint = fingerprintOf(entry.id, spec);
    // Creates of one id run one after another, so a concurrent repeat is answered as a repeat.
    const before = this.#creating.get(workerId);
    const run = (async () => {
      await before?.catch(() => undefined);
      return this.#createOnce(entry, workerId, spec, fingerprint, ctx);
    })();
    this.#creating.set(workerId, run);
    try {
      return await run;
    } finally {
      if (this.#creating.get(workerId) === run) this.#creating.delete(workerId);
    }
  }

  async #createOnce(
    entry: ProviderEntry,
    workerId: WorkerId,
    spec: WorkerSpec,
    fingerprint: string,
    ctx: OperationContext,
  ): Promise<Result<CreateOutcome, WorkerServiceError>> {
    const lifecycle = entry.lifecycle;
    if (lifecycle === undefined) return this.#createBare(entry, workerId, spec);
    // Tracking is rebuilt from the engine first; a create before that could collide with a
    // worker recovery is about to adopt.
    if (!lifecycle.recovery.recovered && !(await lifecycle.recovery.ensure())) {
      const cause = lifecycle.recovery.lastError;
      // An engine that does not answer is said as such, naming it.
      if (cause?.type === 'ProviderUnavailable' || cause?.type === 'ProviderTimeout')
        return err(cause);
      return err({
        type: 'ProviderNotRecovered',
        providerId: entry.id,
        message: `provider ${entry.id} has not recovered its workers yet${cause === undefined ? '' : `: ${describeError(cause)}`}; try again`,
      });
    }
    const existing = this.lookup.find(workerId);
    if (existing !== undefined) return this.#repeat(existing.worker, spec, fingerprint, entry.id);
    // A repeat of a create whose worker ran and was cleaned up: not run a second time.
    const ended = this.fingerprints.endedRepeat(workerId, fingerprint);
    if (ended !== undefined) return ok({ worker: ended.worker, created: false });
    const pressure = checkPressure(this.limits.publisher);
    if (pressure.isErr()) return err(pressure.error);
    const live = lifecycle.manager.countLiveWorkers();
    const pending = this.#pending.get(entry.id) ?? 0;
    if (live + pending >= this.limits.maxWorkers)
      return err(tooMany(entry.id, this.limits.maxWorkers));
    this.#pending.set(entry.id, pending + 1);
    this.fingerprints.remember(workerId, fingerprint);
    let handle: WorkerHandle;
    try {
      const created = await lifecycle.managed.createWorker(spec, ctx);
      if (created.isErr()) {
        this.fingerprints.release(workerId);
        return err(created.error);
      }
      handle = created.value;
    } finally {
      this.#pending.set(entry.id, (this.#pending.get(entry.id) ?? 1) - 1);
    }
    const view = workerView(this.#snapshot(entry, handle, spec), this.limits.now());
    this.fingerprints.made(workerId, view);
    return ok({ worker: view, created: true });
  }

  /**
   * The worker this create made: as tracked while that life goes on, else (a job that ended
   * and was cleaned up before the answer) as the create made it, ended. Never another life's.
   */
  #snapshot(entry: ProviderEntry, handle: WorkerHandle, spec: WorkerSpec): Worker {
    const tracked = entry.lifecycle?.manager.getWorker(handle.workerId);
    if (tracked?.resourceId === handle.resourceId) return tracked;
    const made = newWorker({
      id: handle.workerId,
      providerId: entry.id,
      mode: spec.mode,
      ...(spec.readiness === undefined ? {} : { readiness: spec.readiness }),
      resourceId: handle.resourceId,
      image: spec.image,
      policy: spec.policy,
      createdAt: handle.createdAt,
    });
    return { ...made, state: 'terminated' };
  }

  /** Lifecycle management off: the provider alone, as in the seed's fallback. */
  async #createBare(
    entry: ProviderEntry,
    workerId: WorkerId,
    spec: WorkerSpec,
  ): Promise<Result<CreateOutcome, WorkerServiceError>> {
    const listed = await entry.provider.listManagedWorkers();
    if (listed.isErr()) return err(listed.error);
    if (listed.value.some((r) => r.labels[OWNERSHIP_LABELS.workerId] === workerId)) {
      return err({
        type: 'WorkerIdConflict',
        workerId,
        message: `worker ${workerId} already exists`,
      });
    }
    if (listed.value.filter((r) => r.status.state !== 'exited').length >= this.limits.maxWorkers) {
      return err(tooMany(entry.id, this.limits.maxWorkers));
    }
    const created = await entry.provider.createWorker(spec);
    if (created.isErr()) return err(created.error);
    const view = await this.lookup.bareView(entry, workerId);
    return view === undefined ? err(workerNotFound(workerId)) : ok({ worker: view, created: true });
  }

  #repeat(
    worker: Worker,
    spec: WorkerSpec,
    fingerprint: string,
    providerId: string,
  ): Result<CreateOutcome, WorkerServiceError> {
    if (!this.fingerprints.isRepeat(worker, spec, fingerprint, providerId)) {
      return err({
        type: 'WorkerIdConflict',
        workerId: worker.id,
        message: `worker ${worker.id} exists with another spec`,
      });
    }
    return ok({ worker: workerView(worker, this.limits.now()), created: false });
  }
}

const tooMany = (providerId: string, limit: number): WorkerServiceError => ({
  type: 'TooManyWorkers',
  providerId,
  limit,
  message: `provider ${providerId} already runs ${limit} workers (HODEI_MAX_WORKERS)`,
});
