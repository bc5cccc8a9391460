import type { ProviderId } from '@hodei/domain';
import type { ProviderContractSubject } from '@hodei/domain/testing';
import type { SimulatedClusterOptions, SteppableClock } from '../cluster/cluster-types.js';
import { SimulatedCluster } from '../cluster/simulated-cluster.js';
import {
  KubernetesStubWorkerProvider,
  type KubernetesStubProviderOptions,
} from '../provider/kubernetes-stub-worker-provider.js';

export interface SimulatedKubernetesOptions extends SimulatedClusterOptions {
  readonly clock: SteppableClock;
  readonly providerId: ProviderId;
  /** Granularity of `advance`: the cluster ticks after each step. Default 100 ms. */
  readonly stepMs?: number;
  readonly provider?: Omit<KubernetesStubProviderOptions, 'providerId' | 'cluster'>;
}

export interface SimulatedKubernetes {
  readonly clock: SteppableClock;
  readonly cluster: SimulatedCluster;
  readonly provider: KubernetesStubWorkerProvider;
  /** Moves the clock by `ms` in steps, ticking the cluster after each. */
  advance(ms: number): void;
}

/** A simulated cluster, a provider on it, and a way to let time pass. */
export function simulatedKubernetes(options: SimulatedKubernetesOptions): SimulatedKubernetes {
  const { clock, providerId, stepMs = 100, provider: providerOptions, ...clusterOptions } = options;
  const cluster = new SimulatedCluster(clock, clusterOptions);
  const provider = new KubernetesStubWorkerProvider({
    ...providerOptions,
    providerId,
    cluster,
  });
  return {
    clock,
    cluster,
    provider,
    advance: (ms: number): void => cluster.advance(ms, stepMs),
  };
}

/** The `describeWorkerProviderContract` subject for a simulated cluster. */
export function kubernetesContractSubject(sim: SimulatedKubernetes): ProviderContractSubject {
  const namespace = sim.provider.namespace;
  return {
    provider: sim.provider,
    image: 'hodei/worker:0.1.0',
    workerIdPrefix: 'contract',
    advance: async (ms) => {
      sim.advance(ms);
      await Promise.resolve();
    },
    createForeignResource: (labels) => {
      const pod = sim.cluster
        .addForeignPod(namespace, { labels, command: ['sleep', '3600'] })
        ._unsafeUnwrap();
      const name = pod.metadata?.name ?? '';
      return Promise.resolve({
        resourceId: `pod/${name}`,
        exists: () => Promise.resolve(sim.cluster.peekPod(namespace, name) !== undefined),
        remove: () => {
          sim.cluster.forceRemovePod(namespace, name);
          return Promise.resolve();
        },
      });
    },
    teardown: () => Promise.resolve(),
  };
}
