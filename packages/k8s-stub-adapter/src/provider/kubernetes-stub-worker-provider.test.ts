import {
  kubernetesProfile,
  OWNERSHIP_LABELS,
  type ProviderId,
  type ProviderWatchEvent,
  type WorkerHandle,
  type WorkerId,
  type WorkerSpec,
} from '@hodei/domain';
import { ManualClock } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import type { IPod } from '../cluster/cluster-types.js';
import { simulatedKubernetes } from '../testing/index.js';

const s = (n: number): number => n * 1_000;
const NS = 'default';
const PROVIDER = 'k8s-unit' as ProviderId;

function setup(seed = 1, provider: { forceDeleteMarginMs?: number } = {}) {
  const sim = simulatedKubernetes({
    clock: new ManualClock(),
    providerId: PROVIDER,
    seed,
    startLatencyMs: { min: 1_000, max: 1_000 },
    shutdownMs: 1_000,
    provider,
  });
  let n = 0;
  const spec = (overrides: Partial<WorkerSpec> = {}): WorkerSpec => ({
    workerId: `w-${++n}` as WorkerId,
    mode: 'job',
    image: 'hodei/worker:0.1.0',
    command: ['sleep', 'infinity'],
    policy: kubernetesProfile,
    ...overrides,
  });
  const create = async (overrides: Partial<WorkerSpec> = {}): Promise<WorkerHandle> =>
    (await sim.provider.createWorker(spec(overrides)))._unsafeUnwrap();
  const podOf = (handle: WorkerHandle): IPod | undefined =>
    sim.cluster
      .allPods(NS)
      .find((p) => p.metadata?.labels?.['batch.kubernetes.io/job-name'] === handle.resourceId);
  const ourLabels = (workerId: string): Record<string, string> => ({
    [OWNERSHIP_LABELS.managed]: 'true',
    [OWNERSHIP_LABELS.providerId]: PROVIDER,
    [OWNERSHIP_LABELS.workerId]: workerId,
  });
  return { ...sim, spec, create, podOf, ourLabels };
}

