import type { WorkerHandle, WorkerProviderError, WorkerStatus } from '@hodei/domain';
import { ok, type Result } from 'neverthrow';
import type { ClusterScope } from './cluster-scope.js';
import { jobWorkerStatus, podWorkerStatus } from './map-pod-status.js';

/** The worker's status from its Job and pods; `missing` for objects not ours or being deleted. */
export function getWorkerStatus(
  scope: ClusterScope,
  handle: WorkerHandle,
): Result<WorkerStatus, WorkerProviderError> {
  return scope
    .resolve(handle.resourceId, 'getWorkerStatus')
    .andThen((resource): Result<WorkerStatus, WorkerProviderError> => {
      switch (resource.kind) {
        case 'gone':
          return ok({ state: 'missing' });
        case 'pod':
          return ok(
            !scope.owns(resource.pod) || resource.pod.metadata?.deletionTimestamp !== undefined
              ? { state: 'missing' }
              : podWorkerStatus(resource.pod),
          );
        case 'job':
          if (!scope.owns(resource.job)) return ok({ state: 'missing' });
          return scope
            .podsOfJob(resource.job, 'getWorkerStatus')
            .map((pods) => jobWorkerStatus(resource.job, pods));
      }
    });
}
