import type Docker from 'dockerode';
import { err, ok, type ResultAsync } from 'neverthrow';
import {
  isOwnedBy,
  OWNERSHIP_LABELS,
  type ProviderId,
  type WorkerHandle,
  type WorkerProviderError,
} from '@hodei/domain';
import { dockerCall, isStatus } from './docker-call.js';
import type { DockerProviderContext } from './provider-context.js';
import { providerError } from './provider-errors.js';

/** Inspects a container; `null` when Docker has none by that id or name. */
export function inspectContainer(
  context: DockerProviderContext,
  resourceId: string,
): ResultAsync<Docker.ContainerInspectInfo | null, WorkerProviderError> {
  return dockerCall('inspectContainer', context.callTimeoutMs, (abortSignal) =>
    context.docker.getContainer(resourceId).inspect({ abortSignal }),
  ).orElse((failure) => (isStatus(failure, 404) ? ok(null) : err(providerError(context, failure))));
}

/** Inspects before acting: `null` when gone, ResourceNotOwned when not ours. */
export function inspectOwnedContainer(
  context: DockerProviderContext,
  handle: WorkerHandle,
): ResultAsync<Docker.ContainerInspectInfo | null, WorkerProviderError> {
  return inspectContainer(context, handle.resourceId).andThen((info) => {
    if (
      info === null ||
      ownsWorkerContainer(info.Config.Labels ?? {}, context.providerId, handle)
    ) {
      return ok(info);
    }
    return err<Docker.ContainerInspectInfo | null, WorkerProviderError>({
      type: 'ResourceNotOwned',
      resourceId: handle.resourceId,
      message: `container ${handle.resourceId} does not carry the labels of provider ${context.providerId} and worker ${handle.workerId}: left alone`,
    });
  });
}

/** Whether a container's labels name this provider and the handle's worker. */
export function ownsWorkerContainer(
  labels: Readonly<Record<string, string>>,
  providerId: ProviderId,
  handle: WorkerHandle,
): boolean {
  return isOwnedBy(labels, providerId) && labels[OWNERSHIP_LABELS.workerId] === handle.workerId;
}
