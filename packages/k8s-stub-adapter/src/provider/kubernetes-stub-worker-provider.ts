import type {
  Clock,
  DestroyOptions,
  LogLine,
  LogOptions,
  ManagedResource,
  ProviderHealth,
  ProviderId,
  ProviderWatchEvent,
  WatchSubscription,
  WorkerHandle,
  WorkerProvider,
  WorkerProviderError,
  WorkerSpec,
  WorkerStatus,
} from '@hodei/domain';
import { errAsync, okAsync, ResultAsync, type Result } from 'neverthrow';
import type { SimulatedCluster } from '../cluster/simulated-cluster.js';
import { ClusterScope } from './cluster-scope.js';
import { createWorker, type WorkerJobDefaults } from './create-worker.js';
import { destroyWorker } from './destroy-worker.js';
import type { ImagePullPolicy } from './job-manifest.js';
import { runSteps } from './list-all-pages.js';
import { listManagedWorkers } from './list-managed-workers.js';
import { stopWorker } from './stop-worker.js';
import { workerLogs } from './worker-logs.js';
import { getWorkerStatus } from './worker-status.js';
import { watchWorkers } from './worker-watch.js';

export interface KubernetesStubProviderOptions {
  readonly providerId: ProviderId;
  readonly cluster: SimulatedCluster;
  /** Where the Jobs go; `default` unless set. The namespace must exist. */
  readonly namespace?: string;
  readonly imagePullPolicy?: ImagePullPolicy;
  /** Non-root user of the restricted security context; 65534 (nobody) by default. */
  readonly runAsUser?: number;
  /** Requests and limits when the spec names none; 512 MiB and 1 CPU by default. */
  readonly defaultResources?: { readonly memoryMb: number; readonly cpus: number };
  /**
   * How long past its grace period a pod may stay Terminating before the provider
   * force-deletes it (grace 0). 30 s by default, the margin of SPEC §5 rule 3.
   */
  readonly forceDeleteMarginMs?: number;
  /** Named in `ProviderUnavailable` errors. */
  readonly endpoint?: string;
  /** What a 504 from the API stands for, reported in `ProviderTimeout`. */
  readonly requestTimeoutMs?: number;
  /**
   * How many objects `listManagedWorkers` asks the API for at once (`limit`); the event loop
   * gets a turn between pages. 200 by default (client-go's pager asks 500: its pages here block for
   * 35–70 ms at 10,000 workers, past the server's 50 ms lag goal).
   */
  readonly listPageSize?: number;
}

const toAsync = <T, E>(result: Result<T, E>): ResultAsync<T, E> =>
  result.isOk() ? okAsync(result.value) : errAsync(result.error);

/**
 * A `WorkerProvider` over the simulated cluster: each worker is a Job `hodei-worker-<id>`
 * running one pod. It lists, stops and deletes only objects labelled with its provider id.
 * Every call runs against the cluster at once; the port's `ResultAsync` is already settled, except
 * that of a `listManagedWorkers` longer than one page, which settles after its last.
 */
export class KubernetesStubWorkerProvider implements WorkerProvider {
  readonly providerId: ProviderId;
  readonly #scope: ClusterScope;
  readonly #jobDefaults: WorkerJobDefaults;
  readonly #forceDeleteMarginMs: number;
  readonly #listPageSize: number;

  constructor(options: KubernetesStubProviderOptions) {
    this.providerId = options.providerId;
    this.#scope = new ClusterScope({
      cluster: options.cluster,
      namespace: options.namespace ?? 'default',
      providerId: options.providerId,
      endpoint: options.endpoint ?? 'simulated://kubernetes',
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    });
    this.#jobDefaults = {
      imagePullPolicy: options.imagePullPolicy ?? 'IfNotPresent',
      runAsUser: options.runAsUser ?? 65534,
      defaultResources: options.defaultResources ?? { memoryMb: 512, cpus: 1 },
    };
    this.#forceDeleteMarginMs = options.forceDeleteMarginMs ?? 30_000;
    this.#listPageSize = Math.max(1, Math.floor(options.listPageSize ?? 200));
  }

  /** The simulated cluster's clock: the time every timestamp of this provider is read from. */
  get clock(): Clock {
    return this.#scope.cluster.clock;
  }

  get namespace(): string {
    return this.#scope.namespace;
  }

  /** The label selector of this provider's objects. */
  get labelSelector(): string {
    return this.#scope.selector;
  }

  // ---------------------------------------------------------------- the port

  createWorker(spec: WorkerSpec): ResultAsync<WorkerHandle, WorkerProviderError> {
    return toAsync(createWorker(this.#scope, this.#jobDefaults, spec));
  }

  /**
   * Stops the worker and keeps its Job and pod, for logs (the pod's deadline is lowered to its
   * age). `gracePeriod` is not used: a pod's grace period is fixed at creation (the policy's
   * graceful timeout).
   */
  stopWorker(
    handle: WorkerHandle,
    _options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    return toAsync(stopWorker(this.#scope, handle));
  }

  /**
   * Deletes the Job with background propagation, and its pods with the given grace period
   * (0 forces). Idempotent; refuses objects without this provider's labels.
   */
  destroyWorker(
    handle: WorkerHandle,
    options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    return toAsync(destroyWorker(this.#scope, handle, options));
  }

  getWorkerStatus(handle: WorkerHandle): ResultAsync<WorkerStatus, WorkerProviderError> {
    return toAsync(getWorkerStatus(this.#scope, handle));
  }

  /**
   * Our Jobs whose worker still has a pod (or is still starting), and our bare pods (orphans).
   * Pods Terminating past their grace period plus the margin are force-deleted here first.
   * Listed `listPageSize` objects at a time, with a turn of the event loop between pages.
   */
  listManagedWorkers(): ResultAsync<readonly ManagedResource[], WorkerProviderError> {
    return new ResultAsync(
      runSteps(listManagedWorkers(this.#scope, this.#forceDeleteMarginMs, this.#listPageSize)),
    );
  }

  /** The worker pod's output; with `follow`, until its container ends or the pod goes. */
  logs(
    handle: WorkerHandle,
    options: LogOptions = {},
  ): ResultAsync<AsyncIterable<LogLine>, WorkerProviderError> {
    return toAsync(workerLogs(this.#scope, handle, options));
  }

  /** Started, exited, unhealthy (node lost) and removed notifications for our pods and Jobs. */
  watch(listener: (event: ProviderWatchEvent) => void): WatchSubscription {
    return watchWorkers(this.#scope, listener);
  }

  health(): ResultAsync<ProviderHealth, WorkerProviderError> {
    const scope = this.#scope;
    const namespaces = scope.cluster.listNamespaces();
    if (namespaces.isErr()) return errAsync(scope.error(namespaces.error, 'health'));
    if (!namespaces.value.includes(scope.namespace))
      return errAsync({
        type: 'ProviderFailure',
        operation: 'health',
        message: `namespace ${scope.namespace} does not exist on ${scope.endpoint}`,
        retryable: false,
      });
    return okAsync({
      providerId: this.providerId,
      detail: `simulated Kubernetes at ${scope.endpoint}, namespace ${scope.namespace}`,
    });
  }
}
