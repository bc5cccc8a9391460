import { OWNERSHIP_LABELS, type ManagedResource, type WorkerProviderError } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import type { IJob, IPod } from '../cluster/cluster-types.js';
import type { ClusterScope } from './cluster-scope.js';
import { forEachChunk, listAllPages, type Steps } from './list-all-pages.js';
import { jobWorkerStatus, podWorkerStatus } from './map-pod-status.js';
import { mergedLabels, ownerUid, POD_PREFIX, time } from './object-fields.js';

/**
 * Our Jobs whose worker still has a pod (or is still starting), and our bare pods (orphans:
 * a pod with our labels that no Job of ours owns). Pods being deleted are not listed; those
 * Terminating past their grace period plus `forceDeleteMarginMs` are force-deleted here first.
 *
 * Jobs, then pods, are listed `pageSize` at a time, and the listing is built in chunks as
 * large, with a step (a turn of the event loop) between any two: a reconciliation of thousands of
 * workers never blocks the server's loop for long. Listing pods after Jobs means every pod a
 * listed Job counts is in the pods list (unless deleted meanwhile): a Job is not taken for
 * missing its pod. A Job created while the list runs is not listed; its pod may then be,
 * as a bare pod of a Job created after the listing began (the orphan sweep leaves alone
 * what it tracks and what is younger than its pass).
 */
export function* listManagedWorkers(
  scope: ClusterScope,
  forceDeleteMarginMs: number,
  pageSize: number,
): Steps<Result<readonly ManagedResource[], WorkerProviderError>> {
  const { cluster, namespace, selector } = scope;
  const jobs = yield* listAllPages(
    (page) => cluster.listJobPage(namespace, { labelSelector: selector, ...page }),
    pageSize,
  );
  if (jobs.isErr()) return err(scope.error(jobs.error, 'listJobs'));
  const pods = yield* listAllPages(
    (page) => cluster.listPodPage(namespace, { labelSelector: selector, ...page }),
    pageSize,
  );
  if (pods.isErr()) return err(scope.error(pods.error, 'listPods'));
  const live = forceOverdueDeletions(scope, pods.value, forceDeleteMarginMs);
  const resources: ManagedResource[] = [];
  const jobUids = new Set<string>();
  const byOwner = podsByOwner(live);
  yield* forEachChunk(jobs.value, pageSize, (job) => {
    if (!scope.owns(job)) return;
    jobUids.add(job.metadata?.uid ?? '');
    const status = jobWorkerStatus(job, byOwner.get(job.metadata?.uid ?? '') ?? []);
    if (status.state === 'missing') return;
    resources.push({
      resourceId: job.metadata?.name ?? '',
      labels: mergedLabels(job),
      status,
      image: job.spec?.template.spec?.containers[0]?.image ?? '',
      createdAt: createdAtOf(job),
    });
  });
  yield* forEachChunk(live, pageSize, (pod) => {
    const owner = ownerUid(pod);
    if (owner !== undefined && jobUids.has(owner)) return;
    if (!scope.owns(pod) || pod.metadata?.deletionTimestamp !== undefined) return;
    resources.push({
      resourceId: `${POD_PREFIX}${pod.metadata?.name ?? ''}`,
      labels: mergedLabels(pod),
      status: podWorkerStatus(pod),
      image: pod.spec?.containers[0]?.image ?? '',
      createdAt: createdAtOf(pod),
    });
  });
  return ok(resources);
}

/** The pods by the uid of their controller, each list in the pods' order. */
function podsByOwner(pods: readonly IPod[]): Map<string | undefined, IPod[]> {
  const byOwner = new Map<string | undefined, IPod[]>();
  for (const pod of pods) {
    const owner = ownerUid(pod);
    const own = byOwner.get(owner);
    if (own === undefined) byOwner.set(owner, [pod]);
    else own.push(pod);
  }
  return byOwner;
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
