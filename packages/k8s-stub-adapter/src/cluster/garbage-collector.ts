import type { Clock } from '@hodei/domain';
import { iso, meta } from './api-object.js';
import type { IJob, PropagationPolicy } from './cluster-types.js';
import type { ObjectStore } from './object-store.js';
import type { PodDeletion } from './pod-deletion.js';

const FOREGROUND = 'foregroundDeletion';

/**
 * Owners and their dependents: how a Job's deletion reaches its pods (propagation policy),
 * and the collection of pods whose owner is gone.
 */
export class GarbageCollector {
  readonly #store: ObjectStore;
  readonly #deletion: PodDeletion;
  readonly #clock: Clock;

  constructor(store: ObjectStore, deletion: PodDeletion, clock: Clock) {
    this.#store = store;
    this.#deletion = deletion;
    this.#clock = clock;
  }

  /**
   * Foreground keeps the Job (with a finalizer) until its pods are gone; Orphan leaves the pods
   * without an owner; Background removes the Job now and its pods on the next pass.
   */
  deleteJob(namespace: string, job: IJob, policy: PropagationPolicy): void {
    if (policy === 'Foreground') {
      const m = meta(job);
      if (m.deletionTimestamp === undefined) {
        m.deletionTimestamp = iso(this.#clock.now());
        m.finalizers = [...(m.finalizers ?? []), FOREGROUND];
        this.#store.touch('Job', job, 'MODIFIED');
      }
      return;
    }
    if (policy === 'Orphan') {
      for (const pod of this.#store.podsOf(namespace, job)) {
        const m = meta(pod);
        m.ownerReferences = (m.ownerReferences ?? []).filter((r) => r.uid !== meta(job).uid);
        this.#store.touch('Pod', pod, 'MODIFIED');
      }
    }
    this.#store.remove('Job', namespace, job);
  }

  /** Dependents of deleted owners go (background); foreground owners go once they have none. */
  run(): boolean {
    let changed = false;
    const liveUids = new Set(this.#store.allJobsLive().map(({ job }) => job.metadata?.uid));
    for (const { namespace, pod } of this.#store.allPodsLive()) {
      const owner = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
      if (
        owner === undefined ||
        liveUids.has(owner.uid) ||
        pod.metadata?.deletionTimestamp !== undefined
      )
        continue;
      this.#deletion.request(namespace, pod, undefined);
      changed = true;
    }
    for (const { namespace, job } of this.#store.allJobsLive()) {
      if (!(job.metadata?.finalizers ?? []).includes(FOREGROUND)) continue;
      const pods = this.#store.podsOf(namespace, job);
      for (const pod of pods) {
        if (pod.metadata?.deletionTimestamp === undefined) {
          this.#deletion.request(namespace, pod, undefined);
          changed = true;
        }
      }
      if (this.#store.podsOf(namespace, job).length === 0) {
        this.#store.remove('Job', namespace, job);
        changed = true;
      }
    }
    return changed;
  }
}
