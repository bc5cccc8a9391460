import {
  isOwnedBy,
  OWNERSHIP_LABELS,
  type ProviderId,
  type WorkerHandle,
  type WorkerProviderError,
} from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import type { ApiError } from '../cluster/cluster-api.errors.js';
import type { IJob, IPod } from '../cluster/cluster-types.js';
import type { SimulatedCluster } from '../cluster/simulated-cluster.js';
import { mapApiError } from './map-api-error.js';
import { CONTROLLER_UID_LABEL, mergedLabels, ownerUid, POD_PREFIX } from './object-fields.js';

/** The object a handle names, as found in the cluster. */
export type Resource =
  | { readonly kind: 'job'; readonly job: IJob }
  | { readonly kind: 'pod'; readonly pod: IPod }
  | { readonly kind: 'gone' };

export interface ClusterScopeOptions {
  readonly cluster: SimulatedCluster;
  readonly namespace: string;
  readonly providerId: ProviderId;
  /** Named in `ProviderUnavailable` errors. */
  readonly endpoint: string;
  /** What a 504 from the API stands for, reported in `ProviderTimeout`. */
  readonly requestTimeoutMs: number;
}

/**
 * What one provider may see of the cluster: its namespace and the objects carrying its
 * ownership labels, with API failures turned into the port's errors.
 */
export class ClusterScope {
  readonly cluster: SimulatedCluster;
  readonly namespace: string;
  readonly providerId: ProviderId;
  /** The label selector of this provider's objects. */
  readonly selector: string;
  readonly #endpoint: string;
  readonly #requestTimeoutMs: number;

  constructor(options: ClusterScopeOptions) {
    this.cluster = options.cluster;
    this.namespace = options.namespace;
    this.providerId = options.providerId;
    this.#endpoint = options.endpoint;
    this.#requestTimeoutMs = options.requestTimeoutMs;
    this.selector = `${OWNERSHIP_LABELS.managed}=true,${OWNERSHIP_LABELS.providerId}=${options.providerId}`;
  }

  get endpoint(): string {
    return this.#endpoint;
  }

  owns(o: IJob | IPod): boolean {
    return isOwnedBy(mergedLabels(o), this.providerId);
  }

  error(error: ApiError, operation: string): WorkerProviderError {
    return mapApiError(error, {
      providerId: this.providerId,
      endpoint: this.#endpoint,
      operation,
      requestTimeoutMs: this.#requestTimeoutMs,
    });
  }

  ignoreNotFound(
    result: Result<unknown, ApiError>,
    operation: string,
  ): Result<void, WorkerProviderError> {
    if (result.isOk() || result.error.reason === 'NotFound') return ok(undefined);
    return err(this.error(result.error, operation));
  }

  /** Reads the object a handle names; `gone` when it does not exist. */
  resolve(resourceId: string, operation: string): Result<Resource, WorkerProviderError> {
    const isPod = resourceId.startsWith(POD_PREFIX);
    const found = isPod
      ? this.cluster
          .getPod(this.namespace, resourceId.slice(POD_PREFIX.length))
          .map((pod): Resource => ({ kind: 'pod', pod }))
      : this.cluster
          .getJob(this.namespace, resourceId)
          .map((job): Resource => ({ kind: 'job', job }));
    if (found.isOk()) return ok(found.value);
    if (found.error.reason === 'NotFound') return ok({ kind: 'gone' });
    return err(this.error(found.error, `${operation}: get ${resourceId}`));
  }

  /** As `resolve`, refusing objects that do not carry our ownership labels. */
  resolveOwned(handle: WorkerHandle, operation: string): Result<Resource, WorkerProviderError> {
    return this.resolve(handle.resourceId, operation).andThen(
      (resource): Result<Resource, WorkerProviderError> => {
        if (resource.kind === 'gone') return ok(resource);
        const object = resource.kind === 'job' ? resource.job : resource.pod;
        if (this.owns(object)) return ok(resource);
        return err({
          type: 'ResourceNotOwned',
          resourceId: handle.resourceId,
          message: `${handle.resourceId} is not managed by provider ${this.providerId}: left alone`,
        });
      },
    );
  }

  podsOfJob(job: IJob, operation: string): Result<IPod[], WorkerProviderError> {
    const uid = job.metadata?.uid ?? '';
    return this.cluster
      .listPods(this.namespace, { labelSelector: `${CONTROLLER_UID_LABEL}=${uid}` })
      .map((pods) => pods.filter((p) => ownerUid(p) === uid))
      .mapErr((e) => this.error(e, `${operation}: list pods`));
  }
}
