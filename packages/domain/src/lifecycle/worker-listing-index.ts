import { WORKER_MODES, type WorkerMode } from '../worker/worker-mode.js';
import { isTerminal, WORKER_STATES, type WorkerState } from '../worker/worker-state.js';
import type { Worker } from '../worker/worker.js';
import { CreationOrderIndex, type CreationKey } from './creation-order-index.js';

/** The filters a listing can ask for; both optional. */
export interface ListingFilter {
  readonly state?: WorkerState | undefined;
  readonly mode?: WorkerMode | undefined;
}

const ALL = '*';
const filterKey = (state: WorkerState | undefined, mode: WorkerMode | undefined): string =>
  `${state ?? ALL}/${mode ?? ALL}`;

/** The four listings a worker belongs to: all, its state, its mode, its state and mode. */
const FILTERS_OF = {} as Record<WorkerState, Record<WorkerMode, readonly string[]>>;
for (const state of WORKER_STATES) {
  const byMode = {} as Record<WorkerMode, readonly string[]>;
  for (const mode of WORKER_MODES) {
    byMode[mode] = [
      filterKey(undefined, undefined),
      filterKey(state, undefined),
      filterKey(undefined, mode),
      filterKey(state, mode),
    ];
  }
  FILTERS_OF[state] = byMode;
}

// Precomputed: a store runs on every transition, and makes no garbage here.
const filtersOf = (w: Worker): readonly string[] => FILTERS_OF[w.state][w.mode];
const NONE: readonly string[] = [];

/**
 * The workers in creation order, once per filter combination the listing offers, and the
 * count of live ones. Fed by the registry on every store and remove with the worker as it
 * was and as it is, so a state change moves the worker between the per-state listings.
 */
export class WorkerListingIndex {
  readonly #byFilter = new Map<string, CreationOrderIndex>();
  #live = 0;

  get liveCount(): number {
    return this.#live;
  }

  /** Moves the worker from where `before` filed it (if anywhere) to where `after` files it. */
  update(before: Worker | undefined, after: Worker | undefined): void {
    if (before !== undefined && !isTerminal(before.state)) this.#live -= 1;
    if (after !== undefined && !isTerminal(after.state)) this.#live += 1;
    const sameKey =
      before !== undefined &&
      after !== undefined &&
      before.id === after.id &&
      before.createdAt === after.createdAt;
    const from = before === undefined ? NONE : filtersOf(before);
    const to = after === undefined ? NONE : filtersOf(after);
    // A state change leaves the worker where its key and filters stay (all, its mode).
    if (before !== undefined) {
      for (const f of from) if (!sameKey || !to.includes(f)) this.#byFilter.get(f)?.delete(before);
    }
    if (after !== undefined) {
      let key: CreationKey | undefined;
      for (const f of to) {
        if (sameKey && from.includes(f)) continue;
        key ??= { createdAt: after.createdAt, id: after.id };
        this.#index(f).add(key);
      }
    }
  }

  /** At most `limit` creation keys strictly after `after` among the workers `filter` keeps. */
  page(
    filter: ListingFilter,
    after: CreationKey | undefined,
    limit: number,
  ): readonly CreationKey[] {
    const index = this.#byFilter.get(filterKey(filter.state, filter.mode));
    return index === undefined ? [] : index.page(after, limit);
  }

  #index(key: string): CreationOrderIndex {
    let index = this.#byFilter.get(key);
    if (index === undefined) {
      index = new CreationOrderIndex();
      this.#byFilter.set(key, index);
    }
    return index;
  }
}
