import type { Clock } from '@hodei/domain';
import { iso, meta } from './api-object.js';
import type { IJob, IPod, PropagationPolicy, WatchEventType } from './cluster-types.js';
import type { ObjectStore } from './object-store.js';
import type { PodDeletion } from './pod-deletion.js';

const FOREGROUND = 'foregroundDeletion';

/**
 * Owners and their dependents: how a Job's deletion reaches its pods (propagation policy),
 * and the collection of pods whose owner is gone. It looks only at pods that may have lost
 * their owner (new ones, those of a removed Job) and at Jobs deleted in the foreground.
 */
export class GarbageCollector {
  readonly #store: ObjectStore;
  readonly #deletion: PodDeletion;
  readonly #clock: Clock;
  /** Uids of pods whose owner may be gone. */
  #maybeOrphaned = new Set<string>();
  /** Uids of Jobs with the foreground-deletion finalizer. */
  readonly #foreground = new Set<string>();

  constructor(store: ObjectStore, deletion: PodDeletion, clock: Clock) {
    this.#store = store;
    this.#deletion = deletion;
    this.#clock = clock;
  }

  jobChanged(job: IJob, type: WatchEventType): void {
    const uid = job.metadata?.uid ?? '';
    if (type === 'DELETED') {
      this.#foreground.delete(uid);
      for (const pod of this.#store.podsOwnedBy(uid))
        this.#maybeOrphaned.add(pod.metadata?.uid ?? '');
    } else if ((job.metadata?.finalizers ?? []).includes(FOREGROUND)) this.#foreground.add(uid);
  }

  podChanged(pod: IPod, type: WatchEventType): void {
    if (type === 'ADDED') this.#maybeOrphaned.add(pod.metadata?.uid ?? '');
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
        this.#store.dropOwner(pod, meta(job).uid ?? '');
        this.#store.touch('Pod', pod, 'MODIFIED');
      }
    }
    this.#store.remove('Job', namespace, job);
  }

  /** Dependents of deleted owners go (background); foreground owners go once they have none. */
  run(): boolean {
    let changed = false;
    const candidates = this.#maybeOrphaned;
    this.#maybeOrphaned = new Set();
    const pods: IPod[] = [];
    for (const uid of candidates) {
      const pod = this.#store.podByUid(uid);
      if (pod !== undefined) pods.push(pod);
    }
    for (const pod of pods.sort(this.#store.order)) {
      const owner = pod.metadata?.ownerReferences?.find((r) => r.controller === true);
      if (
        owner === undefined ||
        this.#store.jobByUid(owner.uid) !== undefined ||
        pod.metadata?.deletionTimestamp !== undefined
      )
        continue;
      this.#deletion.request(pod.metadata?.namespace ?? '', pod, undefined);
      changed = true;
    }
    const jobs: IJob[] = [];
    for (const uid of this.#foreground) {
      const job = this.#store.jobByUid(uid);
      if (job !== undefined) jobs.push(job);
    }
    for (const job of jobs.sort(this.#store.order)) {
      const namespace = job.metadata?.namespace ?? '';
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
