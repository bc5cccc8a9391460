import {
  OWNERSHIP_LABELS,
  type WorkerHandle,
  type WorkerProviderError,
  type WorkerSpec,
} from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import type { ClusterScope } from './cluster-scope.js';
import { deleteWorkerJob } from './destroy-worker.js';
import { buildWorkerJob, jobNameOf, type JobManifestOptions } from './job-manifest.js';

/** How the provider fills in a worker's Job; the rest of `JobManifestOptions` is per call. */
export type WorkerJobDefaults = Pick<
  JobManifestOptions,
  'imagePullPolicy' | 'runAsUser' | 'defaultResources'
>;

/** Creates the worker's Job `hodei-worker-<id>`; a failed create leaves nothing behind. */
export function createWorker(
  scope: ClusterScope,
  defaults: WorkerJobDefaults,
  spec: WorkerSpec,
): Result<WorkerHandle, WorkerProviderError> {
  const createdAt = scope.cluster.now();
  const manifest = buildWorkerJob(spec, {
    providerId: scope.providerId,
    namespace: scope.namespace,
    createdAt,
    imagePullPolicy: defaults.imagePullPolicy,
    runAsUser: defaults.runAsUser,
    defaultResources: defaults.defaultResources,
  });
  if (manifest.isErr())
    return err({
      type: 'InvalidWorkerSpec',
      message: `invalid worker spec for ${spec.workerId}`,
      problems: manifest.error,
    });
  const name = jobNameOf(spec.workerId);
  const created = scope.cluster.createJob(scope.namespace, manifest.value);
  if (created.isOk())
    return ok({
      workerId: spec.workerId,
      resourceId: name,
      providerId: scope.providerId,
      createdAt,
    });
  const error = created.error;
  if (error.reason === 'AlreadyExists')
    return err({
      type: 'WorkerAlreadyExists',
      workerId: spec.workerId,
      message: `worker ${spec.workerId} already has a Job ${name}`,
    });
  if (error.reason === 'Invalid')
    return err({
      type: 'InvalidWorkerSpec',
      message: error.message,
      problems: error.causes.map((c) => ({ path: c.field, message: c.message })),
    });
  // A failed or timed-out create may still have made the Job: remove it, so that a
  // creation that failed half-way leaves nothing (orphan detection covers a failed cleanup).
  undoCreate(scope, name, createdAt);
  return err(scope.error(error, 'createJob'));
}

/** Removes the Job a failed create may have left, only if it is the one we just tried. */
function undoCreate(scope: ClusterScope, name: string, createdAt: number): void {
  const job = scope.cluster.getJob(scope.namespace, name);
  if (job.isErr()) return;
  const mine =
    scope.owns(job.value) &&
    job.value.metadata?.annotations?.[OWNERSHIP_LABELS.createdAt] ===
      new Date(createdAt).toISOString();
  if (mine) deleteWorkerJob(scope, job.value, 0);
}
