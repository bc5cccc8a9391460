import { ResultAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { dockerProfile } from '../policy/profiles.js';
import type {
  WorkerHandle,
  WorkerProviderError,
  WorkerSpec,
} from '../ports/worker-provider.port.js';
import { InMemoryWorkerProvider } from '../testing/in-memory-worker-provider.js';
import { asWorkerId, lifecycleHarness } from '../testing/lifecycle-harness.js';

const s = (seconds: number) => seconds * 1000;

const spec = (workerId: string, policy = dockerProfile): WorkerSpec => ({
  workerId: asWorkerId(workerId),
  mode: 'job',
  image: 'hodei/worker:test',
  policy,
});

/** Its next create makes the resource and then throws, or rejects (a port with a bug). */
class ThrowingCreates extends InMemoryWorkerProvider {
  next: 'throw' | 'reject' | undefined;
  override createWorker(spec: WorkerSpec): ResultAsync<WorkerHandle, WorkerProviderError> {
    const made = super.createWorker(spec);
    const how = this.next;
    this.next = undefined;
    if (how === 'throw') throw new Error('driver bug');
    if (how === 'reject') {
      return new ResultAsync(
        (async () => {
          await made;
          throw new Error('socket hang up');
        })(),
      );
    }
    return made;
  }
}

/** Its next create makes the resource at once and answers when `answer()` is called. */
class SlowAnswers extends InMemoryWorkerProvider {
  answer: () => void = () => undefined;
  slowNext = false;
  override createWorker(spec: WorkerSpec): ResultAsync<WorkerHandle, WorkerProviderError> {
    const made = super.createWorker(spec);
    if (!this.slowNext) return made;
    this.slowNext = false;
    const answered = new Promise<void>((resolve) => (this.answer = resolve));
    return new ResultAsync(answered.then(() => made));
  }
}

describe('a create whose provider throws or rejects instead of returning Err', () => {
  it.each(['throw', 'reject'] as const)(
    'answers Err on a %s, ends its attempt, and has what it left removed',
    async (how) => {
      const h = lifecycleHarness({
        policy: dockerProfile, // orphan detection off
        provider: (id, clock) => new ThrowingCreates(id, clock),
      });
      (h.provider as ThrowingCreates).next = how;
      const created = await h.managed.createWorker(spec('thrown'));
      expect(created.isErr() && created.error.type).toBe('ProviderFailure');
      expect(h.manager.createAttempts.isInFlight('thrown')).toBe(false);
      await h.manager.reconcile();
      expect(h.provider.resourceIds()).toEqual([]);
      expect(h.publisher.ofType('OrphanWorkerDetected')).toEqual([
        expect.objectContaining({ workerId: 'thrown', reason: 'FailedCreate', action: 'removed' }),
      ]);
    },
  );
});

describe('a failed re-create while an older life of the id is still tracked', () => {
  const policy = EphemeralWorkerPolicy.builder()
    .maxLifetime(s(600))
    .idleTimeout(s(600))
    .ttlAfterCompletion(s(60))
    .gracefulTerminationTimeout(s(10))
    .orphanDetectionEnabled(false)
    .build()
    ._unsafeUnwrap();

  it('has its leftover removed, and the tracked life left alone', async () => {
    const h = lifecycleHarness({ policy });
    const w = await h.create({ mode: 'agent', policy });
    // Removed behind our back: tracked (lost, terminated) for its retention.
    h.provider.vanish(w.resourceId, { notify: true });
    await h.manager.whenIdle();
    expect(h.manager.getWorker(w.workerId)?.state).toBe('terminated');
    // Re-created under the id: tracking refuses the new resource, whose removal fails too.
    h.provider.failNext('destroyWorker');
    expect(
      (await h.managed.createWorker({ ...spec(w.workerId, policy), mode: 'agent' })).isErr(),
    ).toBe(true);
    const [left] = h.provider.resourceIds();
    expect(left).toBeDefined();

    await h.manager.reconcile();
    expect(h.provider.has(left!)).toBe(false);
    expect(h.manager.getWorker(w.workerId)?.resourceId).toBe(w.resourceId);
    expect(h.publisher.ofType('OrphanWorkerDetected')).toEqual([
      expect.objectContaining({ resourceId: left, reason: 'FailedCreate', action: 'removed' }),
    ]);
  });

  it('has it removed by the orphan sweep when no attempt is known (after a restart)', async () => {
    const sweeping = EphemeralWorkerPolicy.builder(policy)
      .orphanDetectionEnabled(true)
      .orphanGracePeriod(0)
      .orphanAction('remove')
      .build()
      ._unsafeUnwrap();
    const h = lifecycleHarness({ policy: sweeping });
    const w = await h.create({ mode: 'agent', policy: sweeping });
    h.provider.vanish(w.resourceId, { notify: true });
    await h.manager.whenIdle();
    h.provider.failNext('destroyWorker');
    await h.managed.createWorker({ ...spec(w.workerId, sweeping), mode: 'agent' });
    const [left] = h.provider.resourceIds();
    // The attempt is forgotten (as after a restart); only the sweep can find the leftover.
    h.manager.createAttempts.drop(w.workerId);
    await h.advance(s(1));
    expect((await h.manager.reconcile())._unsafeUnwrap().orphansRemoved).toBe(1);
    expect(h.provider.has(left!)).toBe(false);
    expect(h.manager.getWorker(w.workerId)?.resourceId).toBe(w.resourceId);
  });
});

describe('a recovery while a create is in flight', () => {
  it.each([
    ['a start', false],
    ['a refreshing', true],
  ] as const)(
    '%s one leaves the resource to the create: nothing removed, nothing lost',
    async (_, refresh) => {
      const h = lifecycleHarness({
        policy: dockerProfile,
        provider: (id, clock) => new SlowAnswers(id, clock),
      });
      const provider = h.provider as SlowAnswers;
      provider.slowNext = true;
      const creating = h.managed.createWorker({ ...spec('racing'), mode: 'agent' });
      const [rid] = provider.resourceIds();
      // Another recovery (the provider lock came back, say) while the create waits.
      expect((await h.manager.recover({ refresh })).isOk()).toBe(true);
      provider.answer();
      expect((await creating).isOk()).toBe(true);
      await h.manager.whenIdle();
      await h.manager.reconcile();
      expect(h.manager.getWorker('racing')?.resourceId).toBe(rid);
      expect(provider.has(rid!)).toBe(true);
      expect(h.publisher.ofType('WorkerLost')).toEqual([]);
    },
  );
});
