import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../events/lifecycle-event.js';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { dockerProfile, kubernetesProfile } from '../policy/profiles.js';
import { workerIdOfRef, type WorkerEventHistory } from '../ports/event-store.port.js';
import { OWNERSHIP_LABELS, ownershipLabels } from '../provider/ownership.js';
import { lifecycleHarness } from '../testing/lifecycle-harness.js';
import { LifecycleManager } from './lifecycle-manager.js';
import type { WorkerId } from '../worker/ids.js';

const s = (seconds: number) => seconds * 1000;

const shortPolicy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .ttlAfterCompletion(s(60))
  .idleTimeout(s(120))
  .gracefulTerminationTimeout(s(10))
  .startupTimeout(s(30))
  .build()
  ._unsafeUnwrap();

describe('the seed scenarios', () => {
  it('creating a worker emits Created then Ready (and Busy for a job) and starts its resource', async () => {
    const h = lifecycleHarness();
    const handle = await h.create();
    expect(h.publisher.typesFor(handle.workerId)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
    ]);
    expect(h.provider.has(handle.resourceId)).toBe(true);
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('busy');
    const created = h.publisher.ofType('WorkerEphemeralCreated')[0];
    expect(created).toMatchObject({
      mode: 'job',
      image: 'hodei/worker:test',
      resourceId: handle.resourceId,
      maxLifetimeSecs: 1800,
      ttlAfterCompletionSecs: 120,
    });
  });

  it('keeps a finished worker and its stopped resource for the TTL, then removes both', async () => {
    const h = lifecycleHarness();
    const handle = await h.create({ command: ['sh', '-c', 'echo hi; sleep 5; exit 0'] });
    await h.advance(s(5));
    expect(h.manager.getWorker(handle.workerId)).toMatchObject({
      state: 'terminated',
      exitCode: 0,
    });
    const terminated = h.publisher.ofType('WorkerEphemeralTerminated')[0];
    expect(terminated).toMatchObject({ exitCode: 0, forced: false, cleanupScheduled: true });
    expect(terminated?.ttlExpiresAt).toBe(new Date(h.clock.now() + s(120)).toISOString());

    await h.advance(s(119));
    await h.manager.runGcCycle();
    expect(h.provider.has(handle.resourceId)).toBe(true);
    expect(h.manager.getWorker(handle.workerId)).toBeDefined();

    await h.advance(s(1));
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats).toMatchObject({ workersCleaned: 1, ttlExpired: 1, errors: 0 });
    expect(h.provider.has(handle.resourceId)).toBe(false);
    expect(h.manager.getWorker(handle.workerId)).toBeUndefined();
    expect(h.publisher.ofType('WorkerEphemeralCleanedUp')).toMatchObject([
      { workerId: handle.workerId, cleanupReason: 'TtlExpired', actor: 'gc' },
    ]);
  });

  it('a forced GC cleans every finished worker due and reports it in GarbageCollectionCompleted', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const a = await h.create({ command: ['sh', '-c', 'sleep 1; exit 0'] });
    const b = await h.create({ command: ['sh', '-c', 'sleep 2; exit 1'] });
    const running = await h.create();
    await h.advance(s(2) + s(60));
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats).toMatchObject({
      workersCleaned: 2,
      ttlExpired: 2,
      errors: 0,
      orphansDetected: 0,
    });
    expect(
      h.publisher
        .ofType('WorkerEphemeralCleanedUp')
        .map((e) => e.workerId)
        .sort(),
    ).toEqual([a.workerId, b.workerId].sort());
    expect(h.publisher.ofType('GarbageCollectionCompleted')).toMatchObject([
      { workersCleaned: 2, ttlExpired: 2, errors: 0, actor: 'gc', providerId: 'fake' },
    ]);
    expect(h.manager.getWorker(running.workerId)?.state).toBe('busy');
  });
});