describe('KubernetesStubWorkerProvider', () => {
  it('creates a Job whose pod carries the ownership labels and annotations', async () => {
    const k = setup();
    const handle = await k.create({ labels: { team: 'ci' } });
    expect(handle.resourceId).toBe('hodei-worker-w-1');
    k.advance(s(2));
    const pod = k.podOf(handle);
    expect(pod?.metadata?.labels).toMatchObject({ ...k.ourLabels('w-1'), team: 'ci' });
    expect(pod?.metadata?.annotations?.[OWNERSHIP_LABELS.createdAt]).toBe(
      new Date(handle.createdAt).toISOString(),
    );
    expect(pod?.spec?.activeDeadlineSeconds).toBe(3600);
    expect(pod?.status?.qosClass).toBe('Guaranteed');
  });

  it('reports creating until the pod runs, then running, then exited with the exit code', async () => {
    const k = setup();
    const handle = await k.create({ command: ['sh', '-c', 'sleep 3; exit 2'] });
    expect((await k.provider.getWorkerStatus(handle))._unsafeUnwrap()).toEqual({
      state: 'creating',
    });
    // The Job controller makes the pod at the next tick; it runs 1 s later.
    k.advance(s(1) + 100);
    expect((await k.provider.getWorkerStatus(handle))._unsafeUnwrap()).toEqual({
      state: 'running',
      health: 'none',
    });
    k.advance(s(3));
    expect((await k.provider.getWorkerStatus(handle))._unsafeUnwrap()).toMatchObject({
      state: 'exited',
      exitCode: 2,
      finishedAt: handle.createdAt + 100 + s(4),
    });
  });

  it('stops a worker by lowering its pod’s deadline: the pod fails (DeadlineExceeded, 143) and the Job and pod stay', async () => {
    const k = setup();
    const handle = await k.create({ command: ['sh', '-c', 'echo still here; sleep 3600'] });
    k.advance(s(10));
    (await k.provider.stopWorker(handle, { gracePeriod: s(30) }))._unsafeUnwrap();
    k.advance(s(3));
    expect(k.podOf(handle)?.status).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded' });
    expect((await k.provider.getWorkerStatus(handle))._unsafeUnwrap()).toMatchObject({
      state: 'exited',
      exitCode: 143,
    });
    expect(k.cluster.peekJob(NS, handle.resourceId)?.status?.conditions?.[0]?.type).toBe('Failed');
    const lines: string[] = [];
    for await (const l of (await k.provider.logs(handle))._unsafeUnwrap()) lines.push(l.line);
    expect(lines).toEqual(['still here']);
    // Stopping again, or a finished worker, is a no-op.
    expect((await k.provider.stopWorker(handle, { gracePeriod: 0 })).isOk()).toBe(true);
  });

  it('stops a worker whose Job has no pod yet by giving the Job a deadline', async () => {
    const k = setup();
    const handle = await k.create();
    (await k.provider.stopWorker(handle, { gracePeriod: 0 }))._unsafeUnwrap();
    k.advance(s(4));
    expect(k.cluster.peekJob(NS, handle.resourceId)?.status?.conditions?.[0]).toMatchObject({
      type: 'Failed',
      reason: 'DeadlineExceeded',
    });
    expect((await k.provider.getWorkerStatus(handle))._unsafeUnwrap()).toMatchObject({
      state: 'exited',
      exitCode: null,
    });
  });

  it('destroys with background propagation: the Job at once, its pod after the grace period given', async () => {
    const k = setup();
    const handle = await k.create();
    k.advance(s(2));
    const pod = k.podOf(handle);
    (await k.provider.destroyWorker(handle, { gracePeriod: s(20) }))._unsafeUnwrap();
    expect(k.cluster.peekJob(NS, handle.resourceId)).toBeUndefined();
    const terminating = k.cluster.peekPod(NS, pod?.metadata?.name ?? '');
    expect(terminating?.metadata?.deletionGracePeriodSeconds).toBe(20);
    expect((await k.provider.getWorkerStatus(handle))._unsafeUnwrap()).toEqual({
      state: 'missing',
    });
    k.advance(s(2));
    expect(k.podOf(handle)).toBeUndefined();
  });

  it('lists its Jobs and its bare labelled pods, with labels and annotations merged, and nothing else', async () => {
    const k = setup();
    const handle = await k.create({ mode: 'agent' });
    const orphan = k.cluster.addForeignPod(NS, { labels: k.ourLabels('orphan') })._unsafeUnwrap();
    k.cluster.addForeignPod(NS, {})._unsafeUnwrap();
    k.cluster
      .addForeignPod(NS, {
        labels: { ...k.ourLabels('x'), [OWNERSHIP_LABELS.providerId]: 'other' },
      })
      ._unsafeUnwrap();
    k.advance(s(2));
    const list = (await k.provider.listManagedWorkers())._unsafeUnwrap();
    expect(list.map((r) => r.resourceId).sort()).toEqual(
      [handle.resourceId, `pod/${orphan.metadata?.name ?? ''}`].sort(),
    );
    const mine = list.find((r) => r.resourceId === handle.resourceId);
    expect(mine).toMatchObject({
      status: { state: 'running' },
      image: 'hodei/worker:0.1.0',
      createdAt: handle.createdAt,
    });
    expect(mine?.labels[OWNERSHIP_LABELS.policy]).toBe(JSON.stringify(kubernetesProfile));
    expect(mine?.labels[OWNERSHIP_LABELS.mode]).toBe('agent');
  });

  it('does not list a worker whose pod was deleted behind its back, and reports it missing', async () => {
    const k = setup();
    const handle = await k.create();
    k.advance(s(2));
    k.cluster.forceRemovePod(NS, k.podOf(handle)?.metadata?.name ?? '');
    k.advance(s(1));
    expect(k.cluster.peekJob(NS, handle.resourceId)).toBeDefined();
    expect((await k.provider.getWorkerStatus(handle))._unsafeUnwrap()).toEqual({
      state: 'missing',
    });
    expect((await k.provider.listManagedWorkers())._unsafeUnwrap()).toEqual([]);
  });

  it('refuses to stop or destroy a Job with its name but without its labels, and leaves it alone', async () => {
    const k = setup();
    k.cluster
      .createJob(NS, {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'hodei-worker-imposter' },
        spec: {
          template: {
            spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
          },
        },
      })
      ._unsafeUnwrap();
    const handle: WorkerHandle = {
      workerId: 'imposter' as WorkerId,
      resourceId: 'hodei-worker-imposter',
      providerId: PROVIDER,
      createdAt: 0,
    };
    expect(
      (await k.provider.destroyWorker(handle, { gracePeriod: 0 }))._unsafeUnwrapErr().type,
    ).toBe('ResourceNotOwned');
    expect((await k.provider.stopWorker(handle, { gracePeriod: 0 }))._unsafeUnwrapErr().type).toBe(
      'ResourceNotOwned',
    );
    expect((await k.provider.logs(handle))._unsafeUnwrapErr().type).toBe('ResourceNotOwned');
    expect((await k.provider.getWorkerStatus(handle))._unsafeUnwrap()).toEqual({
      state: 'missing',
    });
    expect(k.cluster.peekJob(NS, 'hodei-worker-imposter')).toBeDefined();
  });

  it('pushes started, exited (with its finish time), unhealthy and removed notifications for its own workers only', async () => {
    const k = setup(3);
    const seen: ProviderWatchEvent[] = [];
    const sub = k.provider.watch((e) => seen.push(e));
    const done = await k.create({ command: ['sh', '-c', 'sleep 2; exit 5'] });
    const vanished = await k.create();
    const stranded = await k.create();
    k.cluster.addForeignPod(NS, { labels: { app: 'not-ours' } });
    k.advance(s(4));
    k.cluster.forceRemovePod(NS, k.podOf(vanished)?.metadata?.name ?? '');
    k.cluster.loseNode(k.podOf(stranded)?.spec?.nodeName ?? '');
    k.advance(s(1));
    sub.close();
    const about = (h: WorkerHandle) =>
      seen.filter((e) => 'resourceId' in e && e.resourceId === h.resourceId).map((e) => e.type);
    expect(about(done)).toEqual(['started', 'exited']);
    expect(seen.find((e) => e.type === 'exited' && e.resourceId === done.resourceId)).toMatchObject(
      {
        workerId: done.workerId,
        exitCode: 5,
        finishedAt: Date.parse(
          k.podOf(done)?.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? '',
        ),
      },
    );
    expect(about(vanished)).toEqual(['started', 'removed']);
    expect(about(stranded)).toContain('health');
    expect(seen.every((e) => 'workerId' in e && e.workerId.startsWith('w-'))).toBe(true);
  });

  it('follows logs until the container ends', async () => {
    const k = setup();
    const handle = await k.create({ command: ['sh', '-c', 'echo a; echo b; sleep 5'] });
    k.advance(s(2));
    const stream = (await k.provider.logs(handle, { follow: true }))._unsafeUnwrap();
    const lines: string[] = [];
    const reading = (async () => {
      for await (const l of stream) lines.push(l.line);
    })();
    await Promise.resolve();
    k.advance(s(5));
    await reading;
    expect(lines).toEqual(['a', 'b']);
    const tail = (await k.provider.logs(handle, { tail: 1 }))._unsafeUnwrap();
    const last: string[] = [];
    for await (const l of tail) last.push(l.line);
    expect(last).toEqual(['b']);
  });

  it('answers health with its provider id, and ProviderUnavailable naming the endpoint when the API is down', async () => {
    const k = setup();
    expect((await k.provider.health())._unsafeUnwrap().providerId).toBe(PROVIDER);
    k.cluster.setReachable(false);
    expect((await k.provider.health())._unsafeUnwrapErr()).toMatchObject({
      type: 'ProviderUnavailable',
      endpoint: 'simulated://kubernetes',
      retryable: true,
    });
  });
});

