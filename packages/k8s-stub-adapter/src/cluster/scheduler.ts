import { iso, ms } from './api-object.js';
import { setContainer } from './container-status.js';
import type { NodeState } from './node-state.js';
import type { ObjectStore } from './object-store.js';
import type { PodRuntimes } from './pod-runtime.js';
import type { SeededRandom } from './seeded-random.js';

/**
 * Binds each new pod to a ready node picked at random; its container starts its drawn start
 * latency after the pod's creation.
 */
export class Scheduler {
  readonly #store: ObjectStore;
  readonly #runtimes: PodRuntimes;
  readonly #nodes: readonly NodeState[];
  readonly #random: SeededRandom;

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

  run(now: number): boolean {
    let changed = false;
    for (const { pod } of this.#store.allPodsLive()) {
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