describe('the deadline pass', () => {
  it('terminates a busy worker past its maxLifetime and keeps its stopped resource', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const handle = await h.create();
    await h.advance(s(600));
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats.lifetimeExceeded).toBe(1);
    expect(h.publisher.typesFor(handle.workerId).slice(-2)).toEqual([
      'WorkerEphemeralTerminating',
      'WorkerEphemeralTerminated',
    ]);
    expect(h.publisher.ofType('WorkerEphemeralTerminating')[0]?.reason).toBe('LifetimeExceeded');
    expect(h.provider.stopped).toContain(handle.resourceId);
    expect(h.provider.has(handle.resourceId)).toBe(true);
    expect(h.manager.getWorker(handle.workerId)?.terminationReason).toBe('LifetimeExceeded');
  });

  it('terminates a ready agent idle past its idleTimeout, announcing Idle first', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const handle = await h.create({ mode: 'agent' });
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('ready');
    await h.advance(s(119));
    await h.manager.runGcCycle();
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('ready');
    await h.advance(s(1));
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats.idleTimedOut).toBe(1);
    expect(h.publisher.typesFor(handle.workerId).slice(-3)).toEqual([
      'WorkerEphemeralIdle',
      'WorkerEphemeralTerminating',
      'WorkerEphemeralTerminated',
    ]);
    expect(h.publisher.ofType('WorkerEphemeralIdle')[0]?.idleSince).toBe(
      new Date(h.clock.now() - s(120)).toISOString(),
    );
  });

  it('never ends a busy worker for idleness, agent or job', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    const job = await h.create();
    await h.manager.markWorkerBusy(agent.workerId);
    await h.advance(s(599));
    await h.manager.runGcCycle();
    expect(h.manager.getWorker(agent.workerId)?.state).toBe('busy');
    expect(h.manager.getWorker(job.workerId)?.state).toBe('busy');
    expect(h.publisher.ofType('WorkerEphemeralIdle')).toEqual([]);
  });

  it('restarts the idle clock when an agent goes busy and back to ready', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    await h.advance(s(100));
    await h.manager.markWorkerBusy(agent.workerId);
    await h.advance(s(100));
    await h.manager.markWorkerReady(agent.workerId);
    await h.advance(s(119));
    await h.manager.runGcCycle();
    expect(h.manager.getWorker(agent.workerId)?.state).toBe('ready');
    await h.advance(s(1));
    await h.manager.runGcCycle();
    expect(h.manager.getWorker(agent.workerId)?.state).toBe('terminated');
  });

  it('fails a worker not running after its startupTimeout and stops its resource', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const handle = await h.create({ mode: 'agent', readiness: 'external' });
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('creating');
    await h.advance(s(30));
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats.startupTimedOut).toBe(1);
    expect(h.manager.getWorker(handle.workerId)).toMatchObject({
      state: 'failed',
      terminationReason: 'StartupTimeout',
    });
    expect(h.publisher.ofType('WorkerEphemeralFailed')[0]?.error).toMatch(/startupTimeout/);
    expect(h.provider.stopped).toContain(handle.resourceId);
  });

  it('force-removes a worker stuck terminating past its graceful timeout plus 30 s', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const handle = await h.create();
    h.provider.failNext('stopWorker');
    await h.advance(s(600));
    // The pass decides and starts the stop in the background; the stop's failure is an
    // error of the pass during which it failed, and the worker stays terminating.
    const first = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(first.lifetimeExceeded).toBe(1);
    await h.manager.whenStopsSettled();
    expect(h.provider.calls.stopWorker).toBe(1);
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminating');
    await h.advance(s(10) + s(30));
    const second = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(second.forceTerminated).toBe(1);
    expect(first.errors + second.errors).toBe(1);
    expect(h.provider.has(handle.resourceId)).toBe(false);
    expect(h.publisher.ofType('WorkerEphemeralTerminated').at(-1)).toMatchObject({
      workerId: handle.workerId,
      forced: true,
    });
  });

  it('cleans up in the same cycle a worker it ended when there is no retention', async () => {
    const policy = EphemeralWorkerPolicy.builder(shortPolicy)
      .ttlAfterCompletion(null)
      .build()
      ._unsafeUnwrap();
    const h = lifecycleHarness({ policy });
    const handle = await h.create();
    await h.advance(s(600));
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats).toMatchObject({ lifetimeExceeded: 1, ttlExpired: 1, workersCleaned: 1 });
    expect(h.manager.getWorker(handle.workerId)).toBeUndefined();
    expect(h.provider.has(handle.resourceId)).toBe(false);
  });

  it('keeps finished workers until a manual destroy when auto-cleanup is off', async () => {
    const policy = EphemeralWorkerPolicy.builder(shortPolicy)
      .autoCleanupEnabled(false)
      .build()
      ._unsafeUnwrap();
    const h = lifecycleHarness({ policy });
    const handle = await h.create({ command: ['sh', '-c', 'exit 0'] });
    await h.advance(s(3600));
    await h.manager.runGcCycle();
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminated');
    expect(h.publisher.ofType('WorkerEphemeralTerminated')[0]).toMatchObject({
      cleanupScheduled: false,
      ttlExpiresAt: null,
    });
    await h.managed.destroyWorker(handle);
    expect(h.manager.getWorker(handle.workerId)).toBeUndefined();
    expect(h.publisher.ofType('WorkerEphemeralCleanedUp')[0]?.cleanupReason).toBe('ForceCleanup');
  });

  it('applies per-worker overrides of the policy', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const policy = EphemeralWorkerPolicy.merge(shortPolicy, {
      maxLifetime: s(150),
    })._unsafeUnwrap();
    const short = await h.create({ policy });
    const normal = await h.create();
    await h.advance(s(150));
    await h.manager.runGcCycle();
    expect(h.manager.getWorker(short.workerId)?.state).toBe('terminated');
    expect(h.manager.getWorker(normal.workerId)?.state).toBe('busy');
  });

  it('gives a second call made while a cycle runs that same cycle', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    await h.create();
    await h.advance(s(600));
    const [a, b] = await Promise.all([h.manager.runGcCycle(), h.manager.runGcCycle()]);
    expect(a).toEqual(b);
    expect(h.publisher.ofType('GarbageCollectionCompleted')).toHaveLength(1);
  });

  it('tries a failed action again in the next cycle', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const handle = await h.create({ command: ['sh', '-c', 'exit 0'] });
    await h.advance(s(60));
    h.provider.failNext('destroyWorker');
    expect((await h.manager.runGcCycle())._unsafeUnwrap().errors).toBe(1);
    expect(h.manager.getWorker(handle.workerId)).toBeDefined();
    expect((await h.manager.runGcCycle())._unsafeUnwrap().workersCleaned).toBe(1);
    expect(h.manager.getWorker(handle.workerId)).toBeUndefined();
  });
});