describe('KubernetesStubWorkerProvider under API faults', () => {
  it('maps 500, 503 and 504 to ProviderFailure, ProviderUnavailable and ProviderTimeout, all retryable', async () => {
    const k = setup();
    k.cluster.failNextCalls(1, 'InternalError', 'list');
    expect((await k.provider.listManagedWorkers())._unsafeUnwrapErr()).toMatchObject({
      type: 'ProviderFailure',
      retryable: true,
    });
    k.cluster.failNextCalls(1, 'Timeout', 'list');
    expect((await k.provider.listManagedWorkers())._unsafeUnwrapErr()).toMatchObject({
      type: 'ProviderTimeout',
      retryable: true,
    });
    k.cluster.failNextCalls(1, 'ServiceUnavailable', 'create');
    expect((await k.provider.createWorker(k.spec()))._unsafeUnwrapErr()).toMatchObject({
      type: 'ProviderUnavailable',
      retryable: true,
    });
  });

  it('leaves no Job behind when a create times out after the API server applied it', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const k = setup(seed);
      k.cluster.failNextCalls(1, 'Timeout', 'create');
      const result = await k.provider.createWorker(k.spec());
      expect(result._unsafeUnwrapErr().type).toBe('ProviderTimeout');
      k.advance(s(2));
      expect(k.cluster.allJobs(NS)).toEqual([]);
      expect(k.cluster.allPods(NS)).toEqual([]);
    }
  });

  it('answers WorkerAlreadyExists for a second create of the same worker, and leaves the first alone', async () => {
    const k = setup();
    const spec = k.spec();
    const first = (await k.provider.createWorker(spec))._unsafeUnwrap();
    expect((await k.provider.createWorker(spec))._unsafeUnwrapErr().type).toBe(
      'WorkerAlreadyExists',
    );
    expect(k.cluster.peekJob(NS, first.resourceId)).toBeDefined();
  });

  it('force-deletes a pod stuck Terminating once its grace period plus the margin has passed', async () => {
    const k = setup(1, { forceDeleteMarginMs: s(30) });
    const handle = await k.create();
    k.advance(s(2));
    const name = k.podOf(handle)?.metadata?.name ?? '';
    k.cluster.makePodStuckTerminating(NS, name);
    (await k.provider.destroyWorker(handle, { gracePeriod: s(10) }))._unsafeUnwrap();
    k.advance(s(39));
    (await k.provider.listManagedWorkers())._unsafeUnwrap();
    expect(k.cluster.peekPod(NS, name)?.metadata?.deletionTimestamp).toBeDefined();
    k.advance(s(1));
    expect((await k.provider.listManagedWorkers())._unsafeUnwrap()).toEqual([]);
    expect(k.cluster.peekPod(NS, name)).toBeUndefined();
  });

  it('never force-deletes a stuck pod without its labels', async () => {
    const k = setup();
    const foreign = k.cluster.addForeignPod(NS, { labels: { app: 'theirs' } })._unsafeUnwrap();
    const name = foreign.metadata?.name ?? '';
    k.advance(s(2));
    k.cluster.makePodStuckTerminating(NS, name);
    k.cluster.deletePod(NS, name, { gracePeriodSeconds: 1 })._unsafeUnwrap();
    k.advance(s(600));
    (await k.provider.listManagedWorkers())._unsafeUnwrap();
    expect(k.cluster.peekPod(NS, name)).toBeDefined();
  });
});
