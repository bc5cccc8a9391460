import {
  isOwnedBy,
  type Clock,
  OWNERSHIP_LABELS,
  type DestroyOptions,
  type LogLine,
  type LogOptions,
  type ManagedResource,
  type ProviderHealth,
  type ProviderId,
  type ProviderWatchEvent,
  type WatchSubscription,
  type WorkerHandle,
  type WorkerId,
  type WorkerProvider,
  type WorkerProviderError,
  type WorkerSpec,
  type WorkerStatus,
} from '@hodei/domain';
import { err, errAsync, ok, okAsync, type Result, type ResultAsync } from 'neverthrow';
import type { ApiError } from '../cluster/cluster-api.errors.js';
import type { IJob, IPod, WatchEvent } from '../cluster/cluster-types.js';
import type { SimulatedCluster } from '../cluster/simulated-cluster.js';
import { buildWorkerJob, jobNameOf, type ImagePullPolicy } from './job-manifest.js';
import { mapApiError } from './map-api-error.js';
import { jobWorkerStatus, podWorkerStatus } from './map-pod-status.js';

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
}

/** Bare pods (not made by one of our Jobs) are addressed as `pod/<name>`. */
const POD_PREFIX = 'pod/';
const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
const TERMINAL: readonly string[] = ['Succeeded', 'Failed'];

type Resource =
  | { readonly kind: 'job'; readonly job: IJob }
  | { readonly kind: 'pod'; readonly pod: IPod }
  | { readonly kind: 'gone' };

const toAsync = <T, E>(result: Result<T, E>): ResultAsync<T, E> =>
  result.isOk() ? okAsync(result.value) : errAsync(result.error);

const time = (value: string | undefined): number | null => {
  if (value === undefined) return null;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
};

const mergedLabels = (o: IJob | IPod): Record<string, string> => ({
  ...o.metadata?.annotations,
  ...o.metadata?.labels,
});

/**
 * A `WorkerProvider` over the simulated cluster: each worker is a Job `hodei-worker-<id>`
 * running one pod. It lists, stops and deletes only objects labelled with its provider id.
 */
export class KubernetesStubWorkerProvider implements WorkerProvider {
  readonly providerId: ProviderId;
  readonly #cluster: SimulatedCluster;
  readonly #namespace: string;
  readonly #imagePullPolicy: ImagePullPolicy;
  readonly #runAsUser: number;
  readonly #defaultResources: { readonly memoryMb: number; readonly cpus: number };
  readonly #forceDeleteMarginMs: number;
  readonly #endpoint: string;
  readonly #requestTimeoutMs: number;
  readonly #selector: string;

  constructor(options: KubernetesStubProviderOptions) {
    this.providerId = options.providerId;
    this.#cluster = options.cluster;
    this.#namespace = options.namespace ?? 'default';
    this.#imagePullPolicy = options.imagePullPolicy ?? 'IfNotPresent';
    this.#runAsUser = options.runAsUser ?? 65534;
    this.#defaultResources = options.defaultResources ?? { memoryMb: 512, cpus: 1 };
    this.#forceDeleteMarginMs = options.forceDeleteMarginMs ?? 30_000;
    this.#endpoint = options.endpoint ?? 'simulated://kubernetes';
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#selector = `${OWNERSHIP_LABELS.managed}=true,${OWNERSHIP_LABELS.providerId}=${options.providerId}`;
  }

  /** The simulated cluster's clock: the time every timestamp of this provider is read from. */
  get clock(): Clock {
    return this.#cluster.clock;
  }

  get namespace(): string {
    return this.#namespace;
  }

  /** The label selector of this provider's objects. */
  get labelSelector(): string {
    return this.#selector;
  }

  // ---------------------------------------------------------------- the port