describe('manual destroy through the decorator', () => {
  it('terminates, removes the resource and cleans up at once', async () => {
    const h = lifecycleHarness();
    const handle = await h.create();
    const result = await h.managed.destroyWorker(handle, undefined, {
      actor: 'api',
      correlationId: 'c-1',
    });
    expect(result.isOk()).toBe(true);
    expect(h.publisher.typesFor(handle.workerId).slice(-3)).toEqual([
      'WorkerEphemeralTerminating',
      'WorkerEphemeralTerminated',
      'WorkerEphemeralCleanedUp',
    ]);
    expect(h.publisher.ofType('WorkerEphemeralTerminating')[0]).toMatchObject({
      reason: 'ManualTermination',
      actor: 'api',
      correlationId: 'c-1',
    });
    expect(h.publisher.ofType('WorkerEphemeralCleanedUp')[0]?.cleanupReason).toBe(
      'NormalTermination',
    );
    expect(h.provider.has(handle.resourceId)).toBe(false);
    expect(h.manager.getWorker(handle.workerId)).toBeUndefined();
  });

  it('removes a worker that already finished at once, as ForceCleanup', async () => {
    const h = lifecycleHarness();
    const handle = await h.create({ command: ['sh', '-c', 'exit 2'] });
    await h.advance(1);
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminated');
    await h.managed.destroyWorker(handle);
    expect(h.publisher.ofType('WorkerEphemeralCleanedUp')[0]?.cleanupReason).toBe('ForceCleanup');
    expect(h.provider.has(handle.resourceId)).toBe(false);
  });

  it('removes the resource when tracking fails after creation, leaking nothing', async () => {
    const h = lifecycleHarness();
    const bad = { ...dockerProfile, maxLifetime: -1 };
    const result = await h.managed.createWorker({
      workerId: 'leaky' as WorkerId,
      mode: 'job',
      image: 'img',
      policy: bad,
    });
    expect(result.isErr() && result.error.type).toBe('InvalidPolicy');
    expect(h.provider.resourceIds()).toEqual([]);
    expect(h.provider.removed).toHaveLength(1);
  });

  it('refuses new workers while the publisher pushes back, creating nothing', async () => {
    const h = lifecycleHarness();
    const publisher = Object.assign(h.publisher, {
      backpressure: () => ({
        type: 'PublisherBackpressure' as const,
        message: 'spool full',
        retryable: true as const,
      }),
    });
    expect(publisher.backpressure()).not.toBeNull();
    const result = await h.managed.createWorker({
      workerId: 'pushed-back' as WorkerId,
      mode: 'job',
      image: 'img',
      policy: dockerProfile,
    });
    expect(result.isErr() && result.error.type).toBe('PublisherBackpressure');
    expect(h.provider.resourceIds()).toEqual([]);
  });

  it('passes the provider error through when the resource cannot be created', async () => {
    const h = lifecycleHarness();
    h.provider.failNext('createWorker');
    const result = await h.managed.createWorker({
      workerId: 'nope' as WorkerId,
      mode: 'job',
      image: 'img',
      policy: dockerProfile,
    });
    expect(result.isErr() && result.error.type).toBe('ProviderFailure');
    expect(h.manager.trackedCount).toBe(0);
  });
});

