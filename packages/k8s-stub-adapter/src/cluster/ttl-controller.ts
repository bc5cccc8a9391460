import { finishedCondition, ms } from './api-object.js';
import type { IJob } from './cluster-types.js';
import type { ObjectStore } from './object-store.js';
import { TimerQueue } from './timer-queue.js';

/**
 * Deletes finished Jobs `ttlSecondsAfterFinished` after they finished. It hears of each
 * finished Job when it changes and wakes when its time comes, instead of scanning the Jobs.
 */
export class TtlController {
  readonly #store: ObjectStore;
  /** Uids of finished Jobs by the time they expire. */
  readonly #expiries = new TimerQueue<string>();

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  jobChanged(job: IJob): void {
    const at = expiryOf(job);
    if (at !== null) this.#expiries.push(at, job.metadata?.uid ?? '');
  }

  run(now: number): void {
    const due = new Set(this.#expiries.popDue(now));
    const jobs: IJob[] = [];
    for (const uid of due) {
      const job = this.#store.jobByUid(uid);
      if (job !== undefined) jobs.push(job);
    }
    for (const job of jobs.sort(this.#store.order)) {
      const at = expiryOf(job);
      if (at !== null && now >= at) this.#store.remove('Job', job.metadata?.namespace ?? '', job);
    }
  }
}

/** When a finished Job with a TTL expires; null for the others and those being deleted. */
function expiryOf(job: IJob): number | null {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  const finished = finishedCondition(job);
  if (ttl === undefined || finished === undefined || job.metadata?.deletionTimestamp !== undefined)
    return null;
  const at = ms(finished.lastTransitionTime);
  return at === null ? null : at + ttl * 1_000;
}
