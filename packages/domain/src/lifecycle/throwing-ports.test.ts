import { okAsync, type ResultAsync } from 'neverthrow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../events/lifecycle-event.js';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import type { LifecycleEventPublisher, PublishError } from '../ports/event-publisher.port.js';
import type {
  DestroyOptions,
  WorkerHandle,
  WorkerProviderError,
} from '../ports/worker-provider.port.js';
import { InMemoryWorkerProvider } from '../testing/in-memory-worker-provider.js';
import { lifecycleHarness } from '../testing/lifecycle-harness.js';
import { ManualClock } from '../testing/manual-clock.js';
import { SequentialIdGenerator } from '../testing/sequential-id-generator.js';
import type { ProviderId } from '../worker/ids.js';
import { LifecycleManager } from './lifecycle-manager.js';
import { JoinedPass } from './pass-queue.js';

const s = (seconds: number) => seconds * 1000;

const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .idleTimeout(s(600))
  .ttlAfterCompletion(s(60))
  .gracefulTerminationTimeout(s(30))
  .build()
  ._unsafeUnwrap();

/** A publisher with a bug: it throws instead of returning `Err`. */
class ThrowingPublisher implements LifecycleEventPublisher {
  throwing = false;
  readonly events: LifecycleEvent[] = [];
  publish(event: LifecycleEvent): ResultAsync<void, PublishError> {
    if (this.throwing) throw new Error('publisher bug');
    this.events.push(event);
    return okAsync(undefined);
  }
  publishBatch(events: readonly LifecycleEvent[]): ResultAsync<void, PublishError> {
    for (const e of events) this.publish(e);
    return okAsync(undefined);
  }
  close(): ResultAsync<void, PublishError> {
    return okAsync(undefined);
  }
}

/** A provider whose stop of one worker throws (a driver bug), once. */
class ThrowingStopProvider extends InMemoryWorkerProvider {
  throwFor: string | undefined;
  override stopWorker(
    handle: WorkerHandle,
    options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    if (handle.workerId === this.throwFor) {
      this.throwFor = undefined;
      throw new Error('driver bug');
    }
    return super.stopWorker(handle, options);
  }
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});
/** Long enough for Node to report a rejection nobody handled. */
const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('ports that throw instead of returning an error', () => {
  it('ends every busy worker past its lifetime although the publisher throws', async () => {
    const clock = new ManualClock();
    const provider = new InMemoryWorkerProvider('fake' as ProviderId, clock);
    const publisher = new ThrowingPublisher();
    const manager = new LifecycleManager({
      provider,
      publisher,
      clock,
      ids: new SequentialIdGenerator(),
      policy,
    });
    manager.startWatching();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const made = await provider.createWorker({
        workerId: `w-${i}` as never,
        mode: 'job',
        image: 'img',
        command: ['sleep', 'infinity'],
        policy,
      });
      const handle = made._unsafeUnwrap();
      (
        await manager.initializeWorker(handle, {
          workerId: handle.workerId,
          mode: 'job',
          image: 'img',
          policy,
        })
      )._unsafeUnwrap();
      (await manager.markWorkerReady(handle.workerId))._unsafeUnwrap();
      (await manager.markWorkerBusy(handle.workerId))._unsafeUnwrap();
      ids.push(handle.workerId);
    }
    publisher.throwing = true;
    clock.advance(s(601));
    for (let pass = 0; pass < 3; pass++) {
      expect((await manager.runGcCycle()).isOk()).toBe(true);
      await manager.whenStopsSettled();
      await manager.whenIdle();
    }
    for (const id of ids) expect(manager.getWorker(id)?.state).toBe('terminated');
    expect(manager.counters.publishFailures).toBeGreaterThan(0);
    await macrotask();
    expect(unhandled).toEqual([]);
  });

  it('acts on the other due workers and retries the one whose provider call threw', async () => {
    const h = lifecycleHarness({
      policy,
      provider: (id, clock) => new ThrowingStopProvider(id, clock),
    });
    const provider = h.provider as ThrowingStopProvider;
    const handles = [await h.create(), await h.create(), await h.create()];
    provider.throwFor = handles[1]!.workerId;
    await h.advance(s(601));
    await h.manager.runGcCycle();
    await h.manager.whenStopsSettled();
    await h.manager.whenIdle();
    expect(h.manager.getWorker(handles[0]!.workerId)?.state).toBe('terminated');
    expect(h.manager.getWorker(handles[2]!.workerId)?.state).toBe('terminated');
    // The stop that threw is counted; its worker is not forgotten: force-removed in time.
    await h.advance(s(61));
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats.forceTerminated).toBe(1);
    expect(h.manager.getWorker(handles[1]!.workerId)?.state).toBe('terminated');
    await macrotask();
    expect(unhandled).toEqual([]);
  });

  it('answers a pass that throws with an error, never a rejection', async () => {
    const h = lifecycleHarness({ policy });
    h.provider.listManagedWorkers = () => {
      throw new Error('driver bug');
    };
    const reconciled = await h.manager.reconcile();
    expect(reconciled._unsafeUnwrapErr()).toMatchObject({
      type: 'ProviderFailure',
      operation: 'reconciliation',
    });
    // A watch gap's reconciliation that throws is logged, not left to reject.
    h.provider.resync();
    await h.manager.whenIdle();
    await macrotask();
    expect(unhandled).toEqual([]);
    expect(h.manager.counters.thrown).toBe(2);
  });

  it('leaves no unhandled rejection behind a joined pass that rejects', async () => {
    const pass = new JoinedPass(() => Promise.reject(new Error('pass threw')));
    await expect(pass.run()).rejects.toThrow('pass threw');
    await macrotask();
    expect(unhandled).toEqual([]);
  });
});
