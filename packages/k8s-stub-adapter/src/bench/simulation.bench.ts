/**
 * Benchmarks (not tests): what the simulated cluster costs.
 *   pnpm --filter @hodei/k8s-stub-adapter bench
 * Each group prints how many times slower the stub is than its baseline, measured in the
 * same run: the in-memory fake for a worker's whole life through the manager, and a small
 * cluster for the controllers' tick.
 */
import { kubernetesProfile, LifecycleManager, type ProviderId, type WorkerId } from '@hodei/domain';
import {
  InMemoryWorkerProvider,
  ManualClock,
  RecordingPublisher,
  SequentialIdGenerator,
} from '@hodei/domain/testing';
import { bench, describe } from 'vitest';
import type { IJob } from '../cluster/cluster-types.js';
import { SimulatedCluster } from '../cluster/simulated-cluster.js';
import { KubernetesStubWorkerProvider } from '../provider/kubernetes-stub-worker-provider.js';

const WORKERS = 200;

async function lifecycle(kind: 'fake' | 'stub'): Promise<void> {
  const clock = new ManualClock();
  const ids = new SequentialIdGenerator();
  const cluster = new SimulatedCluster(clock, { seed: 1 });
  const provider =
    kind === 'fake'
      ? new InMemoryWorkerProvider('bench' as ProviderId, clock)
      : new KubernetesStubWorkerProvider({ providerId: 'bench' as ProviderId, cluster });
  const manager = new LifecycleManager({
    provider,
    publisher: new RecordingPublisher(),
    clock,
    ids,
    policy: kubernetesProfile,
  });
  manager.startWatching();
  for (let i = 0; i < WORKERS; i++) {
    const spec = {
      workerId: `w-${i}` as WorkerId,
      mode: 'job' as const,
      image: 'hodei/worker:0.1.0',
      command: ['sh', '-c', 'echo hi; sleep 5; exit 0'],
      policy: kubernetesProfile,
    };
    const handle = (await provider.createWorker(spec))._unsafeUnwrap();
    await manager.initializeWorker(handle, spec);
  }
  for (let t = 0; t < 10; t++) {
    clock.advance(1_000);
    if (provider instanceof InMemoryWorkerProvider) provider.settle();
    else cluster.tick();
    await manager.whenIdle();
  }
  await manager.reconcile();
  clock.advance(kubernetesProfile.ttlAfterCompletion ?? 0);
  await manager.runGcCycle();
  if (manager.trackedCount !== 0) throw new Error(`${manager.trackedCount} workers left`);
}

function clusterWith(pods: number): SimulatedCluster {
  const clock = new ManualClock();
  const cluster = new SimulatedCluster(clock, { seed: 1 });
  for (let i = 0; i < pods; i++) {
    const job: IJob = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: `job-${i}` },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'] }],
          },
        },
      },
    };
    cluster.createJob('default', job)._unsafeUnwrap();
  }
  clock.advance(5_000);
  cluster.tick();
  return cluster;
}

describe(`a worker's whole life through the manager, ${WORKERS} workers`, () => {
  bench('in-memory fake (baseline)', () => lifecycle('fake'), { iterations: 10 });
  bench('simulated Kubernetes', () => lifecycle('stub'), { iterations: 10 });
});

describe('one controller tick of a settled cluster', () => {
  const small = clusterWith(100);
  const large = clusterWith(1_000);
  bench('100 running pods (baseline)', () => small.tick());
  bench('1,000 running pods', () => large.tick());
});
