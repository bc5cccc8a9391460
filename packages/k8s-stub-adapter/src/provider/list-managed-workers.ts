import { OWNERSHIP_LABELS, type ManagedResource, type WorkerProviderError } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import type { IJob, IPod } from '../cluster/cluster-types.js';
import type { ClusterScope } from './cluster-scope.js';
import { jobWorkerStatus, podWorkerStatus } from './map-pod-status.js';
import { mergedLabels, ownerUid, POD_PREFIX, time } from './object-fields.js';

/**
 * Our Jobs whose worker still has a pod (or is still starting), and our bare pods (orphans:
 * a pod with our labels that no Job of ours owns). Pods being deleted are not listed; those
 * Terminating past their grace period plus `forceDeleteMarginMs` are force-deleted here first.
 */
export function listManagedWorkers(
  scope: ClusterScope,
  forceDeleteMarginMs: number,
): Result<readonly ManagedResource[], WorkerProviderError> {
  const jobs = scope.cluster.listJobs(scope.namespace, { labelSelector: scope.selector });
  if (jobs.isErr()) return err(scope.error(jobs.error, 'listJobs'));
  const pods = scope.cluster.listPods(scope.namespace, { labelSelector: scope.selector });
  if (pods.isErr()) return err(scope.error(pods.error, 'listPods'));
  const live = forceOverdueDeletions(scope, pods.value, forceDeleteMarginMs);
  const resources: ManagedResource[] = [];
  const jobUids = new Set<string>();
  for (const job of jobs.value) {
    if (!scope.owns(job)) continue;
    jobUids.add(job.metadata?.uid ?? '');
    const own = live.filter((p) => ownerUid(p) === job.metadata?.uid);
    const status = jobWorkerStatus(job, own);
    if (status.state === 'missing') continue;
    resources.push({
      resourceId: job.metadata?.name ?? '',
      labels: mergedLabels(job),
      status,
      image: job.spec?.template.spec?.containers[0]?.image ?? '',
      createdAt: createdAtOf(job),
    });
  }
  for (const pod of live) {
    const owner = ownerUid(pod);
    if (owner !== undefined && jobUids.has(owner)) continue;
    if (!scope.owns(pod) || pod.metadata?.deletionTimestamp !== undefined) continue;
    resources.push({
      resourceId: `${POD_PREFIX}${pod.metadata?.name ?? ''}`,
      labels: mergedLabels(pod),
      status: podWorkerStatus(pod),
      image: pod.spec?.containers[0]?.image ?? '',
      createdAt: createdAtOf(pod),
    });
  }
  return ok(resources);
}

/** Force-deletes our pods stuck Terminating past their grace period plus the margin. */
function forceOverdueDeletions(
  scope: ClusterScope,
  pods: readonly IPod[],
  marginMs: number,
): IPod[] {
  const now = scope.cluster.now();
  return pods.filter((pod) => {
    const since = time(pod.metadata?.deletionTimestamp);
    if (since === null || !scope.owns(pod)) return true;
    const grace = (pod.metadata?.deletionGracePeriodSeconds ?? 30) * 1_000;
    if (now < since + grace + marginMs) return true;
    const forced = scope.cluster.deletePod(scope.namespace, pod.metadata?.name ?? '', {
      gracePeriodSeconds: 0,
    });
    return forced.isErr() && forced.error.reason !== 'NotFound';
  });
}

/** When we created it (our annotation), else when the API server did. */
function createdAtOf(o: IJob | IPod): number {
  const recorded = time(o.metadata?.annotations?.[OWNERSHIP_LABELS.createdAt]);
  return recorded ?? time(o.metadata?.creationTimestamp) ?? 0;
}
