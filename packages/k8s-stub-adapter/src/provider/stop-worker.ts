import type { WorkerHandle, WorkerProviderError } from '@hodei/domain';
import { ok, type Result } from 'neverthrow';
import type { IJob, IPod } from '../cluster/cluster-types.js';
import type { ClusterScope } from './cluster-scope.js';
import { newest, TERMINAL, time } from './object-fields.js';

/**
 * Stops the worker and keeps its Job and pod, for logs: lowers the pod's
 * `activeDeadlineSeconds` to its age, so the kubelet stops it (SIGTERM, then SIGKILL after the
 * pod's own grace period) and marks it Failed with reason DeadlineExceeded. The Job then
 * fails (backoffLimit 0) and the TTL controller removes it later.
 */
export function stopWorker(
  scope: ClusterScope,
  handle: WorkerHandle,
): Result<void, WorkerProviderError> {
  return scope.resolveOwned(handle, 'stopWorker').andThen((resource) => {
    switch (resource.kind) {
      case 'gone':
        return ok(undefined);
      case 'pod':
        return stopPod(scope, resource.pod);
      case 'job':
        return stopJob(scope, resource.job);
    }
  });
}

function stopPod(scope: ClusterScope, pod: IPod): Result<void, WorkerProviderError> {
  const name = pod.metadata?.name ?? '';
  const phase = pod.status?.phase ?? 'Pending';
  if (TERMINAL.includes(phase) || pod.metadata?.deletionTimestamp !== undefined)
    return ok(undefined);
  const started = time(pod.status?.startTime);
  if (started === null)
    // Not yet on a node: there is nothing to keep, the pod is deleted.
    return scope.ignoreNotFound(scope.cluster.deletePod(scope.namespace, name), 'deletePod');
  const age = Math.max(1, Math.ceil((scope.cluster.now() - started) / 1_000));
  const current = pod.spec?.activeDeadlineSeconds;
  if (current !== undefined && current <= age) return ok(undefined);
  return scope.ignoreNotFound(
    scope.cluster.patchPod(scope.namespace, name, { activeDeadlineSeconds: age }),
    'patchPod',
  );
}

function stopJob(scope: ClusterScope, job: IJob): Result<void, WorkerProviderError> {
  return scope.podsOfJob(job, 'stopWorker').andThen((pods) => {
    const pod = newest(pods);
    if (pod !== undefined) return stopPod(scope, pod);
    // No pod yet: a Job deadline makes the Job controller fail it without starting one.
    const started = time(job.status?.startTime) ?? scope.cluster.now();
    const age = Math.max(1, Math.ceil((scope.cluster.now() - started) / 1_000));
    return scope.ignoreNotFound(
      scope.cluster.patchJob(scope.namespace, job.metadata?.name ?? '', {
        activeDeadlineSeconds: age,
      }),
      'patchJob',
    );
  });
}
