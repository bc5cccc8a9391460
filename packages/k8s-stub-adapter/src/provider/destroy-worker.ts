import type { DestroyOptions, WorkerHandle, WorkerProviderError } from '@hodei/domain';
import { ok, type Result } from 'neverthrow';
import type { IJob } from '../cluster/cluster-types.js';
import type { ClusterScope } from './cluster-scope.js';

/**
 * Deletes the Job with background propagation, and its pods with the given grace period
 * (0 forces). Idempotent; refuses objects without this provider's labels.
 */
export function destroyWorker(
  scope: ClusterScope,
  handle: WorkerHandle,
  options: DestroyOptions,
): Result<void, WorkerProviderError> {
  const grace = Math.max(0, Math.ceil(options.gracePeriod / 1_000));
  return scope
    .resolveOwned(handle, 'destroyWorker')
    .andThen((resource): Result<void, WorkerProviderError> => {
      switch (resource.kind) {
        case 'gone':
          return ok(undefined);
        case 'pod':
          return scope.ignoreNotFound(
            scope.cluster.deletePod(scope.namespace, resource.pod.metadata?.name ?? '', {
              gracePeriodSeconds: grace,
            }),
            'deletePod',
          );
        case 'job':
          return deleteWorkerJob(scope, resource.job, grace);
      }
    });
}

/** Deletes a worker's Job and its pods, the pods with `graceSeconds` (0 forces). */
export function deleteWorkerJob(
  scope: ClusterScope,
  job: IJob,
  graceSeconds: number,
): Result<void, WorkerProviderError> {
  const name = job.metadata?.name ?? '';
  return scope.podsOfJob(job, 'destroyWorker').andThen((pods) => {
    const deleted = scope.ignoreNotFound(
      scope.cluster.deleteJob(scope.namespace, name, { propagationPolicy: 'Background' }),
      'deleteJob',
    );
    if (deleted.isErr()) return deleted;
    // The garbage collector would delete the pods with their own grace period; the caller's
    // (0 to force) is applied here. A failure is left to the garbage collector.
    for (const pod of pods)
      scope.cluster.deletePod(scope.namespace, pod.metadata?.name ?? '', {
        gracePeriodSeconds: graceSeconds,
      });
    return ok(undefined);
  });
}