describe('push notifications', () => {
  it('marks a worker whose resource was killed terminated at once, with its exit code', async () => {
    const h = lifecycleHarness();
    const handle = await h.create({ mode: 'agent' });
    h.provider.exit(handle.resourceId, 137);
    await h.manager.whenIdle();
    expect(h.manager.getWorker(handle.workerId)).toMatchObject({
      state: 'terminated',
      exitCode: 137,
    });
  });

  it('reconciles at once when the notification stream comes back after a gap', async () => {
    const h = lifecycleHarness();
    const handle = await h.create({ mode: 'agent' });
    // Exits while nobody listens; the stream then says it resynced.
    h.provider.exit(handle.resourceId, 3, { notify: false });
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('ready');
    h.provider.resync();
    await h.manager.whenIdle();
    expect(h.manager.getWorker(handle.workerId)).toMatchObject({
      state: 'terminated',
      exitCode: 3,
    });
  });

  it('terminates an unhealthy agent for HealthCheckFailed', async () => {
    const h = lifecycleHarness();
    const handle = await h.create({ mode: 'agent' });
    h.provider.setHealth(handle.resourceId, 'unhealthy');
    await h.manager.whenIdle();
    expect(h.publisher.ofType('WorkerEphemeralTerminating')[0]?.reason).toBe('HealthCheckFailed');
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminated');
  });

  it('goes through ready and busy for a job that ended before it was seen running', async () => {
    const h = lifecycleHarness();
    const spec = {
      workerId: 'quick' as WorkerId,
      mode: 'job' as const,
      image: 'img',
      policy: dockerProfile,
    };
    const handle = (await h.provider.createWorker(spec))._unsafeUnwrap();
    await h.manager.initializeWorker(handle, spec);
    await h.manager.observeStatus(handle.workerId, {
      state: 'exited',
      exitCode: 0,
      finishedAt: 0,
      oomKilled: false,
    });
    expect(h.publisher.typesFor('quick')).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
      'WorkerEphemeralTerminated',
    ]);
  });
});

describe('reconciliation', () => {
  it('reports a worker whose resource vanished as WorkerLost, then terminated', async () => {
    const h = lifecycleHarness();
    const handle = await h.create();
    h.provider.vanish(handle.resourceId);
    const stats = (await h.manager.reconcile())._unsafeUnwrap();
    expect(stats.lost).toBe(1);
    expect(h.publisher.ofType('WorkerLost')).toMatchObject([
      { workerId: handle.workerId, resourceId: handle.resourceId, lastKnownState: 'busy' },
    ]);
    expect(h.manager.getWorker(handle.workerId)).toMatchObject({
      state: 'terminated',
      terminationReason: 'ProviderError',
    });
  });

  it('reports a finished worker whose resource someone removed as lost, once, and keeps it for its retention', async () => {
    const h = lifecycleHarness();
    const handle = await h.create({ command: ['sh', '-c', 'exit 0'] });
    await h.advance(1);
    h.provider.vanish(handle.resourceId);
    (await h.manager.reconcile())._unsafeUnwrap();
    (await h.manager.reconcile())._unsafeUnwrap();
    expect(h.publisher.ofType('WorkerLost')).toMatchObject([
      { workerId: handle.workerId, resourceId: handle.resourceId, lastKnownState: 'terminated' },
    ]);
    expect(h.publisher.ofType('WorkerEphemeralTerminated')).toHaveLength(1);
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('terminated');
  });

  it('marks terminated a worker whose resource exited while no notification came', async () => {
    const h = lifecycleHarness();
    const handle = await h.create({ mode: 'agent' });
    h.provider.exit(handle.resourceId, 1, { notify: false });
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('ready');
    const stats = (await h.manager.reconcile())._unsafeUnwrap();
    expect(stats.exited).toBe(1);
    expect(h.manager.getWorker(handle.workerId)).toMatchObject({
      state: 'terminated',
      exitCode: 1,
    });
  });

  it('keeps tracking intact when the provider cannot be listed', async () => {
    const h = lifecycleHarness();
    const handle = await h.create();
    h.provider.failNext('listManagedWorkers');
    expect((await h.manager.reconcile()).isErr()).toBe(true);
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('busy');
  });
});

