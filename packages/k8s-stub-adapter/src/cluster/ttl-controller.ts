import { finishedCondition, ms } from './api-object.js';
import type { ObjectStore } from './object-store.js';

/** Deletes finished Jobs `ttlSecondsAfterFinished` after they finished. */
export class TtlController {
  readonly #store: ObjectStore;

  constructor(store: ObjectStore) {
    this.#store = store;
  }

  run(now: number): void {
    for (const { namespace, job } of this.#store.allJobsLive()) {
      const ttl = job.spec?.ttlSecondsAfterFinished;
      const finished = finishedCondition(job);
      if (
        ttl === undefined ||
        finished === undefined ||
        job.metadata?.deletionTimestamp !== undefined
      )
        continue;
      const at = ms(finished.lastTransitionTime);
      if (at !== null && now >= at + ttl * 1_000) this.#store.remove('Job', namespace, job);
    }
  }
}
