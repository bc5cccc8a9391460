import type Docker from 'dockerode';
import { okAsync, ResultAsync } from 'neverthrow';
import {
  isOwnedBy,
  OWNERSHIP_LABELS,
  type ManagedResource,
  type PresentWorkerStatus,
  type WorkerProviderError,
} from '@hodei/domain';
import { dockerCall } from './docker-call.js';
import { inspectContainer } from './inspect-container.js';
import { healthFromSummary, mapContainerState } from './map-container-state.js';
import type { DockerProviderContext } from './provider-context.js';
import { providerError } from './provider-errors.js';

/** Inspections in flight at once while listing exited containers. */
const LIST_INSPECT_CONCURRENCY = 8;

/** The Docker label filter of this provider's containers (listings and the events stream). */
export const ownedBy = (providerId: string): string[] => [
  `${OWNERSHIP_LABELS.managed}=true`,
  `${OWNERSHIP_LABELS.providerId}=${providerId}`,
];

/** Every container carrying this provider's ownership labels, with its status. */
export function listManagedWorkers(
  context: DockerProviderContext,
): ResultAsync<readonly ManagedResource[], WorkerProviderError> {
  return dockerCall('listContainers', context.callTimeoutMs, (abortSignal) =>
    context.docker.listContainers({
      all: true,
      filters: {
        label: ownedBy(context.providerId),
      },
      abortSignal,
    }),
  )
    .mapErr((failure) => providerError(context, failure))
    .andThen((containers) => {
      const ours = containers.filter((c) => isOwnedBy(c.Labels ?? {}, context.providerId));
      return ResultAsync.combine(
        inBatches(ours, LIST_INSPECT_CONCURRENCY, (c) => managedResource(context, c)),
      ).map((all) => all.filter((r): r is ManagedResource => r !== null));
    });
}

/** Running containers are read from the list; the others are inspected for exit details. */
function managedResource(
  context: DockerProviderContext,
  c: Docker.ContainerInfo,
): ResultAsync<ManagedResource | null, WorkerProviderError> {
  const labels = { ...(c.Labels ?? {}) };
  const createdAt = Date.parse(labels[OWNERSHIP_LABELS.createdAt] ?? '');
  const resource = (status: PresentWorkerStatus): ManagedResource => ({
    resourceId: c.Id,
    labels,
    status,
    image: c.Image,
    createdAt: Number.isNaN(createdAt) ? c.Created * 1_000 : createdAt,
  });
  if (c.State === 'running' || c.State === 'paused') {
    return okAsync(resource({ state: 'running', health: healthFromSummary(c.Status) }));
  }
  return inspectContainer(context, c.Id).map((info) =>
    info === null ? null : resource(mapContainerState(info.State)),
  );
}

/** Runs `work` over `items` with at most `size` in flight; results in the items' order. */
function inBatches<T, R, E>(
  items: readonly T[],
  size: number,
  work: (item: T) => ResultAsync<R, E>,
): ResultAsync<R, E>[] {
  const results: ResultAsync<R, E>[] = [];
  for (const [i, item] of items.entries()) {
    const previous = results[i - size];
    results.push(
      previous === undefined
        ? work(item)
        : new ResultAsync(
            (async () => {
              await previous;
              return await work(item);
            })(),
          ),
    );
  }
  return results;
}
