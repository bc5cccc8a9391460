import { iso, TERMINAL } from './api-object.js';
import type { IPod, WatchEventType } from './cluster-types.js';
import { setContainer } from './container-status.js';
import { nodeOf, type NodeState } from './node-state.js';
import type { ObjectStore } from './object-store.js';
import { killTiming, nextPodEvent, podWakeAt, type PodEvent } from './pod-events.js';
import { recordOutput } from './pod-logs.js';
import type { PodRuntime, PodRuntimes } from './pod-runtime.js';
import { TimerQueue } from './timer-queue.js';

const DEADLINE_MESSAGE = 'Pod was active on the node longer than the specified deadline';

/**
 * The kubelets of the ready nodes: start containers, end them (exit, deadline, deletion) and
 * confirm deletions. A lost node's kubelet does nothing. Each pod is looked at when its next
 * event is due (a timer queue), not on every pass.
 */
export class Kubelet {
  readonly #store: ObjectStore;
  readonly #runtimes: PodRuntimes;
  readonly #nodes: readonly NodeState[];
  /** How long a container takes to exit after SIGTERM. */
  readonly #shutdownMs: number;
  /** Uids of pods by when the kubelet next has something to do for them. */
  readonly #wakes = new TimerQueue<string>();

  constructor(
    store: ObjectStore,
    runtimes: PodRuntimes,
    nodes: readonly NodeState[],
    shutdownMs: number,
  ) {
    this.#store = store;
    this.#runtimes = runtimes;
    this.#nodes = nodes;
    this.#shutdownMs = shutdownMs;
  }

  /** Schedules the pod's next wake-up from its current state. */
  podChanged(pod: IPod, type: WatchEventType): void {
    if (type !== 'DELETED') this.#schedule(pod);
  }

  run(now: number): boolean {
    let changed = false;
    const pods: IPod[] = [];
    for (const uid of new Set(this.#wakes.popDue(now))) {
      const pod = this.#store.podByUid(uid);
      if (pod !== undefined) pods.push(pod);
    }
    for (const pod of pods.sort(this.#store.order)) {
      const runtime = this.#runtimes.get(pod.metadata?.uid ?? '');
      const node = nodeOf(this.#nodes, pod);
      if (runtime === undefined || node === undefined || node.lostAt !== null) continue;
      changed = this.#advancePod(pod.metadata?.namespace ?? '', pod, runtime, now) || changed;
      // Some of what it knows changes without a write (a container signalled): look again.
      if (this.#store.podByUid(pod.metadata?.uid ?? '') === pod) this.#schedule(pod);
    }
    if (this.#wakes.size > 2 * this.#store.podCount + 1_024) this.#compact();
    return changed;
  }

  #schedule(pod: IPod): void {
    const uid = pod.metadata?.uid ?? '';
    const runtime = this.#runtimes.get(uid);
    if (runtime === undefined) return;
    const at = podWakeAt(pod, runtime, this.#shutdownMs);
    if (at !== Infinity) this.#wakes.push(at, uid);
  }

  /** Drops the wake-ups of pods gone, and all but the earliest of each pod. */
  #compact(): void {
    const seen = new Set<string>();
    this.#wakes.compact((_, uid) => {
      const keep = !seen.has(uid) && this.#store.podByUid(uid) !== undefined;
      seen.add(uid);
      return keep;
    });
  }

  /** Applies, in time order, every pod event due by `now`: start, exit, deadline, deletion. */
  #advancePod(namespace: string, pod: IPod, runtime: PodRuntime, now: number): boolean {
    let changed = false;
    for (let step = 0; step < 10; step++) {
      const next = nextPodEvent(pod, runtime, now, this.#shutdownMs);
      if (next === null) break;
      changed = true;
      this.#applyPodEvent(pod, runtime, next);
    }
    const terminal = TERMINAL.includes(pod.status?.phase ?? '');
    if (terminal && pod.metadata?.deletionTimestamp !== undefined && !runtime.stuckTerminating) {
      // The kubelet confirms the deletion once the containers are gone.
      this.#store.remove('Pod', namespace, pod);
      return true;
    }
    return changed;
  }

  #applyPodEvent(pod: IPod, runtime: PodRuntime, event: PodEvent): void {
    const status = (pod.status ??= {});
    switch (event.kind) {
      case 'start': {
        const at = event.at;
        runtime.startedAt = at;
        status.phase = 'Running';
        status.podIP = `10.244.${this.#store.uidCount % 250}.${(this.#store.resourceVersion % 250) + 2}`;
        status.conditions = [
          { type: 'PodScheduled', status: 'True' },
          { type: 'Ready', status: 'True', lastTransitionTime: iso(at) },
        ];
        setContainer(pod, { running: { startedAt: iso(at) } }, true);
        recordOutput(runtime, at);
        this.#store.touch('Pod', pod, 'MODIFIED');
        return;
      }
      case 'exit':
        this.#finishContainer(pod, runtime, event.at, runtime.run.exitCode, null);
        return;
      case 'killed': {
        const kill = runtime.kill;
        const { exitCode } =
          kill === null ? { exitCode: 137 } : killTiming(runtime, kill, this.#shutdownMs);
        this.#finishContainer(
          pod,
          runtime,
          event.at,
          exitCode,
          kill?.reason === 'DeadlineExceeded' ? 'DeadlineExceeded' : null,
        );
        return;
      }
      case 'signal': {
        if (runtime.startedAt !== null) {
          runtime.kill = event.kill;
          return;
        }
        // Never started: nothing to signal, the pod ends at once.
        runtime.finishedAt = event.at;
        status.phase = 'Failed';
        if (event.kill.reason === 'DeadlineExceeded') {
          status.reason = 'DeadlineExceeded';
          status.message = DEADLINE_MESSAGE;
        }
        setContainer(pod, {
          terminated: { exitCode: 137, reason: 'ContainerCannotRun', finishedAt: iso(event.at) },
        });
        this.#store.touch('Pod', pod, 'MODIFIED');
        return;
      }
    }
  }

  #finishContainer(
    pod: IPod,
    runtime: PodRuntime,
    at: number,
    exitCode: number,
    podReason: 'DeadlineExceeded' | null,
  ): void {
    const status = (pod.status ??= {});
    runtime.finishedAt = at;
    status.phase = exitCode === 0 && podReason === null ? 'Succeeded' : 'Failed';
    if (podReason !== null) {
      status.reason = podReason;
      status.message = DEADLINE_MESSAGE;
    }
    status.conditions = [
      { type: 'PodScheduled', status: 'True' },
      { type: 'Ready', status: 'False', reason: 'PodCompleted', lastTransitionTime: iso(at) },
    ];
    setContainer(pod, {
      terminated: {
        exitCode,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        startedAt: iso(runtime.startedAt ?? at),
        finishedAt: iso(at),
      },
    });
    this.#store.touch('Pod', pod, 'MODIFIED');
  }
}
