import { errAsync, type ResultAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import type {
  DestroyOptions,
  WorkerHandle,
  WorkerProviderError,
} from '../ports/worker-provider.port.js';
import { InMemoryWorkerProvider } from '../testing/in-memory-worker-provider.js';
import { lifecycleHarness } from '../testing/lifecycle-harness.js';

const s = (seconds: number) => seconds * 1000;
const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .idleTimeout(s(600))
  .ttlAfterCompletion(s(60))
  .gracefulTerminationTimeout(s(30))
  .build()
  ._unsafeUnwrap();

const replyLost: WorkerProviderError = {
  type: 'ProviderFailure',
  operation: 'destroyWorker',
  message: 'socket hang up',
  retryable: true,
};

/** Its next destroy removes the resource, or not, and answers an error either way. */
class LostReplies extends InMemoryWorkerProvider {
  next: 'removed' | 'kept' | undefined;
  override destroyWorker(
    handle: WorkerHandle,
    options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    const how = this.next;
    this.next = undefined;
    if (how === 'kept') return errAsync(replyLost);
    const removed = super.destroyWorker(handle, options);
    return how === 'removed' ? removed.andThen(() => errAsync(replyLost)) : removed;
  }
}

const finishedWorker = async () => {
  const h = lifecycleHarness({ policy, provider: (id, clock) => new LostReplies(id, clock) });
  const w = await h.create({ command: ['sh', '-c', 'exit 0'] });
  await h.advance(1);
  expect(h.manager.getWorker(w.workerId)?.state).toBe('terminated');
  return { h, w, provider: h.provider as LostReplies };
};

describe('a removal of ours whose reply is lost', () => {
  it('is never reported as WorkerLost when the provider did remove the resource', async () => {
    const { h, w, provider } = await finishedWorker();
    provider.next = 'removed';
    expect((await h.managed.destroyWorker(w)).isErr()).toBe(true);
    expect(provider.has(w.resourceId)).toBe(false);
    await h.manager.whenIdle();
    await h.manager.reconcile();
    await h.manager.reconcile();
    expect(h.publisher.ofType('WorkerLost')).toEqual([]);
  });

  it('lets a later loss be reported when the provider still shows the resource', async () => {
    const { h, w, provider } = await finishedWorker();
    provider.next = 'kept';
    expect((await h.managed.destroyWorker(w)).isErr()).toBe(true);
    provider.vanish(w.resourceId); // then `docker rm -f` behind our back
    await h.manager.reconcile();
    expect(h.publisher.ofType('WorkerLost')).toEqual([
      expect.objectContaining({ workerId: w.workerId, resourceId: w.resourceId }),
    ]);
  });

  it('lets a later loss be reported once a listing shows the resource, status unknown', async () => {
    const { h, w, provider } = await finishedWorker();
    provider.next = 'kept';
    provider.failNext('getWorkerStatus');
    expect((await h.managed.destroyWorker(w)).isErr()).toBe(true);
    await h.manager.reconcile(); // still listed: the removal did not happen
    provider.vanish(w.resourceId);
    await h.manager.reconcile();
    expect(h.publisher.ofType('WorkerLost')).toEqual([
      expect.objectContaining({ workerId: w.workerId, resourceId: w.resourceId }),
    ]);
  });

  it('is not taken for a loss while no listing has shown the resource, status unknown', async () => {
    const { h, w, provider } = await finishedWorker();
    provider.next = 'removed';
    provider.failNext('getWorkerStatus');
    expect((await h.managed.destroyWorker(w)).isErr()).toBe(true);
    await h.manager.reconcile();
    expect(h.publisher.ofType('WorkerLost')).toEqual([]);
  });
});
