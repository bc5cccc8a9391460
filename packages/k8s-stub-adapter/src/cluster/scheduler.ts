import { iso, ms } from './api-object.js';
import type { IPod, WatchEventType } from './cluster-types.js';
import { setContainer } from './container-status.js';
import type { NodeState } from './node-state.js';
import type { ObjectStore } from './object-store.js';
import type { PodRuntimes } from './pod-runtime.js';
import type { SeededRandom } from './seeded-random.js';

/**
 * Binds each new pod to a ready node picked at random; its container starts its drawn start
 * latency after the pod's creation. It keeps the pods without a node, not scanning the rest.
 */
export class Scheduler {
  readonly #store: ObjectStore;
  readonly #runtimes: PodRuntimes;
  readonly #nodes: readonly NodeState[];
  readonly #random: SeededRandom;
  /** Uids of the pods not bound to a node. */
  readonly #unbound = new Set<string>();

  constructor(
    store: ObjectStore,
    runtimes: PodRuntimes,
    nodes: readonly NodeState[],
    random: SeededRandom,
  ) {
    this.#store = store;
    this.#runtimes = runtimes;
    this.#nodes = nodes;
    this.#random = random;
  }

  podChanged(pod: IPod, type: WatchEventType): void {
    const uid = pod.metadata?.uid ?? '';
    if (type === 'DELETED' || pod.spec?.nodeName !== undefined) this.#unbound.delete(uid);
    else if (type === 'ADDED') this.#unbound.add(uid);
  }

  run(now: number): boolean {
    let changed = false;
    const pods: IPod[] = [];
    for (const uid of this.#unbound) {
      const pod = this.#store.podByUid(uid);
      if (pod !== undefined) pods.push(pod);
    }
    for (const pod of pods.sort(this.#store.order)) {
      if (pod.spec?.nodeName !== undefined || pod.metadata?.deletionTimestamp !== undefined)
        continue;
      const runtime = this.#runtimes.get(pod.metadata?.uid ?? '');
      const node = this.#random.pick(this.#nodes.filter((n) => n.lostAt === null));
      if (runtime === undefined || node === undefined) continue;
      (pod.spec ??= { containers: [] }).nodeName = node.name;
      const created = ms(pod.metadata?.creationTimestamp) ?? now;
      runtime.startAt = created + runtime.latencyMs;
      const status = (pod.status ??= {});
      status.startTime = iso(created);
      status.hostIP = `10.0.0.${this.#nodes.indexOf(node) + 10}`;
      status.conditions = [{ type: 'PodScheduled', status: 'True', lastTransitionTime: iso(now) }];
      setContainer(pod, { waiting: { reason: 'ContainerCreating' } });
      this.#store.touch('Pod', pod, 'MODIFIED');
      changed = true;
    }
    return changed;
  }
}
