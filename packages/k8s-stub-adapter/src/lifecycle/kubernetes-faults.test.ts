import {
  isOwnedBy,
  kubernetesProfile,
  OWNERSHIP_LABELS,
  validatePolicy,
  type EphemeralWorkerPolicy,
  type WorkerHandle,
} from '@hodei/domain';
import { describe, expect, it } from 'vitest';
import type { IPod } from '../cluster/cluster-types.js';
import { kubernetesLifecycleHarness, type KubernetesLifecycleHarness } from '../testing/index.js';

const s = (n: number): number => n * 1_000;
const NS = 'default';

const policyWith = (overrides: Partial<EphemeralWorkerPolicy>): EphemeralWorkerPolicy =>
  validatePolicy({ ...kubernetesProfile, ...overrides })._unsafeUnwrap();

const ours = (h: KubernetesLifecycleHarness, pod: IPod): boolean =>
  isOwnedBy({ ...pod.metadata?.annotations, ...pod.metadata?.labels }, h.provider.providerId);

/** Every tracked live worker has a pod, every pod with our labels is tracked. */
function expectConsistent(h: KubernetesLifecycleHarness): void {
  const pods = h.cluster.allPods(NS);
  const tracked = new Set(h.manager.listWorkers().map((w) => w.resourceId));
  for (const w of h.manager.listWorkers()) {
    const pod = pods.find((p) => p.metadata?.ownerReferences?.[0]?.name === w.resourceId);
    expect({ worker: w.id, hasPod: pod !== undefined }).toEqual({ worker: w.id, hasPod: true });
    if (w.state === 'busy') expect(pod?.status?.phase).toBe('Running');
  }
  for (const pod of pods.filter((p) => ours(h, p))) {
    const resource = pod.metadata?.ownerReferences?.[0]?.name ?? `pod/${pod.metadata?.name ?? ''}`;
    expect({ pod: pod.metadata?.name, tracked: tracked.has(resource) }).toEqual({
      pod: pod.metadata?.name,
      tracked: true,
    });
  }
}

