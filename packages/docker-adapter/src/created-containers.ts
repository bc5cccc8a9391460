import type { WorkerHandle, WorkerId } from '@hodei/domain';

/** Containers remembered as created here; older ones are inspected like any other. */
const CREATED_MEMORY = 10_000;

/**
 * Containers this instance created, by id, with their worker. Docker never changes a
 * container's labels nor reuses an id, so these are ours without inspecting them again;
 * any other container is inspected before we act on it.
 */
export class CreatedContainers {
  readonly #workers = new Map<string, WorkerId>();

  remember(resourceId: string, workerId: WorkerId): void {
    this.#workers.set(resourceId, workerId);
    if (this.#workers.size > CREATED_MEMORY) {
      const oldest = this.#workers.keys().next();
      if (oldest.done !== true) this.#workers.delete(oldest.value);
    }
  }

  includes(handle: WorkerHandle): boolean {
    return this.#workers.get(handle.resourceId) === handle.workerId;
  }

  forget(resourceId: string): void {
    this.#workers.delete(resourceId);
  }
}
