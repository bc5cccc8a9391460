import { iso, TERMINAL } from './api-object.js';
import { setContainer } from './container-status.js';
import { nodeOf, type NodeState } from './node-state.js';
import type { ObjectStore } from './object-store.js';
import type { PodRuntimes } from './pod-runtime.js';

/** Pods on a lost node go Unknown, then Failed (NodeLost) after the eviction delay. */
export class NodeController {
  readonly #store: ObjectStore;
  readonly #runtimes: PodRuntimes;
  readonly #nodes: readonly NodeState[];
  /** From a node's loss to its pods being marked Failed. */
  readonly #failAfterMs: number;

  constructor(
    store: ObjectStore,
    runtimes: PodRuntimes,
    nodes: readonly NodeState[],
    failAfterMs: number,
  ) {
    this.#store = store;
    this.#runtimes = runtimes;
    this.#nodes = nodes;
    this.#failAfterMs = failAfterMs;
  }

  run(now: number): boolean {
    let changed = false;
    // Nothing to do while every node reports (the usual case): no pass over the pods.
    if (this.#nodes.every((n) => n.lostAt === null)) return false;
    for (const { pod } of this.#store.allPodsLive()) {
      const node = nodeOf(this.#nodes, pod);
      const runtime = this.#runtimes.get(pod.metadata?.uid ?? '');
      if (node?.lostAt == null || runtime === undefined) continue;
      const status = (pod.status ??= {});
      if (TERMINAL.includes(status.phase ?? '')) continue;
      if (now >= node.lostAt + this.#failAfterMs) {
        status.phase = 'Failed';
        status.reason = 'NodeLost';
        status.message = `Node ${node.name} which was running pod ${pod.metadata?.name ?? ''} is unresponsive`;
        runtime.finishedAt = node.lostAt + this.#failAfterMs;
        setContainer(pod, {
          terminated: { exitCode: 137, reason: 'NodeLost', finishedAt: iso(runtime.finishedAt) },
        });
        this.#store.touch('Pod', pod, 'MODIFIED');
        changed = true;
      } else if (status.phase !== 'Unknown') {
        status.phase = 'Unknown';
        status.reason = 'NodeLost';
        this.#store.touch('Pod', pod, 'MODIFIED');
        changed = true;
      }
    }
    return changed;
  }
}
