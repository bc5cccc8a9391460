import { ResultAsync, type Result } from 'neverthrow';
import type { WorkerHandle, WorkerStatus } from '../ports/worker-provider.port.js';
import type { WorkerMode } from '../worker/worker-mode.js';
import type { WorkerState } from '../worker/worker-state.js';
import type { Worker } from '../worker/worker.js';
import { DeadlineIndex } from './deadline-index.js';
import { nextDeadline } from './deadlines.js';
import { KeyedMutex } from './keyed-mutex.js';
import type { LifecycleError } from './lifecycle.errors.js';
import { WorkerListingIndex } from './worker-listing-index.js';

export interface WorkerFilter {
  readonly state?: WorkerState;
  readonly mode?: WorkerMode;
}

/** One page of tracked workers in creation order (see `LifecycleManager.listWorkersPage`). */
export interface WorkerPageRequest {
  /** The `[createdAt, id]` of the last worker of the previous page; the page starts after it. */
  readonly after?: readonly [createdAt: number, id: string] | undefined;
  /** At most this many workers (none when not positive). */
  readonly limit: number;
  readonly state?: WorkerState | undefined;
  readonly mode?: WorkerMode | undefined;
}

/** The handle the provider knows a tracked worker's resource by. */
export function handleOf(worker: Worker): WorkerHandle {
  return {
    workerId: worker.id,
    resourceId: worker.resourceId,
    providerId: worker.providerId,
    createdAt: worker.createdAt,
  };
}

/**
 * The tracked workers of one manager, the only place a worker is stored: each store also
 * files the worker's next deadline and its place in the listings, so the indexes never
 * disagree with the worker. Calls on one worker are serialised by its lock.
 */
export class WorkerRegistry {
  /** The provider's status of a worker's resource, asked for after a removal of ours failed. */
  readonly #statusOf: ((worker: Worker) => ResultAsync<WorkerStatus, unknown>) | undefined;
  readonly #workers = new Map<string, Worker>();
  readonly #deadlines = new DeadlineIndex();
  readonly #listing = new WorkerListingIndex();
  readonly #locks = new KeyedMutex();
  /** Told of a deadline filed before `#horizon` (see `onEarlierDeadline`). */
  readonly #earlier = new Set<(at: number) => void>();
  #horizon = Number.POSITIVE_INFINITY;
  /**
   * Tracked workers' resources whose absence is no news, by resource id: `ours` when we
   * removed them (or started to), `lost` once their loss was reported. Dropped with the worker.
   */
  readonly #goneKnown = new Map<string, 'ours' | 'lost'>();
  /** Our removals under way, by resource id: while one is, the resource is ours to lose. */
  readonly #removing = new Map<string, number>();
  /**
   * Resources whose removal by us failed, by resource id, with the listing turn it failed
   * in: the provider may have removed it all the same (its reply lost), so it stays `ours`
   * until a listing asked for after the failure shows it still there.
   */
  readonly #removalFailed = new Map<string, number>();
  #listingTurn = 0;

  constructor(
    options: {
      readonly statusOf?: (worker: Worker) => ResultAsync<WorkerStatus, unknown>;
    } = {},
  ) {
    this.#statusOf = options.statusOf;
  }

  get size(): number {
    return this.#workers.size;
  }

  get(workerId: string): Worker | undefined {
    return this.#workers.get(workerId);
  }

  has(workerId: string): boolean {
    return this.#workers.has(workerId);
  }

  list(filter: WorkerFilter = {}): Worker[] {
    const out: Worker[] = [];
    for (const w of this.#workers.values()) {
      if (filter.state !== undefined && w.state !== filter.state) continue;
      if (filter.mode !== undefined && w.mode !== filter.mode) continue;
      out.push(w);
    }
    return out;
  }

  /** Tracked workers after `request.after` in (createdAt, id) order: O(log N + page). */
  page(request: WorkerPageRequest): Worker[] {
    const after =
      request.after === undefined
        ? undefined
        : { createdAt: request.after[0], id: request.after[1] };
    const out: Worker[] = [];
    const filter = { state: request.state, mode: request.mode };
    for (const key of this.#listing.page(filter, after, request.limit)) {
      const w = this.#workers.get(key.id);
      if (w !== undefined) out.push(w);
    }
    return out;
  }

  /** Tracked workers not in a terminal state. */
  get liveCount(): number {
    return this.#listing.liveCount;
  }

  isTrackedWorkerId(id: string | undefined): boolean {
    return id !== undefined && this.#workers.has(id);
  }

