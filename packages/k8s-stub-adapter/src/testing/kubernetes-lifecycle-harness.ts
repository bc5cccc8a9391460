import {
  kubernetesProfile,
  LifecycleManagedWorkerProviderBuilder,
  type EphemeralWorkerPolicy,
  type LifecycleManagedWorkerProvider,
  type ProviderId,
  type WorkerHandle,
  type WorkerSpec,
} from '@hodei/domain';
import { ManualClock, RecordingPublisher, SequentialIdGenerator } from '@hodei/domain/testing';
import type { SimulatedClusterOptions } from '../cluster/cluster-types.js';
import type { SimulatedCluster } from '../cluster/simulated-cluster.js';
import { KubernetesLifecycleManager } from '../lifecycle/kubernetes-lifecycle-manager.js';
import type {
  KubernetesStubProviderOptions,
  KubernetesStubWorkerProvider,
} from '../provider/kubernetes-stub-worker-provider.js';
import { simulatedKubernetes } from './simulated-kubernetes.js';

export interface KubernetesLifecycleHarness {
  readonly clock: ManualClock;
  readonly ids: SequentialIdGenerator;
  readonly cluster: SimulatedCluster;
  readonly provider: KubernetesStubWorkerProvider;
  readonly publisher: RecordingPublisher;
  readonly manager: KubernetesLifecycleManager;
  readonly managed: LifecycleManagedWorkerProvider;
  readonly policy: EphemeralWorkerPolicy;
  /** Creates a worker through the decorator; throws if it fails. */
  create(overrides?: Partial<WorkerSpec>): Promise<WorkerHandle>;
  /**
   * Moves the clock in steps, ticking the cluster after each and letting the manager apply
   * what the watch pushed. The passes do not run by themselves: call `runPasses()`.
   */
  advance(ms: number): Promise<void>;
  /** One deadline pass and one reconciliation pass, as the server's timers would run them. */
  runPasses(): Promise<void>;
  /** Stops the watch. */
  close(): void;
}

export interface KubernetesLifecycleHarnessOptions extends SimulatedClusterOptions {
  readonly policy?: EphemeralWorkerPolicy;
  readonly providerId?: string;
  /** Granularity of `advance`, 100 ms by default. */
  readonly stepMs?: number;
  readonly provider?: Omit<KubernetesStubProviderOptions, 'providerId' | 'cluster'>;
}

/**
 * A simulated cluster, the stub provider, a KubernetesLifecycleManager watching it and the
 * decorator in front, on a manual clock with sequential ids and a recording publisher: what a
 * team needs to test its scheduler against "Kubernetes" without a cluster.
 */
export function kubernetesLifecycleHarness(
  options: KubernetesLifecycleHarnessOptions = {},
): KubernetesLifecycleHarness {
  const { policy = kubernetesProfile, providerId = 'k8s-sim', stepMs = 100, ...rest } = options;
  const clock = new ManualClock();
  const ids = new SequentialIdGenerator();
  const sim = simulatedKubernetes({ ...rest, clock, providerId: providerId as ProviderId, stepMs });
  const publisher = new RecordingPublisher();
  const manager = new KubernetesLifecycleManager({
    provider: sim.provider,
    publisher,
    clock,
    ids,
    policy,
  });
  const watch = manager.startWatching();
  const managed = new LifecycleManagedWorkerProviderBuilder(sim.provider)
    .withLifecycleManager(manager)
    .withEventPublisher(publisher)
    .build()
    ._unsafeUnwrap();
  const advance = async (ms: number): Promise<void> => {
    let left = ms;
    do {
      const step = Math.min(stepMs, left);
      clock.advance(step);
      sim.cluster.tick();
      await manager.whenIdle();
      left -= step;
    } while (left > 0);
  };
  return {
    clock,
    ids,
    cluster: sim.cluster,
    provider: sim.provider,
    publisher,
    manager,
    managed,
    policy,
    create: async (overrides = {}) => {
      const result = await managed.createWorker({
        workerId: ids.workerId(),
        mode: 'job',
        image: 'hodei/worker:0.1.0',
        command: ['sleep', 'infinity'],
        policy,
        ...overrides,
      });
      if (result.isErr()) throw new Error(`create failed: ${JSON.stringify(result.error)}`);
      await manager.whenIdle();
      return result.value;
    },
    advance,
    runPasses: async () => {
      await manager.runGcCycle();
      await manager.reconcile();
      await manager.whenIdle();
    },
    close: () => watch?.close(),
  };
}
