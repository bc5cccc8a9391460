import { err, ok, type Result } from 'neverthrow';
import { apiError, type ApiError } from './cluster-api.errors.js';
import type { IJob, IPod, JobSpecPatch, PodSpecPatch } from './cluster-types.js';

/** Merges a patch into a stored Job's spec, or refuses it whole as the API server would. */
export function applyJobPatch(
  job: IJob,
  name: string,
  patch: JobSpecPatch,
): Result<void, ApiError> {
  const spec = (job.spec ??= { template: {} });
  if (patch.activeDeadlineSeconds !== undefined) {
    if (!Number.isInteger(patch.activeDeadlineSeconds) || patch.activeDeadlineSeconds < 1)
      return err(
        apiError('Invalid', `Job "${name}" is invalid`, [
          { field: 'spec.activeDeadlineSeconds', message: 'must be greater than 0' },
        ]),
      );
    spec.activeDeadlineSeconds = patch.activeDeadlineSeconds;
  }
  if (patch.suspend !== undefined) spec.suspend = patch.suspend;
  return ok(undefined);
}

/** A pod's spec is immutable but for `activeDeadlineSeconds`, which may only be lowered. */
export function applyPodPatch(
  pod: IPod,
  name: string,
  patch: PodSpecPatch,
): Result<void, ApiError> {
  const spec = (pod.spec ??= { containers: [] });
  const current = spec.activeDeadlineSeconds;
  const next = patch.activeDeadlineSeconds;
  if (!Number.isInteger(next) || next < 1 || (current !== undefined && next > current))
    return err(
      apiError('Invalid', `Pod "${name}" is invalid`, [
        {
          field: 'spec.activeDeadlineSeconds',
          message: 'must be a positive integer no greater than the current value',
        },
      ]),
    );
  spec.activeDeadlineSeconds = next;
  return ok(undefined);
}
