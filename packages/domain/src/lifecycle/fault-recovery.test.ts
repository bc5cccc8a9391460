import { errAsync, ResultAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { dockerProfile } from '../policy/profiles.js';
import { OWNERSHIP_LABELS, ownershipLabels } from '../provider/ownership.js';
import { asWorkerId, lifecycleHarness } from '../testing/lifecycle-harness.js';
import { RecordedEventHistory } from '../testing/recorded-event-history.js';
import type {
  WorkerHandle,
  WorkerProviderError,
  WorkerSpec,
} from '../ports/worker-provider.port.js';
import { InMemoryWorkerProvider } from '../testing/in-memory-worker-provider.js';
import type { ProviderId } from '../worker/ids.js';

const s = (seconds: number) => seconds * 1000;

const shortPolicy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .ttlAfterCompletion(s(60))
  .idleTimeout(s(120))
  .gracefulTerminationTimeout(s(10))
  .startupTimeout(s(30))
  .build()
  ._unsafeUnwrap();

const ours = (workerId: string, createdAt: number) =>
  ownershipLabels(
    {
      workerId: asWorkerId(workerId),
      mode: 'job',
      image: 'hodei/worker:test',
      policy: shortPolicy,
    },
    'fake' as ProviderId,
    createdAt,
  );

describe('a create that fails after making its resource', () => {
  it('has what it left removed by reconciliation, retried until gone, and reported once', async () => {
    const h = lifecycleHarness({ policy: dockerProfile }); // orphan detection off
    h.provider.failNextCreateLeavingResource();
    const id = asWorkerId('crashed');
    const created = await h.managed.createWorker({
      workerId: id,
      mode: 'job',
      image: 'hodei/worker:test',
      policy: dockerProfile,
    });
    expect(created.isErr()).toBe(true);
    const [left] = h.provider.resourceIds();
    expect(left).toBeDefined();

    h.provider.failNext('destroyWorker');
    expect((await h.manager.reconcile())._unsafeUnwrap().errors).toBe(1);
    expect(h.provider.has(left!)).toBe(true);

    expect((await h.manager.reconcile())._unsafeUnwrap().orphansRemoved).toBe(1);
    expect(h.provider.has(left!)).toBe(false);
    await h.manager.reconcile();
    expect(h.publisher.ofType('OrphanWorkerDetected')).toEqual([
      expect.objectContaining({
        workerId: id,
        resourceId: left,
        reason: 'FailedCreate',
        action: 'removed',
      }),
    ]);
    // The id is free again.
    expect(
      (
        await h.managed.createWorker({
          workerId: id,
          mode: 'job',
          image: 'hodei/worker:test',
          policy: dockerProfile,
        })
      ).isOk(),
    ).toBe(true);
  });

  it('is superseded by a later create under the id that succeeds: that life is never removed', async () => {
    const h = lifecycleHarness({ policy: dockerProfile });
    const id = asWorkerId('retried');
    h.provider.failNext('createWorker');
    const spec = {
      workerId: id,
      mode: 'job' as const,
      image: 'hodei/worker:test',
      policy: dockerProfile,
    };
    expect((await h.managed.createWorker(spec)).isErr()).toBe(true);
    const handle = (await h.managed.createWorker(spec))._unsafeUnwrap();
    await h.manager.reconcile();
    await h.manager.reconcile();
    expect(h.provider.has(handle.resourceId)).toBe(true);
    expect(h.manager.getWorker(id)?.state).toBe('busy');
    expect(h.publisher.ofType('OrphanWorkerDetected')).toEqual([]);
  });
});

describe('a create in flight', () => {
  /** Its create makes the resource at once and answers when the test says. */
  class SlowCreates extends InMemoryWorkerProvider {
    release: () => void = () => undefined;
    override createWorker(spec: WorkerSpec): ResultAsync<WorkerHandle, WorkerProviderError> {
      const made = super.createWorker(spec);
      const answered = new Promise<void>((resolve) => (this.release = resolve));
      return new ResultAsync(answered.then(() => made));
    }
  }

  it('keeps orphan detection off its resource until it is tracked', async () => {
    const policy = EphemeralWorkerPolicy.builder(shortPolicy)
      .orphanDetectionEnabled(true)
      .orphanGracePeriod(0)
      .orphanAction('remove')
      .build()
      ._unsafeUnwrap();
    const h = lifecycleHarness({ policy, provider: (id, clock) => new SlowCreates(id, clock) });
    const provider = h.provider as SlowCreates;
    const creating = h.managed.createWorker({
      workerId: asWorkerId('slow'),
      mode: 'job',
      image: 'hodei/worker:test',
      policy,
    });
    const [rid] = provider.resourceIds();
    await h.advance(s(2));
    expect((await h.manager.reconcile())._unsafeUnwrap().orphansRemoved).toBe(0);
    expect(provider.has(rid!)).toBe(true);
    provider.release();
    expect((await creating).isOk()).toBe(true);
    expect(h.manager.getWorker('slow')?.resourceId).toBe(rid);
  });
});

describe('resources with our provider id whose labels cannot be read', () => {
  const corrupt = (createdAt: number) => ({
    ...ours('unreadable', createdAt),
    [OWNERSHIP_LABELS.policy]: '{not json',
  });

  it('are reported at recovery and not again by each reconciliation, orphan switch off', async () => {
    const h = lifecycleHarness({ policy: dockerProfile });
    const rid = h.provider.addResource({ labels: corrupt(h.clock.now()) });
    const restarted = h.restart();
    expect((await restarted.recover())._unsafeUnwrap().unreadable).toBe(1);
    await restarted.reconcile();
    await restarted.reconcile();
    expect(h.publisher.ofType('OrphanWorkerDetected')).toEqual([
      expect.objectContaining({
        resourceId: rid,
        workerId: 'unreadable',
        reason: 'UnreadableLabels',
        detail: 'missing or unreadable policy',
        action: 'reported',
      }),
    ]);
    expect(h.provider.has(rid)).toBe(true);
  });

  it('are removed when the orphan action says so, in the reconciliation', async () => {
    const policy = EphemeralWorkerPolicy.builder()
      .orphanDetectionEnabled(false)
      .orphanAction('remove')
      .build()
      ._unsafeUnwrap();
    const h = lifecycleHarness({ policy });
    const rid = h.provider.addResource({ labels: corrupt(h.clock.now()) });
    expect((await h.manager.reconcile())._unsafeUnwrap().orphansRemoved).toBe(1);
    expect(h.provider.has(rid)).toBe(false);
    expect(h.publisher.ofType('OrphanWorkerDetected')).toEqual([
      expect.objectContaining({ resourceId: rid, reason: 'UnreadableLabels', action: 'removed' }),
    ]);
  });
});

describe('recovery after a kill -9 closes the gaps in the event log', () => {
  it('records the Created of a life whose create was cut short, before WorkerRecovered', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const id = asWorkerId('cut-short');
    // An earlier life under the id, ended and cleaned up: its events must not count.
    const first = await h.create({ workerId: id, command: ['sh', '-c', 'sleep 5; exit 0'] });
    await h.advance(s(66));
    await h.manager.runGcCycle();
    expect(h.provider.has(first.resourceId)).toBe(false);
    // The server dies while creating the next life: the resource is there, no event.
    const rid = h.provider.addResource({ labels: ours(id, h.clock.now()) });
    const before = h.publisher.events.length;

    const restarted = h.restart({ history: new RecordedEventHistory(h.publisher) });
    (await restarted.recover())._unsafeUnwrap();
    const after = h.publisher.events.slice(before);
    expect(after.map((e) => e.type)).toEqual(['WorkerEphemeralCreated', 'WorkerRecovered']);
    expect(after[0]).toMatchObject({ actor: 'recovery', resourceId: rid, workerId: id });
    expect(after[1]).toMatchObject({ resourceId: rid, recoveredState: 'busy' });
  });

  it('emits no Created for a life the history has, nor when the history cannot be read', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    await h.create();
    const before = h.publisher.events.length;
    await h.restart({ history: new RecordedEventHistory(h.publisher) }).recover();
    expect(h.publisher.events.slice(before).map((e) => e.type)).toEqual(['WorkerRecovered']);
    const down = h.publisher.events.length;
    await h
      .restart({
        history: {
          lastStateEvents: () => errAsync({ type: 'EventStoreUnavailable', message: 'down' }),
        },
      })
      .recover();
    expect(h.publisher.events.slice(down).map((e) => e.type)).toEqual(['WorkerRecovered']);
  });

  it('records an exit that happened while no server watched, with its exit code', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create();
    h.provider.exit(job.resourceId, 3, { notify: false }); // nobody hears it
    const before = h.publisher.events.length;

    const restarted = h.restart({ history: new RecordedEventHistory(h.publisher) });
    (await restarted.recover())._unsafeUnwrap();
    const after = h.publisher.events.slice(before);
    expect(after.map((e) => e.type)).toEqual(['WorkerRecovered', 'WorkerEphemeralTerminated']);
    expect(after[0]).toMatchObject({ recoveredState: 'busy', resourceId: job.resourceId });
    expect(after[1]).toMatchObject({
      exitCode: 3,
      reason: 'JobCompleted',
      actor: 'recovery',
      resourceId: job.resourceId,
    });
    expect(restarted.getWorker(job.workerId)).toMatchObject({ state: 'terminated', exitCode: 3 });
  });

  it('records no second terminal event when the life had already ended', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const job = await h.create({ command: ['sh', '-c', 'sleep 5; exit 0'] });
    await h.advance(s(5));
    expect(h.manager.getWorker(job.workerId)?.state).toBe('terminated');
    const before = h.publisher.events.length;
    await h.restart({ history: new RecordedEventHistory(h.publisher) }).recover();
    expect(h.publisher.events.slice(before).map((e) => e.type)).toEqual(['WorkerRecovered']);
  });

  it('tells two lives under one id apart by the resource every event carries', async () => {
    const h = lifecycleHarness({ policy: shortPolicy });
    const id = asWorkerId('twice');
    const first = await h.create({ workerId: id, command: ['sh', '-c', 'sleep 5; exit 0'] });
    await h.advance(s(66));
    await h.manager.runGcCycle();
    const second = await h.create({ workerId: id });
    const byLife = (rid: string) =>
      h.publisher.events.filter(
        (e) => 'workerId' in e && e.workerId === id && e.resourceId === rid,
      );
    expect(byLife(first.resourceId).map((e) => e.type)).toContain('WorkerEphemeralCleanedUp');
    expect(byLife(second.resourceId).map((e) => e.type)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
    ]);
    const history = new RecordedEventHistory(h.publisher);
    const life = { workerId: id, resourceId: second.resourceId, createdAt: second.createdAt };
    const last = (await history.lastStateEvents('fake', [life]))._unsafeUnwrap();
    expect(last.get(id)).toMatchObject({
      type: 'WorkerEphemeralBusy',
      resourceId: second.resourceId,
    });
  });
});
