import { err, errAsync, ok, okAsync, type Result, ResultAsync } from 'neverthrow';
import type { LifecycleManager, OperationContext } from '../lifecycle/lifecycle-manager.js';
import type { LifecycleError } from '../lifecycle/lifecycle.errors.js';
import { maxLifetimeRefusal } from '../lifecycle/policy-changes.js';
import type { LifecycleEventPublisher, PublishError } from '../ports/event-publisher.port.js';
import type { Logger } from '../ports/logger.port.js';
import { silentLogger } from '../ports/logger.port.js';
import type {
  DestroyOptions,
  LogLine,
  LogOptions,
  ManagedResource,
  ProviderHealth,
  ProviderWatchEvent,
  WatchSubscription,
  WorkerHandle,
  WorkerProvider,
  WorkerSpec,
  WorkerStatus,
} from '../ports/worker-provider.port.js';
import type { ProviderId } from '../worker/ids.js';
import { isTerminal } from '../worker/worker-state.js';

export type ManagedWorkerError =
  LifecycleError | Extract<PublishError, { type: 'PublisherBackpressure' }>;

/**
 * A WorkerProvider whose workers are tracked by a LifecycleManager (SPEC §6, the seed's
 * decorator): create = resource, then tracking (and the resource removed if tracking fails);
 * destroy = Terminating, remove the resource within the graceful timeout, Terminated, then
 * cleanup when auto-cleanup is on.
 */
export class LifecycleManagedWorkerProvider implements WorkerProvider<ManagedWorkerError> {
  constructor(
    private readonly inner: WorkerProvider,
    readonly manager: LifecycleManager,
    private readonly publisher: LifecycleEventPublisher | undefined,
    private readonly logger: Logger = silentLogger,
  ) {}

  get providerId(): ProviderId {
    return this.inner.providerId;
  }

  createWorker(
    spec: WorkerSpec,
    ctx?: OperationContext,
  ): ResultAsync<WorkerHandle, ManagedWorkerError> {
    const pressure = this.publisher?.backpressure?.() ?? null;
    if (pressure?.type === 'PublisherBackpressure') return errAsync(pressure);
    const cap = this.manager.maxLifetimeCap;
    if (cap !== undefined && spec.policy.maxLifetime > cap) {
      return errAsync(maxLifetimeRefusal(spec.workerId, spec.policy.maxLifetime, cap));
    }
    // Recorded before the provider is called: what a failed create leaves is removed later.
    const attempts = this.manager.createAttempts;
    attempts.begin(spec.workerId);
    return new ResultAsync(
      (async (): Promise<Result<WorkerHandle, ManagedWorkerError>> => {
        let result: Result<WorkerHandle, ManagedWorkerError> | undefined;
        try {
          result = await this.#create(spec, ctx);
        } catch (cause) {
          // A port that throws or rejects instead of returning Err: a failed create all the
          // same, whose leftovers are removed; never a rejection the caller could miss.
          result = err(this.#thrownCreate(spec, cause));
        } finally {
          // Always ended, so the id is never kept in flight (and out of every sweep) forever.
          if (result === undefined) attempts.failed(spec.workerId, { type: 'ProviderFailure' });
          else if (result.isOk()) attempts.succeeded(spec.workerId);
          else attempts.failed(spec.workerId, result.error);
        }
        return result;
      })(),
    );
  }

  #thrownCreate(spec: WorkerSpec, cause: unknown): ManagedWorkerError {
    const message = cause instanceof Error ? cause.message : String(cause);
    try {
      this.logger.error('a create threw', { workerId: spec.workerId, error: message });
    } catch {
      // a logger that throws: the Err says it all
    }
    return {
      type: 'ProviderFailure',
      operation: 'createWorker',
      message: `the create of ${spec.workerId} threw: ${message}`,
      retryable: true,
      cause,
    };
  }

