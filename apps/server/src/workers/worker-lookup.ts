import {
  OWNERSHIP_LABELS,
  type Worker,
  type WorkerHandle,
  type WorkerProvider,
} from '@hodei/domain';
import type { ProviderEntry } from './provider-entry.js';
import { resourceView, type WorkerView } from './worker-view.js';

/** A worker tracked by a lifecycle manager, with the provider that runs it. */
export interface TrackedWorker {
  readonly entry: ProviderEntry;
  readonly worker: Worker;
}

/**
 * Finds providers by id and workers across every provider: in a lifecycle manager's tracking,
 * or, with lifecycle management off, among the provider's labelled resources.
 */
export class WorkerLookup {
  readonly #byId: ReadonlyMap<string, ProviderEntry>;

  constructor(
    readonly providers: readonly ProviderEntry[],
    /** The provider a request names none of: the first configured. */
    readonly defaultEntry: ProviderEntry,
  ) {
    this.#byId = new Map(providers.map((p) => [p.id, p]));
  }

  /** The named provider, the default one when no name is given, `undefined` if unknown. */
  provider(providerId: string | undefined): ProviderEntry | undefined {
    return providerId === undefined ? this.defaultEntry : this.#byId.get(providerId);
  }

  get providerIds(): readonly string[] {
    return [...this.#byId.keys()];
  }

  find(workerId: string): TrackedWorker | undefined {
    for (const entry of this.providers) {
      const worker = entry.lifecycle?.manager.getWorker(workerId);
      if (worker !== undefined) return { entry, worker };
    }
    return undefined;
  }

  async bareView(entry: ProviderEntry, workerId: string): Promise<WorkerView | undefined> {
    const listed = await entry.provider.listManagedWorkers();
    if (listed.isErr()) return undefined;
    const r = listed.value.find((x) => x.labels[OWNERSHIP_LABELS.workerId] === workerId);
    return r === undefined ? undefined : resourceView(r, entry.id, entry.policy);
  }

  async handle(
    workerId: string,
  ): Promise<{ provider: WorkerProvider; handle: WorkerHandle } | undefined> {
    const found = this.find(workerId);
    if (found !== undefined) {
      return {
        provider: found.entry.provider,
        handle: found.entry.lifecycle!.manager.handleOf(found.worker),
      };
    }
    for (const entry of this.providers) {
      if (entry.lifecycle !== undefined) continue;
      const listed = await entry.provider.listManagedWorkers();
      if (listed.isErr()) continue;
      const r = listed.value.find((x) => x.labels[OWNERSHIP_LABELS.workerId] === workerId);
      if (r !== undefined) {
        return {
          provider: entry.provider,
          handle: {
            workerId: workerId as WorkerHandle['workerId'],
            resourceId: r.resourceId,
            providerId: entry.id,
            createdAt: r.createdAt,
          },
        };
      }
    }
    return undefined;
  }
}