describe('orphans', () => {
  const orphanPolicy = (action: 'report' | 'remove') =>
    EphemeralWorkerPolicy.builder(kubernetesProfile).orphanAction(action).build()._unsafeUnwrap();

  const labelsFor = (providerId: string, workerId: string, createdAt: number) =>
    ownershipLabels(
      { workerId: workerId as WorkerId, mode: 'job', image: 'img', policy: kubernetesProfile },
      providerId as never,
      createdAt,
    );

  it('reports a labelled untracked resource older than the grace period, once', async () => {
    const h = lifecycleHarness({ policy: orphanPolicy('report') });
    const stray = h.provider.addResource({ labels: labelsFor('fake', 'stray', h.clock.now()) });
    await h.advance(s(30));
    await h.manager.reconcile();
    expect(h.publisher.ofType('OrphanWorkerDetected')).toEqual([]);
    await h.advance(s(60));
    const stats = (await h.manager.reconcile())._unsafeUnwrap();
    expect(stats.orphansDetected).toBe(1);
    expect(h.publisher.ofType('OrphanWorkerDetected')).toMatchObject([
      { resourceId: stray, workerId: 'stray', action: 'reported', orphanedDurationSecs: 90 },
    ]);
    await h.advance(s(60));
    await h.manager.reconcile();
    expect(h.publisher.ofType('OrphanWorkerDetected')).toHaveLength(1);
    expect(h.provider.has(stray)).toBe(true);
    expect((await h.manager.runGcCycle())._unsafeUnwrap().orphansDetected).toBe(1);
  });

  it("removes an orphan with orphanAction 'remove'", async () => {
    const h = lifecycleHarness({ policy: orphanPolicy('remove') });
    const stray = h.provider.addResource({ labels: labelsFor('fake', 'stray', h.clock.now()) });
    await h.advance(s(61));
    const stats = (await h.manager.reconcile())._unsafeUnwrap();
    expect(stats).toMatchObject({ orphansDetected: 1, orphansRemoved: 1 });
    expect(h.provider.has(stray)).toBe(false);
    expect(h.publisher.ofType('OrphanWorkerDetected')[0]?.action).toBe('removed');
  });

  it('leaves alone resources without our labels or with another provider id, whatever the settings', async () => {
    const h = lifecycleHarness({ policy: orphanPolicy('remove') });
    const foreign = h.provider.addResource({ labels: labelsFor('other', 'theirs', h.clock.now()) });
    const bare = h.provider.addResource({ labels: {} });
    const unmanaged = h.provider.addResource({
      labels: { ...labelsFor('fake', 'x', h.clock.now()), [OWNERSHIP_LABELS.managed]: 'false' },
    });
    await h.advance(s(3600));
    await h.manager.reconcile();
    await h.manager.cleanupOrphans();
    await h.manager.runGcCycle();
    for (const id of [foreign, bare, unmanaged]) expect(h.provider.has(id)).toBe(true);
    expect(h.provider.removed).toEqual([]);
    expect(h.publisher.ofType('OrphanWorkerDetected')).toEqual([]);
  });

  it('does not call a worker being created an orphan', async () => {
    const h = lifecycleHarness({ policy: orphanPolicy('remove') });
    const spec = {
      workerId: 'slow' as WorkerId,
      mode: 'job' as const,
      image: 'img',
      policy: kubernetesProfile,
    };
    const handle = (await h.provider.createWorker(spec))._unsafeUnwrap();
    await h.advance(s(10));
    await h.manager.cleanupOrphans();
    expect(h.provider.has(handle.resourceId)).toBe(true);
  });
});

