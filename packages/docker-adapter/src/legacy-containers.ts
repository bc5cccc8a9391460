import { okAsync, type ResultAsync } from 'neverthrow';
import {
  isOwnedBy,
  OWNERSHIP_LABELS,
  type WorkerId,
  type WorkerProviderError,
} from '@hodei/domain';
import { legacyContainerName } from './container-name.js';
import { dockerCall } from './docker-call.js';
import { inspectContainer } from './inspect-container.js';
import { ownedBy } from './list-managed-workers.js';
import type { DockerProviderContext } from './provider-context.js';
import { providerError } from './provider-errors.js';

/**
 * This provider's containers that an earlier version named `hodei-worker-<workerId>`. The
 * labels make them ours like any other (listing, recovery, stop, destroy go by labels and
 * container id); only a create needs them apart: the new name does not collide with the old
 * one, so a worker id still held by an old container is refused here, as before. Found by one
 * listing at the first create; no new ones appear, since only this provider creates with its id.
 */
export class LegacyContainers {
  readonly #context: DockerProviderContext;
  #workers: ResultAsync<Set<string>, WorkerProviderError> | undefined;

  constructor(context: DockerProviderContext) {
    this.#context = context;
  }

  /** Whether an old-named container of this provider still holds `workerId`. */
  holds(workerId: WorkerId): ResultAsync<boolean, WorkerProviderError> {
    return this.#list().andThen((workers) => {
      if (!workers.has(workerId)) return okAsync(false);
      return inspectContainer(this.#context, legacyContainerName(workerId)).map((info) => {
        const labels = info?.Config.Labels ?? {};
        const held =
          isOwnedBy(labels, this.#context.providerId) &&
          labels[OWNERSHIP_LABELS.workerId] === workerId;
        if (!held) workers.delete(workerId);
        return held;
      });
    });
  }

  #list(): ResultAsync<Set<string>, WorkerProviderError> {
    const context = this.#context;
    this.#workers ??= dockerCall('listContainers', context.callTimeoutMs, (abortSignal) =>
      context.docker.listContainers({
        all: true,
        filters: {
          label: ownedBy(context.providerId),
          name: ['hodei-worker-'],
        },
        abortSignal,
      }),
    )
      .mapErr((failure) => {
        this.#workers = undefined; // the next create lists again
        return providerError(context, failure);
      })
      .map((containers) => {
        const workers = new Set<string>();
        for (const c of containers) {
          const workerId = c.Labels?.[OWNERSHIP_LABELS.workerId];
          if (workerId !== undefined && c.Names.includes(`/${legacyContainerName(workerId)}`)) {
            workers.add(workerId);
          }
        }
        return workers;
      });
    return this.#workers;
  }
}
