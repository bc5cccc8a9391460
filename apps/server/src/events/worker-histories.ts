import type { LifecycleEvent } from '@hodei/domain';

export interface WorkerHistoriesOptions {
  /** Events kept per worker, the oldest dropped first. */
  readonly perWorker: number;
  /** Workers whose history is kept, the least recently active dropped first. */
  readonly workers: number;
}

/** Short lists grow one slot at a time: most workers have a handful of events. */
const EXACT_UP_TO = 32;

/** Each worker's recent events, bounded in events per worker and in workers. */
export class WorkerHistories {
  readonly #lists = new Map<string, LifecycleEvent[]>();

  constructor(readonly options: WorkerHistoriesOptions) {}

  get size(): number {
    return this.#lists.size;
  }

  add(workerId: string, event: LifecycleEvent): void {
    const old = this.#lists.get(workerId);
    let list: LifecycleEvent[];
    if (old === undefined) list = [event];
    else {
      this.#lists.delete(workerId);
      // `push` would grow the backing store by 16 slots at once: per worker that adds up.
      list = old.length < EXACT_UP_TO ? old.concat(event) : old;
      if (list === old) list.push(event);
      if (list.length > this.options.perWorker) list.shift();
    }
    this.#lists.set(workerId, list);
    if (this.#lists.size > this.options.workers) {
      const oldest = this.#lists.keys().next().value;
      if (oldest !== undefined) this.#lists.delete(oldest);
    }
  }

  of(workerId: string): readonly LifecycleEvent[] | undefined {
    return this.#lists.get(workerId);
  }

  clear(): void {
    this.#lists.clear();
  }
}