describe('recovery after a restart', () => {
  it('re-adopts running and exited workers with their creation time, mode and policy, removing none early', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const custom = EphemeralWorkerPolicy.merge(shortPolicy, {
      ttlAfterCompletion: s(300),
    })._unsafeUnwrap();
    const job = await h.create();
    const agent = await h.create({ mode: 'agent' });
    const done = await h.create({ command: ['sh', '-c', 'sleep 10; exit 3'], policy: custom });
    await h.advance(s(20));
    const doneAt = h.manager.getWorker(done.workerId)?.terminatedAt;

    const restarted = h.restart();
    const report = (await restarted.recover())._unsafeUnwrap();
    expect(report).toEqual({ recovered: 3, alreadyTracked: 0, unreadable: 0 });
    expect(restarted.getWorker(job.workerId)).toMatchObject({
      state: 'busy',
      mode: 'job',
      createdAt: job.createdAt,
    });
    expect(restarted.getWorker(agent.workerId)).toMatchObject({ state: 'ready', mode: 'agent' });
    expect(restarted.getWorker(done.workerId)).toMatchObject({
      state: 'terminated',
      exitCode: 3,
      terminatedAt: doneAt,
      policy: custom,
    });
    expect(
      h.publisher
        .ofType('WorkerRecovered')
        .map((e) => e.recoveredState)
        .sort(),
    ).toEqual(['busy', 'ready', 'terminated']);
    await restarted.runGcCycle();
    expect(h.provider.removed).toEqual([]);
    await h.advance(s(290));
    await restarted.runGcCycle();
    expect(h.provider.has(done.resourceId)).toBe(false);
    expect(h.provider.has(job.resourceId)).toBe(true);
  });

  it('restores busy and the last activity from the event history', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    await h.advance(s(50));
    await h.manager.markWorkerBusy(agent.workerId);
    await h.advance(s(10));
    const history: WorkerEventHistory = {
      lastStateEvents: (_providerId, ids) => {
        const last = new Map<string, LifecycleEvent>();
        for (const e of h.publisher.events) {
          if (
            'workerId' in e &&
            ids.map(workerIdOfRef).includes(e.workerId) &&
            e.type !== 'WorkerRecovered'
          )
            last.set(e.workerId, e);
        }
        return okAsync(last);
      },
    };
    const restarted = h.restart({ history });
    await restarted.recover();
    expect(restarted.getWorker(agent.workerId)).toMatchObject({
      state: 'busy',
      lastActivityAt: h.clock.now() - s(10),
    });
  });

  it('falls back to the provider when the history cannot be read', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    await h.manager.markWorkerBusy(agent.workerId);
    const restarted = h.restart({
      history: {
        lastStateEvents: () => errAsync({ type: 'EventStoreUnavailable', message: 'down' }),
      },
    });
    await restarted.recover();
    expect(restarted.getWorker(agent.workerId)).toMatchObject({
      state: 'ready',
      lastActivityAt: h.clock.now(),
    });
  });

  it('leaves resources whose labels cannot be read to orphan detection', async () => {
    const h = lifecycleHarness();
    h.provider.addResource({
      labels: {
        [OWNERSHIP_LABELS.managed]: 'true',
        [OWNERSHIP_LABELS.providerId]: 'fake',
        [OWNERSHIP_LABELS.workerId]: 'Bad Id',
      },
    });
    const report = (await h.restart().recover())._unsafeUnwrap();
    expect(report.unreadable).toBe(1);
  });
});

