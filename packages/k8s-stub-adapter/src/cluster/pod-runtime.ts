import { simulateCommand, type SimulatedRun } from '@hodei/domain';
import type { IPod, LogEntry, MsRange } from './cluster-types.js';
import type { SeededRandom } from './seeded-random.js';

export interface Kill {
  /** When the container is told to stop (SIGTERM). */
  readonly at: number;
  readonly reason: 'DeadlineExceeded' | 'Deleted';
  readonly graceMs: number;
}

/** What the simulated kubelet knows about a pod and the API does not show. */
export interface PodRuntime {
  readonly run: SimulatedRun;
  readonly latencyMs: number;
  startAt: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  kill: Kill | null;
  stuckTerminating: boolean;
  ignoresSigterm: boolean;
  logs: LogEntry[];
}

/** The runtime of every stored pod, by uid: made when the pod is created, dropped when it goes. */
export class PodRuntimes {
  readonly #random: SeededRandom;
  readonly #startLatency: MsRange;
  readonly #workload: (pod: IPod) => SimulatedRun;
  readonly #byUid = new Map<string, PodRuntime>();

  constructor(random: SeededRandom, startLatency: MsRange, workload: (pod: IPod) => SimulatedRun) {
    this.#random = random;
    this.#startLatency = startLatency;
    this.#workload = workload;
  }

  /** Draws the pod's start latency, then asks the workload what its container will do. */
  create(uid: string, pod: IPod): void {
    const latency = this.#random.int(this.#startLatency.min, this.#startLatency.max);
    this.#byUid.set(uid, {
      run: this.#workload(pod),
      latencyMs: latency,
      startAt: null,
      startedAt: null,
      finishedAt: null,
      kill: null,
      stuckTerminating: false,
      ignoresSigterm: false,
      logs: [],
    });
  }

  get(uid: string): PodRuntime | undefined {
    return this.#byUid.get(uid);
  }

  forget(uid: string): void {
    this.#byUid.delete(uid);
  }
}

/** `simulateCommand` on the first container; `hodei.mode=agent` pods run until deleted. */
export function defaultWorkload(pod: IPod): SimulatedRun {
  const run = simulateCommand(pod.spec?.containers[0]?.command);
  if (pod.metadata?.labels?.['hodei.mode'] === 'agent') return { ...run, runMs: null };
  return run;
}