  trackedResources(): Set<string> {
    const ids = new Set<string>();
    for (const w of this.#workers.values()) ids.add(w.resourceId);
    return ids;
  }

  store(worker: Worker): void {
    this.#listing.update(this.#workers.get(worker.id), worker);
    this.#workers.set(worker.id, worker);
    this.#file(worker.id, nextDeadline(worker));
  }

  remove(workerId: string): void {
    const w = this.#workers.get(workerId);
    if (w !== undefined) {
      this.#goneKnown.delete(w.resourceId);
      this.#removalFailed.delete(w.resourceId);
    }
    this.#listing.update(w, undefined);
    this.#workers.delete(workerId);
    this.#deadlines.set(workerId, null);
  }

  /** Runs `work` under the worker's lock: after every call on the worker made before it. */
  locked<T>(
    workerId: string,
    work: () => Promise<Result<T, LifecycleError>>,
  ): ResultAsync<T, LifecycleError> {
    return new ResultAsync(this.#locks.run(workerId, work));
  }

  /**
   * Runs `remove`, a removal of the tracked worker's resource by us: marked before the call,
   * so its absence, pushed or listed meanwhile, is not taken for a loss (WorkerLost). The
   * mark is kept while the worker is tracked, even when the call fails: a failed call may
   * have removed it (the reply lost). It is dropped when the provider's status, asked for at
   * once, or a listing asked for after the failure (see `sawListing`) still shows the resource.
   */
  removeResource<T, E>(worker: Worker, remove: () => ResultAsync<T, E>): ResultAsync<T, E> {
    const resourceId = worker.resourceId;
    this.expectGone(worker);
    this.#removing.set(resourceId, (this.#removing.get(resourceId) ?? 0) + 1);
    return new ResultAsync(
      (async () => {
        let result: Result<T, E> | undefined;
        try {
          result = await remove();
        } finally {
          // Also when `remove` threw: the removal is no longer under way.
          this.#removalEnded(resourceId, result?.isOk() === true);
        }
        if (result.isErr()) await this.#checkStillThere(worker);
        return result;
      })(),
    );
  }

  #removalEnded(resourceId: string, removed: boolean): void {
    const n = (this.#removing.get(resourceId) ?? 1) - 1;
    if (n <= 0) this.#removing.delete(resourceId);
    else this.#removing.set(resourceId, n);
    if (removed) this.#removalFailed.delete(resourceId);
    else if (this.#goneKnown.get(resourceId) === 'ours') {
      this.#removalFailed.set(resourceId, this.#listingTurn);
    }
  }

  /** After a failed removal: a resource the provider still shows was not removed. */
  async #checkStillThere(worker: Worker): Promise<void> {
    if (this.#statusOf === undefined || !this.#removalFailed.has(worker.resourceId)) return;
    try {
      const status = await this.#statusOf(worker);
      if (status.isOk() && status.value.state !== 'missing') this.#stillThere(worker.resourceId);
    } catch {
      // No answer: the mark stays until a listing shows the resource.
    }
  }

  /** A resource whose removal by us failed is still there: its absence is a loss again. */
  #stillThere(resourceId: string): void {
    if (this.#removing.has(resourceId) || !this.#removalFailed.has(resourceId)) return;
    this.#removalFailed.delete(resourceId);
    if (this.#goneKnown.get(resourceId) === 'ours') this.#goneKnown.delete(resourceId);
  }

  /** Call just before asking for a listing; pass what it returns to `sawListing`. */
  listingAsked(): number {
    this.#listingTurn += 1;
    return this.#listingTurn;
  }

  /**
   * A listing asked for at `turn` shows `listed`: a resource whose removal by us failed
   * before then, and that no removal of ours is at, is still there, so its absence from now
   * on is a loss again.
   */
  sawListing(turn: number, listed: ReadonlySet<string>): void {
    for (const [resourceId, failedIn] of this.#removalFailed) {
      if (failedIn < turn && listed.has(resourceId)) this.#stillThere(resourceId);
    }
  }

  /** The tracked worker's resource is gone by our doing (a stop that deleted it): no loss. */
  expectGone(worker: Worker): void {
    if (this.#workers.get(worker.id)?.resourceId !== worker.resourceId) return;
    if (!this.#goneKnown.has(worker.resourceId)) this.#goneKnown.set(worker.resourceId, 'ours');
  }

  /**
   * Records that the tracked worker's resource was found gone by someone else's doing: `true`
   * the first time (report the loss), `false` if it was reported already or is ours.
   */
  markLost(worker: Worker): boolean {
    if (this.#workers.get(worker.id)?.resourceId !== worker.resourceId) return false;
    if (this.#goneKnown.has(worker.resourceId)) return false;
    this.#goneKnown.set(worker.resourceId, 'lost');
    return true;
  }

  // The deadline pass's view of the index: popped workers have no deadline until it files
  // one again.

  /** The ids of the workers due at or before `now`, earliest first, taken off the index. */
  popDue(now: number): string[] {
    return this.#deadlines.popDue(now);
  }

  /** Files the tracked worker's deadline again, from its current state. */
  reschedule(workerId: string): void {
    const w = this.#workers.get(workerId);
    if (w !== undefined) this.#file(workerId, nextDeadline(w));
  }

  /** Files a deadline at `at` for a tracked worker that has none. */
  retryAt(workerId: string, at: number): void {
    if (this.#workers.has(workerId) && this.#deadlines.get(workerId) === undefined)
      this.#file(workerId, at);
  }

  /** The earliest deadline filed, if any; listeners are told of earlier ones from now on. */
  nextDueAt(): number | undefined {
    const at = this.#deadlines.peek();
    this.#horizon = at ?? Number.POSITIVE_INFINITY;
    return at;
  }

  /**
   * Calls `listener` when a deadline is filed earlier than the one `nextDueAt()` last gave
   * (or any, when it gave none), and earlier than any told since: so a scheduler asleep
   * until then can wake sooner. One comparison per store; at most one call per store.
   * Returns the unsubscribe.
   */
  onEarlierDeadline(listener: (at: number) => void): () => void {
    this.#earlier.add(listener);
    return () => this.#earlier.delete(listener);
  }

  #file(workerId: string, at: number | null): void {
    this.#deadlines.set(workerId, at);
    if (at === null || at >= this.#horizon || this.#earlier.size === 0) return;
    this.#horizon = at;
    for (const listener of this.#earlier) {
      try {
        listener(at);
      } catch {
        // A listener's failure is its own; the store has happened.
      }
    }
  }
}
