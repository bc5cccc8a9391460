import type { Clock } from '@hodei/domain';
import { iso, meta } from './api-object.js';
import type { IPod } from './cluster-types.js';
import type { ObjectStore } from './object-store.js';
import type { PodRuntimes } from './pod-runtime.js';

/**
 * Graceful deletion, as the API server records it: the pod turns Terminating for up to its
 * grace period and the kubelet confirms once the container is gone. Grace 0 forces.
 */
export class PodDeletion {
  readonly #store: ObjectStore;
  readonly #runtimes: PodRuntimes;
  readonly #clock: Clock;

  constructor(store: ObjectStore, runtimes: PodRuntimes, clock: Clock) {
    this.#store = store;
    this.#runtimes = runtimes;
    this.#clock = clock;
  }

  /** `gracePeriodSeconds` overrides the pod's own `terminationGracePeriodSeconds`. */
  request(namespace: string, pod: IPod, gracePeriodSeconds: number | undefined): void {
    const m = meta(pod);
    const grace = gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    // Forced, or never scheduled: no kubelet has to confirm, the object goes at once.
    if (grace <= 0 || pod.spec?.nodeName === undefined) {
      this.#store.remove('Pod', namespace, pod);
      return;
    }
    const now = this.#clock.now();
    if (m.deletionTimestamp !== undefined) {
      // A second deletion may only shorten the grace period.
      if (grace < (m.deletionGracePeriodSeconds ?? grace)) {
        m.deletionGracePeriodSeconds = grace;
        const runtime = this.#runtimes.get(m.uid ?? '');
        if (runtime?.kill?.reason === 'Deleted')
          runtime.kill = { ...runtime.kill, graceMs: grace * 1_000 };
        this.#store.touch('Pod', pod, 'MODIFIED');
      }
      return;
    }
    m.deletionTimestamp = iso(now);
    m.deletionGracePeriodSeconds = grace;
    this.#store.touch('Pod', pod, 'MODIFIED');
  }
}