describe('fault injection with the lifecycle manager', () => {
  it('never corrupts tracking under API errors and timeouts: once they stop, tracking matches the cluster', async () => {
    const policy = policyWith({
      gracefulTerminationTimeout: s(10),
      ttlAfterCompletion: s(30),
      orphanGracePeriod: s(20),
      orphanCheckInterval: s(10),
      orphanAction: 'remove',
    });
    const h = kubernetesLifecycleHarness({ seed: 99, policy, stepMs: 1_000 });
    h.cluster.injectApiFaults({ errorRate: 0.3, timeoutRate: 0.2 });
    const handles: WorkerHandle[] = [];
    let failedCreates = 0;
    for (let i = 0; i < 30; i++) {
      const result = await h.managed.createWorker({
        workerId: h.ids.workerId(),
        mode: i % 3 === 0 ? 'agent' : 'job',
        image: 'hodei/worker:0.1.0',
        command: i % 2 === 0 ? ['sleep', 'infinity'] : ['sh', '-c', `sleep ${i}; exit 0`],
        policy,
      });
      if (result.isOk()) handles.push(result.value);
      else failedCreates += 1;
      await h.advance(s(1));
      if (i % 5 === 4) await h.runPasses();
    }
    for (const handle of handles.slice(0, 10)) await h.managed.destroyWorker(handle);
    await h.runPasses();
    expect(failedCreates).toBeGreaterThan(0);
    expect(h.cluster.injectedFaults.length).toBeGreaterThan(10);

    h.cluster.injectApiFaults({});
    for (let i = 0; i < 3; i++) {
      await h.advance(s(60));
      await h.runPasses();
    }
    await h.runPasses();
    await h.runPasses();
    expectConsistent(h);
    expect(h.manager.listWorkers().length).toBeGreaterThan(0);
  });

  it('keeps a worker terminating when its destroy fails, then force-removes it after the grace period plus the margin', async () => {
    const policy = policyWith({ gracefulTerminationTimeout: s(10) });
    const h = kubernetesLifecycleHarness({ seed: 11, policy });
    const handle = await h.create();
    await h.advance(s(2));
    h.cluster.failNextCalls(1, 'InternalError', 'delete');
    const destroyed = await h.managed.destroyWorker(handle);
    expect(destroyed._unsafeUnwrapErr()).toMatchObject({
      type: 'ProviderFailure',
      retryable: true,
    });
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminating');
    await h.advance(s(39));
    await h.runPasses();
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminating');
    await h.advance(s(1));
    await h.runPasses();
    expect(h.publisher.ofType('WorkerEphemeralTerminated')).toMatchObject([
      { workerId: handle.workerId, forced: true },
    ]);
    expect(h.cluster.peekJob(NS, handle.resourceId)).toBeUndefined();
  });

  it('force-removes a pod stuck Terminating after a cancel once the grace period plus margin has passed', async () => {
    const policy = policyWith({ gracefulTerminationTimeout: s(10) });
    const h = kubernetesLifecycleHarness({ seed: 12, policy });
    const handle = await h.create();
    await h.advance(s(2));
    const pod = h.cluster
      .allPods(NS)
      .find((p) => p.metadata?.ownerReferences?.[0]?.name === handle.resourceId);
    const name = pod?.metadata?.name ?? '';
    h.cluster.makePodStuckTerminating(NS, name);
    (await h.managed.destroyWorker(handle))._unsafeUnwrap();
    await h.advance(s(30));
    await h.runPasses();
    expect(h.cluster.peekPod(NS, name)?.metadata?.deletionTimestamp).toBeDefined();
    await h.advance(s(10));
    await h.runPasses();
    expect(h.cluster.peekPod(NS, name)).toBeUndefined();
    // Being deleted already, it was never taken for an orphan.
    expect(h.publisher.ofType('OrphanWorkerDetected')).toEqual([]);
  });

  it('touches nothing without our labels, even with orphan removal on and every fault injected', async () => {
    const policy = policyWith({
      orphanAction: 'remove',
      orphanGracePeriod: s(5),
      orphanCheckInterval: s(5),
    });
    const h = kubernetesLifecycleHarness({ seed: 13, policy });
    const bare = h.cluster.addForeignPod(NS, {})._unsafeUnwrap();
    const otherProvider = h.cluster
      .addForeignPod(NS, {
        labels: {
          [OWNERSHIP_LABELS.managed]: 'true',
          [OWNERSHIP_LABELS.providerId]: 'someone-else',
          [OWNERSHIP_LABELS.workerId]: 'w-x',
        },
      })
      ._unsafeUnwrap();
    const unmanaged = h.cluster
      .addForeignPod(NS, {
        labels: {
          [OWNERSHIP_LABELS.managed]: 'false',
          [OWNERSHIP_LABELS.providerId]: h.provider.providerId,
        },
      })
      ._unsafeUnwrap();
    const orphan = h.cluster
      .addForeignPod(NS, {
        labels: {
          [OWNERSHIP_LABELS.managed]: 'true',
          [OWNERSHIP_LABELS.providerId]: h.provider.providerId,
          [OWNERSHIP_LABELS.workerId]: 'mine',
        },
      })
      ._unsafeUnwrap();
    const foreign = [bare, otherProvider, unmanaged].map((p) => p.metadata?.name ?? '');
    for (const name of foreign) h.cluster.makePodStuckTerminating(NS, name);
    const worker = await h.create();
    h.cluster.loseNode('node-a');
    h.cluster.injectApiFaults({ errorRate: 0.2, timeoutRate: 0.1 });
    for (let i = 0; i < 20; i++) {
      await h.advance(s(10));
      await h.runPasses();
    }
    await h.managed.destroyWorker(worker);
    h.cluster.injectApiFaults({});
    for (let i = 0; i < 5; i++) {
      await h.advance(s(30));
      await h.runPasses();
    }
    for (const name of foreign) {
      const pod = h.cluster.peekPod(NS, name);
      expect(pod).toBeDefined();
      expect(pod?.metadata?.deletionTimestamp).toBeUndefined();
      expect(pod?.spec?.activeDeadlineSeconds).toBeUndefined();
    }
    expect(h.cluster.peekPod(NS, orphan.metadata?.name ?? '')).toBeUndefined();
    expect(h.publisher.ofType('OrphanWorkerDetected')).toMatchObject([
      { resourceId: `pod/${orphan.metadata?.name ?? ''}`, action: 'removed' },
    ]);
  });
});
