import {
  kubernetesProfile,
  validatePolicy,
  type EphemeralWorkerPolicy,
  OWNERSHIP_LABELS,
  type ProviderId,
} from '@hodei/domain';
import { InMemoryWorkerProvider, ManualClock, RecordingPublisher } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { kubernetesLifecycleHarness } from '../testing/index.js';
import { KubernetesLifecycleManager } from './kubernetes-lifecycle-manager.js';

const s = (seconds: number): number => seconds * 1_000;
const NS = 'default';

const policyWith = (overrides: Partial<EphemeralWorkerPolicy>): EphemeralWorkerPolicy =>
  validatePolicy({ ...kubernetesProfile, ...overrides })._unsafeUnwrap();

const podsOf = (h: ReturnType<typeof kubernetesLifecycleHarness>, job: string) =>
  h.cluster.allPods(NS).filter((p) => p.metadata?.labels?.['batch.kubernetes.io/job-name'] === job);

describe('KubernetesLifecycleManager', () => {
  it('uses the kubernetes profile unless given a policy', () => {
    const clock = new ManualClock();
    const manager = new KubernetesLifecycleManager({
      provider: new InMemoryWorkerProvider('p' as ProviderId, clock),
      publisher: new RecordingPublisher(),
      clock,
    });
    expect(manager.policy).toEqual(kubernetesProfile);
  });

  it('reads time from the simulated cluster when no clock is given', () => {
    const h = kubernetesLifecycleHarness();
    const manager = new KubernetesLifecycleManager({
      provider: h.provider,
      publisher: h.publisher,
    });
    h.clock.advance(s(5));
    expect(h.provider.clock.now()).toBe(h.clock.now());
    expect(manager.policy.orphanDetectionEnabled).toBe(true);
  });
});

