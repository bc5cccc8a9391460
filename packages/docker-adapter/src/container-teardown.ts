import { err, errAsync, ok, okAsync, ResultAsync } from 'neverthrow';
import type { WorkerHandle, WorkerProviderError } from '@hodei/domain';
import { dockerCall, isStatus } from './docker-call.js';
import { inspectContainer, inspectOwnedContainer } from './inspect-container.js';
import type { DockerProviderContext } from './provider-context.js';
import { providerError } from './provider-errors.js';

/** How often a destroy that found a removal in progress looks whether it is done. */
const REMOVAL_POLL_MS = 100;

/**
 * Stops a worker's container. One this instance created is known to be ours; any other is
 * inspected first, and left alone when it is not.
 */
export function stopWorkerContainer(
  context: DockerProviderContext,
  handle: WorkerHandle,
  gracePeriodMs: number,
  createdHere: boolean,
): ResultAsync<void, WorkerProviderError> {
  if (createdHere) return stopContainer(context, handle.resourceId, gracePeriodMs);
  return inspectOwnedContainer(context, handle).andThen((info) =>
    info === null || !isAlive(info.State.Status)
      ? okAsync(undefined)
      : stopContainer(context, info.Id, gracePeriodMs),
  );
}

/** Stops and removes a worker's container, with the same ownership check as a stop. */
export function destroyWorkerContainer(
  context: DockerProviderContext,
  handle: WorkerHandle,
  gracePeriodMs: number,
  createdHere: boolean,
): ResultAsync<void, WorkerProviderError> {
  if (createdHere) {
    return stopContainer(context, handle.resourceId, gracePeriodMs).andThen(() =>
      forceRemoveContainer(context, handle.resourceId),
    );
  }
  return inspectOwnedContainer(context, handle).andThen((info) => {
    if (info === null) return okAsync(undefined);
    const stopped = isAlive(info.State.Status)
      ? stopContainer(context, info.Id, gracePeriodMs)
      : okAsync(undefined);
    return stopped.andThen(() => forceRemoveContainer(context, info.Id));
  });
}

/** SIGTERM, then SIGKILL after the grace period (Docker's `stop -t`, whole seconds). */
function stopContainer(
  context: DockerProviderContext,
  resourceId: string,
  gracePeriodMs: number,
): ResultAsync<void, WorkerProviderError> {
  const seconds = Math.max(0, Math.ceil(gracePeriodMs / 1_000));
  return dockerCall('stopContainer', seconds * 1_000 + context.callTimeoutMs, (abortSignal) =>
    context.docker.getContainer(resourceId).stop({ t: seconds, abortSignal }),
  )
    .map(() => undefined)
    .orElse((failure) =>
      isStatus(failure, 304, 404) ? ok(undefined) : err(providerError(context, failure)),
    );
}

/** Removes with volumes; gone already is success, a removal in progress is waited for. */
export function forceRemoveContainer(
  context: DockerProviderContext,
  resourceId: string,
): ResultAsync<void, WorkerProviderError> {
  return dockerCall('removeContainer', context.callTimeoutMs, (abortSignal) =>
    context.docker.getContainer(resourceId).remove({ force: true, v: true, abortSignal }),
  )
    .map(() => undefined)
    .orElse((failure) => {
      if (isStatus(failure, 404)) return okAsync(undefined);
      if (isStatus(failure, 409)) return waitGone(context, resourceId, context.callTimeoutMs);
      return errAsync(providerError(context, failure));
    });
}

function waitGone(
  context: DockerProviderContext,
  resourceId: string,
  budgetMs: number,
): ResultAsync<void, WorkerProviderError> {
  return inspectContainer(context, resourceId).andThen((info) => {
    if (info === null) return okAsync(undefined);
    if (budgetMs <= 0) {
      return errAsync<void, WorkerProviderError>({
        type: 'ProviderTimeout',
        operation: 'removeContainer',
        timeoutMs: context.callTimeoutMs,
        message: `container ${resourceId} was still being removed after ${context.callTimeoutMs} ms`,
        retryable: true,
      });
    }
    return ResultAsync.fromSafePromise(delay(REMOVAL_POLL_MS)).andThen(() =>
      waitGone(context, resourceId, budgetMs - REMOVAL_POLL_MS),
    );
  });
}

const isAlive = (status: string): boolean =>
  status === 'running' || status === 'paused' || status === 'restarting';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
