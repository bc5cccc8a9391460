import type { PresentWorkerStatus, WorkerStatus } from '@hodei/domain';
import type { IJob, IPod } from '../cluster/cluster-types.js';

const time = (value: string | undefined): number | null => {
  if (value === undefined) return null;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
};

/**
 * A pod's phase as a worker status: Pending → creating; Running → running; Unknown (its node
 * stopped reporting) → running but unhealthy; Succeeded/Failed → exited, with the container's
 * exit code when it ran (null when it never did, or its node was lost).
 */
export function podWorkerStatus(pod: IPod): PresentWorkerStatus {
  const status = pod.status ?? {};
  const terminated = status.containerStatuses?.[0]?.state?.terminated;
  switch (status.phase) {
    case 'Running':
      return { state: 'running', health: 'none' };
    case 'Unknown':
      return { state: 'running', health: 'unhealthy' };
    case 'Succeeded':
    case 'Failed': {
      const ran =
        terminated !== undefined &&
        status.reason !== 'NodeLost' &&
        terminated.reason !== 'ContainerCannotRun';
      return {
        state: 'exited',
        exitCode: ran ? terminated.exitCode : null,
        finishedAt: time(terminated?.finishedAt),
        oomKilled: terminated?.reason === 'OOMKilled',
      };
    }
    default:
      return { state: 'creating' };
  }
}

const finished = (job: IJob) =>
  job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );

/**
 * A Job-backed worker's status: that of its newest pod. Without a pod it is `creating` while
 * the Job controller has not made one, `exited` (no exit code) when the Job failed before any
 * pod ran, and `missing` when the pod it had is gone: the worker vanished even though the Job
 * object lingers until its TTL.
 */
export function jobWorkerStatus(job: IJob, pods: readonly IPod[]): WorkerStatus {
  const newest = [...pods].sort(
    (a, b) =>
      (time(b.metadata?.creationTimestamp) ?? 0) - (time(a.metadata?.creationTimestamp) ?? 0),
  )[0];
  if (newest !== undefined) return podWorkerStatus(newest);
  const status = job.status ?? {};
  const hadPods = (status.succeeded ?? 0) + (status.failed ?? 0) + (status.active ?? 0) > 0;
  if (hadPods) return { state: 'missing' };
  const done = finished(job);
  if (done !== undefined)
    return {
      state: 'exited',
      exitCode: null,
      finishedAt: time(done.lastTransitionTime),
      oomKilled: false,
    };
  return { state: 'creating' };
}