  /** The resource, then its tracking and its first status. */
  #create(spec: WorkerSpec, ctx?: OperationContext): ResultAsync<WorkerHandle, ManagedWorkerError> {
    return this.inner.createWorker(spec).andThen((handle) =>
      this.manager
        .initializeWorker(handle, spec, ctx)
        .orElse((trackingError) =>
          // Never leak: a resource we cannot track is removed at once.
          this.inner
            .destroyWorker(handle, { gracePeriod: 0 })
            .orElse((removeError) => {
              this.logger.error('could not remove a resource whose tracking failed', {
                workerId: handle.workerId,
                resourceId: handle.resourceId,
                error: removeError.message,
              });
              return okAsync(undefined);
            })
            .andThen(() => errAsync(trackingError)),
        )
        .andThen(() =>
          this.inner
            .getWorkerStatus(handle)
            .orElse((): ResultAsync<WorkerStatus, never> => okAsync({ state: 'creating' }))
            .andThen((status) => this.manager.observeStatus(handle.workerId, status, ctx)),
        )
        .map(() => handle),
    );
  }

  /**
   * Manual destroy. A finished worker is removed at once (ForceCleanup); an untracked one is
   * passed to the provider, which removes it only if it carries our labels. Every step is
   * fenced by the handle's resource: once that life is over (the id re-created meanwhile, or
   * before the call), the destroy is done and never touches the new life.
   */
  destroyWorker(
    handle: WorkerHandle,
    options?: Partial<DestroyOptions>,
    ctx?: OperationContext,
  ): ResultAsync<void, ManagedWorkerError> {
    const worker = this.manager.getWorker(handle.workerId);
    if (worker === undefined || worker.resourceId !== handle.resourceId) {
      return this.inner.destroyWorker(handle, { gracePeriod: options?.gracePeriod ?? 0 });
    }
    const fenced: OperationContext = { ...ctx, resourceId: worker.resourceId };
    const gracePeriod = options?.gracePeriod ?? worker.policy.gracefulTerminationTimeout;
    const target = this.manager.handleOf(worker);
    const remove = (grace: number) =>
      this.manager.removeResource(worker, () =>
        this.inner.destroyWorker(target, { gracePeriod: grace }),
      );
    if (isTerminal(worker.state)) {
      return remove(0)
        .andThen(() => this.manager.cleanupWorker(worker.id, 'ForceCleanup', fenced))
        .orElse(doneIfReplaced);
    }
    return this.manager
      .startTermination(worker.id, 'ManualTermination', fenced)
      .orElse((e) =>
        // Re-created while this call waited for the worker's lock: remove what is left of
        // the life it targeted, and no more.
        e.type === 'WorkerReplaced'
          ? this.inner.destroyWorker(target, { gracePeriod: 0 }).andThen(() => errAsync(e))
          : errAsync(e),
      )
      .andThen(() => remove(gracePeriod))
      .andThen(() =>
        this.manager.markWorkerTerminated(worker.id, { exitCode: null, forced: false }, fenced),
      )
      .andThen((terminated) =>
        terminated.policy.autoCleanupEnabled
          ? this.manager.cleanupWorker(worker.id, 'NormalTermination', fenced)
          : okAsync(undefined),
      )
      .orElse(doneIfReplaced);
  }

  stopWorker(handle: WorkerHandle, options: DestroyOptions): ResultAsync<void, ManagedWorkerError> {
    return this.inner.stopWorker(handle, options);
  }

  getWorkerStatus(handle: WorkerHandle): ResultAsync<WorkerStatus, ManagedWorkerError> {
    return this.inner.getWorkerStatus(handle);
  }

  listManagedWorkers(): ResultAsync<readonly ManagedResource[], ManagedWorkerError> {
    return this.inner.listManagedWorkers();
  }

  logs(
    handle: WorkerHandle,
    options?: LogOptions,
  ): ResultAsync<AsyncIterable<LogLine>, ManagedWorkerError> {
    return this.inner.logs(handle, options);
  }

  watch(listener: (event: ProviderWatchEvent) => void): WatchSubscription {
    return this.inner.watch?.(listener) ?? { close: () => undefined };
  }

  health(): ResultAsync<ProviderHealth, ManagedWorkerError> {
    return this.inner.health();
  }
}

/** A step refused because the life it targeted is over (the id was re-created): done. */
function doneIfReplaced(e: ManagedWorkerError): ResultAsync<void, ManagedWorkerError> {
  return e.type === 'WorkerReplaced' ? okAsync(undefined) : errAsync(e);
}

export type BuilderError =
  | { readonly type: 'MissingLifecycleManager'; readonly message: string }
  | { readonly type: 'ProviderMismatch'; readonly message: string };

/** Builds the decorator; a Result, so the caller can fall back to the bare provider. */
export class LifecycleManagedWorkerProviderBuilder {
  #manager: LifecycleManager | undefined;
  #publisher: LifecycleEventPublisher | undefined;
  #logger: Logger = silentLogger;

  constructor(private readonly provider: WorkerProvider) {}

  withLifecycleManager(manager: LifecycleManager): this {
    this.#manager = manager;
    return this;
  }

  /** The publisher whose backpressure refuses new workers. */
  withEventPublisher(publisher: LifecycleEventPublisher): this {
    this.#publisher = publisher;
    return this;
  }

  withLogger(logger: Logger): this {
    this.#logger = logger;
    return this;
  }

  build(): Result<LifecycleManagedWorkerProvider, BuilderError> {
    const manager = this.#manager;
    if (manager === undefined) {
      return err({ type: 'MissingLifecycleManager', message: 'a lifecycle manager is required' });
    }
    if (manager.provider !== this.provider) {
      return err({
        type: 'ProviderMismatch',
        message: `the lifecycle manager tracks provider ${manager.providerId}, not this ${this.provider.providerId} instance`,
      });
    }
    return ok(
      new LifecycleManagedWorkerProvider(this.provider, manager, this.#publisher, this.#logger),
    );
  }
}