describe('end to end on the simulated clock', () => {
  it('create gives Created, then Ready and Busy once the pod runs, and a Running pod', async () => {
    const h = kubernetesLifecycleHarness({ seed: 3 });
    const handle = await h.create();
    expect(handle.resourceId).toBe(`hodei-worker-${handle.workerId}`);
    expect(h.publisher.typesFor(handle.workerId)).toEqual(['WorkerEphemeralCreated']);
    await h.advance(s(2));
    expect(h.publisher.typesFor(handle.workerId)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
    ]);
    const pods = podsOf(h, handle.resourceId);
    expect(pods).toHaveLength(1);
    expect(pods[0]?.status?.phase).toBe('Running');
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('busy');
  });

  it('cancel gives Terminating and Terminated, and the Job and its pod are deleted', async () => {
    const h = kubernetesLifecycleHarness({ seed: 4 });
    const handle = await h.create();
    await h.advance(s(2));
    const result = await h.managed.destroyWorker(handle);
    expect(result.isOk()).toBe(true);
    expect(h.publisher.typesFor(handle.workerId)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
      'WorkerEphemeralTerminating',
      'WorkerEphemeralTerminated',
      'WorkerEphemeralCleanedUp',
    ]);
    expect(h.cluster.peekJob(NS, handle.resourceId)).toBeUndefined();
    // The pod honours its grace period: Terminating, then gone.
    const [pod] = podsOf(h, handle.resourceId);
    expect(pod?.metadata?.deletionTimestamp).toBeDefined();
    await h.advance(s(2));
    expect(podsOf(h, handle.resourceId)).toEqual([]);
    expect(h.manager.getWorker(handle.workerId)).toBeUndefined();
  });

  it('removes a finished Job and its pod after the TTL, and cleans up the worker as TtlExpired', async () => {
    const policy = policyWith({ ttlAfterCompletion: s(60) });
    const h = kubernetesLifecycleHarness({ seed: 5, policy });
    const handle = await h.create({ command: ['sh', '-c', 'echo done; sleep 3; exit 0'] });
    await h.advance(s(6));
    expect(h.manager.getWorker(handle.workerId)).toMatchObject({
      state: 'terminated',
      exitCode: 0,
    });
    expect(h.cluster.peekJob(NS, handle.resourceId)).toBeDefined();
    await h.advance(s(50));
    await h.runPasses();
    expect(h.cluster.peekJob(NS, handle.resourceId)).toBeDefined();
    await h.advance(s(10));
    await h.runPasses();
    expect(h.cluster.peekJob(NS, handle.resourceId)).toBeUndefined();
    await h.advance(s(1));
    expect(podsOf(h, handle.resourceId)).toEqual([]);
    expect(h.manager.getWorker(handle.workerId)).toBeUndefined();
    expect(h.publisher.ofType('WorkerEphemeralCleanedUp')).toMatchObject([
      { workerId: handle.workerId, cleanupReason: 'TtlExpired' },
    ]);
    expect(h.publisher.ofType('WorkerLost')).toEqual([]);
  });

  it('reports a pod with our labels that nobody tracks as an orphan within the grace period plus one orphan interval', async () => {
    const h = kubernetesLifecycleHarness({ seed: 6 });
    const orphan = h.cluster
      .addForeignPod(NS, {
        labels: {
          [OWNERSHIP_LABELS.managed]: 'true',
          [OWNERSHIP_LABELS.providerId]: h.provider.providerId,
          [OWNERSHIP_LABELS.workerId]: 'left-behind',
        },
        command: ['sleep', 'infinity'],
      })
      ._unsafeUnwrap();
    const name = orphan.metadata?.name ?? '';
    const limit = h.policy.orphanGracePeriod + h.policy.orphanCheckInterval;
    let waited = 0;
    while (h.publisher.ofType('OrphanWorkerDetected').length === 0 && waited <= limit) {
      await h.advance(s(10));
      waited += s(10);
      await h.runPasses();
    }
    expect(waited).toBeLessThanOrEqual(limit);
    expect(h.publisher.ofType('OrphanWorkerDetected')).toMatchObject([
      { resourceId: `pod/${name}`, workerId: 'left-behind', action: 'reported' },
    ]);
    // Reported, not removed: the policy's orphanAction is 'report'.
    expect(h.cluster.peekPod(NS, name)).toBeDefined();
  });

  it('reports a pod deleted behind our back as WorkerLost, not as an orphan', async () => {
    const h = kubernetesLifecycleHarness({ seed: 7 });
    const handle = await h.create();
    await h.advance(s(2));
    const [pod] = podsOf(h, handle.resourceId);
    h.cluster.forceRemovePod(NS, pod?.metadata?.name ?? '');
    await h.advance(s(1));
    await h.runPasses();
    expect(h.publisher.ofType('WorkerLost')).toMatchObject([
      { workerId: handle.workerId, resourceId: handle.resourceId, lastKnownState: 'busy' },
    ]);
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminated');
    expect(h.publisher.ofType('OrphanWorkerDetected')).toEqual([]);
  });

  it('reports a pod deleted behind our back as WorkerLost on reconciliation when no watch runs', async () => {
    const h = kubernetesLifecycleHarness({ seed: 8 });
    h.close();
    const handle = await h.create();
    await h.advance(s(2));
    await h.runPasses();
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('busy');
    const [pod] = podsOf(h, handle.resourceId);
    h.cluster.forceRemovePod(NS, pod?.metadata?.name ?? '');
    await h.advance(s(1));
    await h.runPasses();
    expect(h.publisher.ofType('WorkerLost')).toMatchObject([{ workerId: handle.workerId }]);
  });

  it('does not call a worker lost when the TTL controller removed its Job after it finished', async () => {
    const policy = policyWith({ ttlAfterCompletion: 0 });
    const h = kubernetesLifecycleHarness({ seed: 9, policy });
    const handle = await h.create({ command: ['sh', '-c', 'sleep 2; exit 0'] });
    await h.advance(s(5));
    // ttlSecondsAfterFinished 0: Kubernetes removed the Job as soon as it finished.
    expect(h.cluster.peekJob(NS, handle.resourceId)).toBeUndefined();
    await h.runPasses();
    expect(h.publisher.ofType('WorkerLost')).toEqual([]);
    expect(h.publisher.typesFor(handle.workerId)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
      'WorkerEphemeralTerminated',
      'WorkerEphemeralCleanedUp',
    ]);
  });

  it('stops a job that outlives maxLifetime and keeps its Job and pod for logs until the TTL', async () => {
    const policy = policyWith({
      maxLifetime: s(120),
      idleTimeout: s(60),
      startupTimeout: s(60),
      ttlAfterCompletion: s(300),
    });
    const h = kubernetesLifecycleHarness({ seed: 10, policy });
    const handle = await h.create({ command: ['sh', '-c', 'echo working; sleep 3600'] });
    await h.advance(s(121));
    await h.runPasses();
    // The pod is stopped and shuts down within its grace period; its exit ends the worker.
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminating');
    await h.advance(s(5));
    const worker = h.manager.getWorker(handle.workerId);
    expect(worker?.state).toBe('terminated');
    expect(worker?.terminationReason).toBe('LifetimeExceeded');
    expect(worker?.exitCode).not.toBeNull();
    const [pod] = podsOf(h, handle.resourceId);
    expect(pod?.status).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded' });
    const lines: string[] = [];
    for await (const line of (await h.provider.logs(handle))._unsafeUnwrap()) lines.push(line.line);
    expect(lines).toEqual(['working']);
  });

  it('runs an agent until it is stopped, and terminates it for IdleTimeout', async () => {
    const policy = policyWith({ idleTimeout: s(120) });
    const h = kubernetesLifecycleHarness({ seed: 11, policy });
    // The agent's command would end at once; an agent pod runs until deleted regardless.
    const handle = await h.create({ mode: 'agent', command: ['sh', '-c', 'exit 0'] });
    await h.advance(s(60));
    await h.runPasses();
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('ready');
    await h.advance(s(70));
    await h.runPasses();
    await h.advance(s(5));
    expect(h.publisher.typesFor(handle.workerId)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralIdle',
      'WorkerEphemeralTerminating',
      'WorkerEphemeralTerminated',
    ]);
    expect(h.manager.getWorker(handle.workerId)?.terminationReason).toBe('IdleTimeout');
  });

  it("recovers tracking from the Jobs' labels and annotations after a restart, and finds no orphan", async () => {
    const h = kubernetesLifecycleHarness({ seed: 12 });
    const running = await h.create();
    const finished = await h.create({ command: ['sh', '-c', 'sleep 1; exit 7'] });
    await h.advance(s(5));
    h.close();
    const restarted = new KubernetesLifecycleManager({
      provider: h.provider,
      publisher: h.publisher,
      clock: h.clock,
      ids: h.ids,
    });
    const report = (await restarted.recover())._unsafeUnwrap();
    expect(report).toEqual({ recovered: 2, alreadyTracked: 0, unreadable: 0 });
    expect(restarted.getWorker(running.workerId)).toMatchObject({
      state: 'busy',
      createdAt: running.createdAt,
      resourceId: running.resourceId,
    });
    expect(restarted.getWorker(finished.workerId)).toMatchObject({
      state: 'terminated',
      exitCode: 7,
    });
    await h.advance(s(120));
    expect((await restarted.cleanupOrphans())._unsafeUnwrap().detected).toBe(0);
  });
});