  createWorker(spec: WorkerSpec): ResultAsync<WorkerHandle, WorkerProviderError> {
    const createdAt = this.#cluster.now();
    const manifest = buildWorkerJob(spec, {
      providerId: this.providerId,
      namespace: this.#namespace,
      createdAt,
      imagePullPolicy: this.#imagePullPolicy,
      runAsUser: this.#runAsUser,
      defaultResources: this.#defaultResources,
    });
    if (manifest.isErr())
      return errAsync({
        type: 'InvalidWorkerSpec',
        message: `invalid worker spec for ${spec.workerId}`,
        problems: manifest.error,
      });
    const name = jobNameOf(spec.workerId);
    const created = this.#cluster.createJob(this.#namespace, manifest.value);
    if (created.isOk())
      return okAsync({
        workerId: spec.workerId,
        resourceId: name,
        providerId: this.providerId,
        createdAt,
      });
    const error = created.error;
    if (error.reason === 'AlreadyExists')
      return errAsync({
        type: 'WorkerAlreadyExists',
        workerId: spec.workerId,
        message: `worker ${spec.workerId} already has a Job ${name}`,
      });
    if (error.reason === 'Invalid')
      return errAsync({
        type: 'InvalidWorkerSpec',
        message: error.message,
        problems: error.causes.map((c) => ({ path: c.field, message: c.message })),
      });
    // A failed or timed-out create may still have made the Job: remove it, so that a
    // creation that failed half-way leaves nothing (orphan detection covers a failed cleanup).
    this.#undoCreate(name, createdAt);
    return errAsync(this.#error(error, 'createJob'));
  }

  /**
   * Stops the worker and keeps its Job and pod, for logs: lowers the pod's
   * `activeDeadlineSeconds` to its age, so the kubelet stops it (SIGTERM, then SIGKILL after the
   * pod's own grace period) and marks it Failed with reason DeadlineExceeded. The Job then
   * fails (backoffLimit 0) and the TTL controller removes it later. `gracePeriod` is not
   * used: a pod's grace period is fixed at creation (the policy's graceful timeout).
   */
  stopWorker(
    handle: WorkerHandle,
    _options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    return toAsync(
      this.#resolveOwned(handle, 'stopWorker').andThen((resource) => {
        switch (resource.kind) {
          case 'gone':
            return ok(undefined);
          case 'pod':
            return this.#stopPod(resource.pod);
          case 'job':
            return this.#stopJob(resource.job);
        }
      }),
    );
  }

  /**
   * Deletes the Job with background propagation, and its pods with the given grace period
   * (0 forces). Idempotent; refuses objects without this provider's labels.
   */
  destroyWorker(
    handle: WorkerHandle,
    options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    const grace = Math.max(0, Math.ceil(options.gracePeriod / 1_000));
    return toAsync(
      this.#resolveOwned(handle, 'destroyWorker').andThen(
        (resource): Result<void, WorkerProviderError> => {
          switch (resource.kind) {
            case 'gone':
              return ok(undefined);
            case 'pod':
              return this.#ignoreNotFound(
                this.#cluster.deletePod(this.#namespace, resource.pod.metadata?.name ?? '', {
                  gracePeriodSeconds: grace,
                }),
                'deletePod',
              );
            case 'job':
              return this.#deleteJob(resource.job, grace);
          }
        },
      ),
    );
  }

  getWorkerStatus(handle: WorkerHandle): ResultAsync<WorkerStatus, WorkerProviderError> {
    return toAsync(
      this.#resolve(handle.resourceId, 'getWorkerStatus').andThen(
        (resource): Result<WorkerStatus, WorkerProviderError> => {
          switch (resource.kind) {
            case 'gone':
              return ok({ state: 'missing' });
            case 'pod':
              return ok(
                !this.#owns(resource.pod) || resource.pod.metadata?.deletionTimestamp !== undefined
                  ? { state: 'missing' }
                  : podWorkerStatus(resource.pod),
              );
            case 'job':
              if (!this.#owns(resource.job)) return ok({ state: 'missing' });
              return this.#podsOfJob(resource.job, 'getWorkerStatus').map((pods) =>
                jobWorkerStatus(resource.job, pods),
              );
          }
        },
      ),
    );
  }

  /**
   * Our Jobs whose worker still has a pod (or is still starting), and our bare pods (orphans:
   * a pod with our labels that no Job of ours owns). Pods being deleted are not listed; those
   * Terminating past their grace period plus the margin are force-deleted here first.
   */
  listManagedWorkers(): ResultAsync<readonly ManagedResource[], WorkerProviderError> {
    const jobs = this.#cluster.listJobs(this.#namespace, { labelSelector: this.#selector });
    if (jobs.isErr()) return errAsync(this.#error(jobs.error, 'listJobs'));
    const pods = this.#cluster.listPods(this.#namespace, { labelSelector: this.#selector });
    if (pods.isErr()) return errAsync(this.#error(pods.error, 'listPods'));
    const live = this.#forceOverdueDeletions(pods.value);
    const resources: ManagedResource[] = [];
    const jobUids = new Set<string>();
    for (const job of jobs.value) {
      if (!this.#owns(job)) continue;
      jobUids.add(job.metadata?.uid ?? '');
      const own = live.filter((p) => ownerUid(p) === job.metadata?.uid);
      const status = jobWorkerStatus(job, own);
      if (status.state === 'missing') continue;
      resources.push({
        resourceId: job.metadata?.name ?? '',
        labels: mergedLabels(job),
        status,
        image: job.spec?.template.spec?.containers[0]?.image ?? '',
        createdAt: this.#createdAtOf(job),
      });
    }
    for (const pod of live) {
      const owner = ownerUid(pod);
      if (owner !== undefined && jobUids.has(owner)) continue;
      if (!this.#owns(pod) || pod.metadata?.deletionTimestamp !== undefined) continue;
      resources.push({
        resourceId: `${POD_PREFIX}${pod.metadata?.name ?? ''}`,
        labels: mergedLabels(pod),
        status: podWorkerStatus(pod),
        image: pod.spec?.containers[0]?.image ?? '',
        createdAt: this.#createdAtOf(pod),
      });
    }
    return okAsync(resources);
  }

  /** The worker pod's output; with `follow`, until its container ends or the pod goes. */
  logs(
    handle: WorkerHandle,
    options: LogOptions = {},
  ): ResultAsync<AsyncIterable<LogLine>, WorkerProviderError> {
    const pod = this.#resolveOwned(handle, 'logs').andThen(
      (resource): Result<IPod | null, WorkerProviderError> => {
        switch (resource.kind) {
          case 'gone':
            return err({
              type: 'ProviderFailure',
              operation: 'logs',
              message: `no Job or pod ${handle.resourceId} for worker ${handle.workerId}`,
              retryable: false,
            });
          case 'pod':
            return ok(resource.pod);
          case 'job':
            return this.#podsOfJob(resource.job, 'logs').map((pods) => newest(pods) ?? null);
        }
      },
    );
    if (pod.isErr()) return errAsync(pod.error);
    const name = pod.value?.metadata?.name;
    if (name === undefined) return okAsync(emptyLines());
    const first = this.#cluster.readPodLog(this.#namespace, name);
    if (first.isErr() && first.error.reason !== 'BadRequest')
      return errAsync(this.#error(first.error, 'readPodLog'));
    return okAsync(this.#streamLogs(name, options));
  }

  /**
   * Pushes started, exited, unhealthy (node lost) and removed notifications from a watch on our
   * pods and Jobs. A pod removed while its container still ran is reported `removed`: the
   * worker is lost.
   */
  watch(listener: (event: ProviderWatchEvent) => void): WatchSubscription {
    const reported = new Map<string, Set<string>>();
    const once = (uid: string, what: string): boolean => {
      const seen = reported.get(uid) ?? new Set<string>();
      reported.set(uid, seen);
      if (seen.has(what)) return false;
      seen.add(what);
      return true;
    };
    const onEvent = (event: WatchEvent): void => {
      const object = event.object;
      if (!this.#owns(object)) return;
      const workerId = (object.metadata?.labels?.[OWNERSHIP_LABELS.workerId] ?? '') as WorkerId;
      if (event.kind === 'Job') {
        if (event.type === 'DELETED')
          listener({ type: 'removed', workerId, resourceId: object.metadata?.name ?? '' });
        return;
      }
      const pod = event.object;
      const uid = pod.metadata?.uid ?? '';
      const owner = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
      const resourceId =
        owner?.kind === 'Job' ? owner.name : `${POD_PREFIX}${pod.metadata?.name ?? ''}`;
      const phase = pod.status?.phase ?? 'Pending';
      if (event.type === 'DELETED') {
        reported.delete(uid);
        if (owner === undefined || !TERMINAL.includes(phase))
          listener({ type: 'removed', workerId, resourceId });
        return;
      }
      if (phase === 'Running' && once(uid, 'started'))
        listener({ type: 'started', workerId, resourceId });
      if (phase === 'Unknown' && once(uid, 'unhealthy'))
        listener({ type: 'health', workerId, resourceId, health: 'unhealthy' });
      if (TERMINAL.includes(phase) && once(uid, 'exited')) {
        const status = podWorkerStatus(pod);
        listener({
          type: 'exited',
          workerId,
          resourceId,
          exitCode: status.state === 'exited' ? status.exitCode : null,
          oomKilled: status.state === 'exited' && status.oomKilled,
          ...(status.state === 'exited' && status.finishedAt !== null
            ? { finishedAt: status.finishedAt }
            : {}),
        });
      }
    };
    const subscriptions = (['Pod', 'Job'] as const).flatMap((kind) => {
      const sub = this.#cluster.watch(
        kind,
        { namespace: this.#namespace, labelSelector: this.#selector },
        onEvent,
      );
      return sub.isOk() ? [sub.value] : [];
    });
    return { close: () => subscriptions.forEach((s) => s.close()) };
  }

  health(): ResultAsync<ProviderHealth, WorkerProviderError> {
    const namespaces = this.#cluster.listNamespaces();
    if (namespaces.isErr()) return errAsync(this.#error(namespaces.error, 'health'));
    if (!namespaces.value.includes(this.#namespace))
      return errAsync({
        type: 'ProviderFailure',
        operation: 'health',
        message: `namespace ${this.#namespace} does not exist on ${this.#endpoint}`,
        retryable: false,
      });
    return okAsync({
      providerId: this.providerId,
      detail: `simulated Kubernetes at ${this.#endpoint}, namespace ${this.#namespace}`,
    });
  }

  // ---------------------------------------------------------------- internals

  #owns(o: IJob | IPod): boolean {
    return isOwnedBy(mergedLabels(o), this.providerId);
  }

  #error(error: ApiError, operation: string): WorkerProviderError {
    return mapApiError(error, {
      providerId: this.providerId,
      endpoint: this.#endpoint,
      operation,
      requestTimeoutMs: this.#requestTimeoutMs,
    });
  }

  #ignoreNotFound(
    result: Result<unknown, ApiError>,
    operation: string,
  ): Result<void, WorkerProviderError> {
    if (result.isOk() || result.error.reason === 'NotFound') return ok(undefined);
    return err(this.#error(result.error, operation));
  }

  /** Reads the object a handle names; `gone` when it does not exist. */
  #resolve(resourceId: string, operation: string): Result<Resource, WorkerProviderError> {
    const isPod = resourceId.startsWith(POD_PREFIX);
    const found = isPod
      ? this.#cluster
          .getPod(this.#namespace, resourceId.slice(POD_PREFIX.length))
          .map((pod): Resource => ({ kind: 'pod', pod }))
      : this.#cluster
          .getJob(this.#namespace, resourceId)
          .map((job): Resource => ({ kind: 'job', job }));
    if (found.isOk()) return ok(found.value);
    if (found.error.reason === 'NotFound') return ok({ kind: 'gone' });
    return err(this.#error(found.error, `${operation}: get ${resourceId}`));
  }

  /** As `#resolve`, refusing objects that do not carry our ownership labels. */
  #resolveOwned(handle: WorkerHandle, operation: string): Result<Resource, WorkerProviderError> {
    return this.#resolve(handle.resourceId, operation).andThen(
      (resource): Result<Resource, WorkerProviderError> => {
        if (resource.kind === 'gone') return ok(resource);
        const object = resource.kind === 'job' ? resource.job : resource.pod;
        if (this.#owns(object)) return ok(resource);
        return err({
          type: 'ResourceNotOwned',
          resourceId: handle.resourceId,
          message: `${handle.resourceId} is not managed by provider ${this.providerId}: left alone`,
        });
      },
    );
  }

  #podsOfJob(job: IJob, operation: string): Result<IPod[], WorkerProviderError> {
    const uid = job.metadata?.uid ?? '';
    return this.#cluster
      .listPods(this.#namespace, { labelSelector: `${CONTROLLER_UID_LABEL}=${uid}` })
      .map((pods) => pods.filter((p) => ownerUid(p) === uid))
      .mapErr((e) => this.#error(e, `${operation}: list pods`));
  }

  #stopPod(pod: IPod): Result<void, WorkerProviderError> {
    const name = pod.metadata?.name ?? '';
    const phase = pod.status?.phase ?? 'Pending';
    if (TERMINAL.includes(phase) || pod.metadata?.deletionTimestamp !== undefined)
      return ok(undefined);
    const started = time(pod.status?.startTime);
    if (started === null)
      // Not yet on a node: there is nothing to keep, the pod is deleted.
      return this.#ignoreNotFound(this.#cluster.deletePod(this.#namespace, name), 'deletePod');
    const age = Math.max(1, Math.ceil((this.#cluster.now() - started) / 1_000));
    const current = pod.spec?.activeDeadlineSeconds;
    if (current !== undefined && current <= age) return ok(undefined);
    return this.#ignoreNotFound(
      this.#cluster.patchPod(this.#namespace, name, { activeDeadlineSeconds: age }),
      'patchPod',
    );
  }

  #stopJob(job: IJob): Result<void, WorkerProviderError> {
    return this.#podsOfJob(job, 'stopWorker').andThen((pods) => {
      const pod = newest(pods);
      if (pod !== undefined) return this.#stopPod(pod);
      // No pod yet: a Job deadline makes the Job controller fail it without starting one.
      const started = time(job.status?.startTime) ?? this.#cluster.now();
      const age = Math.max(1, Math.ceil((this.#cluster.now() - started) / 1_000));
      return this.#ignoreNotFound(
        this.#cluster.patchJob(this.#namespace, job.metadata?.name ?? '', {
          activeDeadlineSeconds: age,
        }),
        'patchJob',
      );
    });
  }

  #deleteJob(job: IJob, graceSeconds: number): Result<void, WorkerProviderError> {
    const name = job.metadata?.name ?? '';
    return this.#podsOfJob(job, 'destroyWorker').andThen((pods) => {
      const deleted = this.#ignoreNotFound(
        this.#cluster.deleteJob(this.#namespace, name, { propagationPolicy: 'Background' }),
        'deleteJob',
      );
      if (deleted.isErr()) return deleted;
      // The garbage collector would delete the pods with their own grace period; the caller's
      // (0 to force) is applied here. A failure is left to the garbage collector.
      for (const pod of pods)
        this.#cluster.deletePod(this.#namespace, pod.metadata?.name ?? '', {
          gracePeriodSeconds: graceSeconds,
        });
      return ok(undefined);
    });
  }

  /** Removes the Job a failed create may have left, only if it is the one we just tried. */
  #undoCreate(name: string, createdAt: number): void {
    const job = this.#cluster.getJob(this.#namespace, name);
    if (job.isErr()) return;
    const mine =
      this.#owns(job.value) &&
      job.value.metadata?.annotations?.[OWNERSHIP_LABELS.createdAt] ===
        new Date(createdAt).toISOString();
    if (mine) this.#deleteJob(job.value, 0);
  }

  /** Force-deletes our pods stuck Terminating past their grace period plus the margin. */
  #forceOverdueDeletions(pods: readonly IPod[]): IPod[] {
    const now = this.#cluster.now();
    return pods.filter((pod) => {
      const since = time(pod.metadata?.deletionTimestamp);
      if (since === null || !this.#owns(pod)) return true;
      const grace = (pod.metadata?.deletionGracePeriodSeconds ?? 30) * 1_000;
      if (now < since + grace + this.#forceDeleteMarginMs) return true;
      const forced = this.#cluster.deletePod(this.#namespace, pod.metadata?.name ?? '', {
        gracePeriodSeconds: 0,
      });
      return forced.isErr() && forced.error.reason !== 'NotFound';
    });
  }

  #createdAtOf(o: IJob | IPod): number {
    const recorded = time(o.metadata?.annotations?.[OWNERSHIP_LABELS.createdAt]);
    return recorded ?? time(o.metadata?.creationTimestamp) ?? 0;
  }

  async *#streamLogs(podName: string, options: LogOptions): AsyncGenerator<LogLine> {
    let sent = 0;
    let tail = options.tail;
    for (;;) {
      // Subscribe before reading, so that a change between the read and the wait is not lost.
      const change = this.#nextPodChange(podName);
      try {
        const read = this.#cluster.readPodLog(this.#namespace, podName);
        const lines = read.isOk() ? read.value.lines : [];
        let fresh = lines.slice(sent);
        if (tail !== undefined) {
          fresh = fresh.slice(Math.max(0, fresh.length - tail));
          tail = undefined;
        }
        sent = lines.length;
        for (const entry of fresh) yield { stream: entry.stream, line: entry.line };
        const over = read.isErr() ? read.error.reason !== 'BadRequest' : read.value.finished;
        if (options.follow !== true || over || options.signal?.aborted === true) return;
        await Promise.race([change.happened, aborted(options.signal)]);
      } finally {
        change.close();
      }
    }
  }

  /** Resolves at the next watch event about this pod (the simulation moves on `tick()`). */
  #nextPodChange(podName: string): { happened: Promise<void>; close(): void } {
    let close = (): void => undefined;
    const happened = new Promise<void>((resolve) => {
      const sub = this.#cluster.watch('Pod', { namespace: this.#namespace }, (event) => {
        if (event.object.metadata?.name === podName) resolve();
      });
      if (sub.isErr()) resolve();
      else close = () => sub.value.close();
    });
    return { happened, close: () => close() };
  }
}

function ownerUid(pod: IPod): string | undefined {
  return pod.metadata?.ownerReferences?.find((r) => r.controller === true)?.uid;
}

function newest(pods: readonly IPod[]): IPod | undefined {
  return [...pods].sort(
    (a, b) =>
      (time(b.metadata?.creationTimestamp) ?? 0) - (time(a.metadata?.creationTimestamp) ?? 0),
  )[0];
}

function emptyLines(): AsyncIterable<LogLine> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.resolve({ done: true, value: undefined }),
    }),
  };
}

/** Resolves when `signal` aborts; never without one. */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