describe('races between the passes and other calls', () => {
  it('does not end an agent for idleness when it went busy while the pass was deciding', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const agent = await h.create({ mode: 'agent' });
    await h.advance(s(120));
    const [stats] = await Promise.all([
      h.manager.runGcCycle(),
      h.manager.markWorkerBusy(agent.workerId),
    ]);
    expect(stats._unsafeUnwrap().idleTimedOut).toBe(0);
    expect(h.manager.getWorker(agent.workerId)?.state).toBe('busy');
    expect(h.publisher.typesFor(agent.workerId)).not.toContain('WorkerEphemeralTerminating');
  });

  it('does not judge a worker re-created under the same id by a listing of the old one', async () => {
    const h = lifecycleHarness();
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const slow = Object.create(h.provider) as typeof h.provider;
    const listing = h.provider.listManagedWorkers.bind(h.provider);
    slow.listManagedWorkers = () => {
      const taken = listing();
      return new ResultAsync(gate.then(() => taken));
    };
    const manager = new LifecycleManager({
      provider: slow,
      publisher: h.publisher,
      clock: h.clock,
      ids: h.ids,
      policy: dockerProfile,
    });
    const spec = {
      workerId: 'again' as WorkerId,
      mode: 'agent' as const,
      image: 'img',
      command: ['sleep', 'infinity'],
      policy: dockerProfile,
    };
    const first = (await h.provider.createWorker(spec))._unsafeUnwrap();
    await manager.initializeWorker(first, spec);
    const reconciling = manager.reconcile();
    // Meanwhile the worker is destroyed and created again with the same id.
    await h.provider.destroyWorker(first, { gracePeriod: 0 });
    await manager.startTermination('again', 'ManualTermination');
    await manager.markWorkerTerminated('again', { exitCode: null, forced: false });
    await manager.cleanupWorker('again', 'NormalTermination');
    const second = (await h.provider.createWorker(spec))._unsafeUnwrap();
    await manager.initializeWorker(second, spec);
    release();
    expect((await reconciling)._unsafeUnwrap().lost).toBe(0);
    expect(manager.getWorker('again')).toMatchObject({
      state: 'creating',
      resourceId: second.resourceId,
    });
    expect(h.publisher.ofType('WorkerLost')).toEqual([]);
  });
});

describe('operations', () => {
  it('treats a repeated transition as a no-op without an event, and an invalid one as InvalidTransition', async () => {
    const h = lifecycleHarness();
    const handle = await h.create({ mode: 'agent' });
    const before = h.publisher.events.length;
    expect((await h.manager.markWorkerReady(handle.workerId)).isOk()).toBe(true);
    expect(h.publisher.events.length).toBe(before);
    await h.managed.destroyWorker(handle);
    expect(await h.manager.markWorkerReady(handle.workerId)).toMatchObject({
      error: { type: 'WorkerNotFound' },
    });
    const other = await h.create({ mode: 'agent', command: ['sh', '-c', 'exit 0'] });
    await h.advance(1);
    expect((await h.manager.markWorkerBusy(other.workerId))._unsafeUnwrapErr()).toEqual({
      type: 'InvalidTransition',
      from: 'terminated',
      to: 'busy',
    });
  });

  it('refuses to clean up a worker that has not finished', async () => {
    const h = lifecycleHarness();
    const handle = await h.create();
    expect(
      (await h.manager.cleanupWorker(handle.workerId, 'ForceCleanup'))._unsafeUnwrapErr().type,
    ).toBe('WorkerNotFinished');
  });

  it('never loses an update when calls on one worker race', async () => {
    const h = lifecycleHarness();
    const handle = await h.create({ mode: 'agent' });
    const calls = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0
        ? h.manager.markWorkerBusy(handle.workerId)
        : h.manager.markWorkerReady(handle.workerId),
    );
    await Promise.all(calls);
    const types = h.publisher
      .typesFor(handle.workerId)
      .filter((t) => t === 'WorkerEphemeralBusy' || t === 'WorkerEphemeralReady');
    // Created → Ready by the container, then 50 alternating calls: every call but the repeats moved it.
    expect(types.length).toBe(51);
    expect(h.manager.getWorker(handle.workerId)?.state).toBe(
      types.at(-1) === 'WorkerEphemeralBusy' ? 'busy' : 'ready',
    );
  });

  it('keeps going when the publisher fails, counting the failures', async () => {
    const h = lifecycleHarness();
    h.publisher.failWith();
    const handle = await h.create();
    expect(h.manager.getWorker(handle.workerId)?.state).toBe('busy');
    expect(h.manager.counters.publishFailures).toBe(3);
    expect(h.publisher.events).toEqual([]);
  });

  it('lists workers by state and mode', async () => {
    const h = lifecycleHarness();
    await h.create();
    await h.create({ mode: 'agent' });
    expect(h.manager.listWorkers({ mode: 'agent' }).map((w) => w.state)).toEqual(['ready']);
    expect(h.manager.listWorkers({ state: 'busy' }).map((w) => w.mode)).toEqual(['job']);
    expect(h.manager.listWorkers()).toHaveLength(2);
  });
});
