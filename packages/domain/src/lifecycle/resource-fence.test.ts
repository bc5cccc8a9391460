import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { lifecycleHarness, type LifecycleHarness } from '../testing/lifecycle-harness.js';
import { FORCE_REMOVE_MARGIN } from './deadlines.js';
import { newLifecycleCounters } from './lifecycle-counters.js';
import type { OperationContext } from './lifecycle-event-emitter.js';
import { Transitions } from './transitions.js';
import { WorkerRegistry } from './worker-registry.js';

const s = (seconds: number) => seconds * 1000;
const GRACE = s(30);
const TTL = s(60);

const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(s(600))
  .idleTimeout(s(600))
  .ttlAfterCompletion(TTL)
  .gracefulTerminationTimeout(GRACE)
  .build()
  ._unsafeUnwrap();

/** Lets queued promise callbacks run (a held call's follow-ups) without moving any clock. */
async function flush(times = 20): Promise<void> {
  for (let i = 0; i < times; i++) await Promise.resolve();
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await flush();
  expect(condition()).toBe(true);
}

/** The worker's events since the creation of its resource `resourceId` (that life). */
function eventsOf(h: LifecycleHarness, workerId: string, resourceId: string): string[] {
  const ofWorker = h.publisher.events.filter((e) => 'workerId' in e && e.workerId === workerId);
  const start = ofWorker.findIndex(
    (e) => e.type === 'WorkerEphemeralCreated' && e.resourceId === resourceId,
  );
  expect(start).toBeGreaterThanOrEqual(0);
  return ofWorker.slice(start).map((e) => e.type);
}

describe('operations fenced by the resource they started on', () => {
  it('a slow GC stop of a worker deleted and re-created meanwhile leaves the new worker alone', async () => {
    const h = lifecycleHarness({ policy });
    const first = await h.create({ mode: 'job' });
    h.provider.holdNext('stopWorker');
    await h.advance(s(601));
    await h.manager.runGcCycle();
    await until(() => h.provider.held.length === 1);
    expect(h.manager.getWorker(first.workerId)?.state).toBe('terminating');

    // DELETE: removed and cleaned up while the stop is still out.
    const deleted = await h.managed.destroyWorker(first);
    expect(deleted.isOk()).toBe(true);
    expect(h.manager.getWorker(first.workerId)).toBeUndefined();
    const second = await h.create({ mode: 'job', workerId: first.workerId });

    await h.provider.releaseAll();
    await h.manager.whenStopsSettled();
    await h.manager.whenIdle();
    expect(h.manager.getWorker(first.workerId)).toMatchObject({
      resourceId: second.resourceId,
      state: 'busy',
    });
    // The TTL rule of the old life never comes for the new one.
    await h.advance(TTL + GRACE + 1);
    await h.manager.runGcCycle();
    expect(h.provider.has(second.resourceId)).toBe(true);
    expect(h.manager.getWorker(first.workerId)?.state).toBe('busy');
    expect(eventsOf(h, first.workerId, second.resourceId)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralBusy',
    ]);
  });

  it('a destroy whose removal is slow never ends the worker re-created under its id', async () => {
    const h = lifecycleHarness({ policy });
    const first = await h.create({ mode: 'agent' });
    h.provider.holdNext('destroyWorker');
    const destroying = h.managed.destroyWorker(first);
    await until(() => h.provider.held.length === 1);

    // Its life ends without that call: force-removed, then cleaned up past its retention.
    await h.advance(GRACE + FORCE_REMOVE_MARGIN + 1);
    await h.manager.runGcCycle();
    await h.advance(TTL + 1);
    await h.manager.runGcCycle();
    expect(h.manager.getWorker(first.workerId)).toBeUndefined();
    const second = await h.create({ mode: 'agent', workerId: first.workerId });

    await h.provider.releaseAll();
    const destroyed = await destroying;
    await h.manager.whenIdle();
    // The life it targeted is gone: done, and the new life is untouched.
    expect(destroyed.isOk()).toBe(true);
    expect(h.manager.getWorker(first.workerId)).toMatchObject({
      resourceId: second.resourceId,
      state: 'ready',
    });
    expect(h.provider.has(second.resourceId)).toBe(true);
    expect(eventsOf(h, first.workerId, second.resourceId)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
    ]);
  });

  it('a destroy called with the handle of a replaced life does not touch the new one', async () => {
    const h = lifecycleHarness({ policy });
    const first = await h.create({ mode: 'agent' });
    (await h.managed.destroyWorker(first))._unsafeUnwrap();
    const second = await h.create({ mode: 'agent', workerId: first.workerId });

    // A background DELETE of the first life whose turn comes now.
    const late = await h.managed.destroyWorker(first);
    await h.manager.whenIdle();
    expect(late.isOk()).toBe(true);
    expect(h.provider.has(second.resourceId)).toBe(true);
    expect(h.manager.getWorker(first.workerId)?.state).toBe('ready');
  });

  it('a transition or cleanup fenced by another resource is refused with WorkerReplaced', async () => {
    const h = lifecycleHarness({ policy });
    const w = await h.create({ mode: 'agent' });
    const fenced = { actor: 'api' as const, resourceId: 'some-older-resource' };
    expect((await h.manager.markWorkerBusy(w.workerId, fenced))._unsafeUnwrapErr()).toMatchObject({
      type: 'WorkerReplaced',
      workerId: w.workerId,
      resourceId: 'some-older-resource',
    });
    (
      await h.manager.markWorkerTerminated(w.workerId, { exitCode: 0, forced: false })
    )._unsafeUnwrap();
    expect(
      (await h.manager.cleanupWorker(w.workerId, 'ForceCleanup', fenced))._unsafeUnwrapErr(),
    ).toMatchObject({ type: 'WorkerReplaced' });
    expect(h.manager.getWorker(w.workerId)?.state).toBe('terminated');
    // An untracked worker stays not found, fenced or not.
    expect((await h.manager.markWorkerBusy('nobody', fenced))._unsafeUnwrapErr()).toMatchObject({
      type: 'WorkerNotFound',
    });
    // The right resource passes the fence.
    const own = { resourceId: w.resourceId };
    (await h.manager.cleanupWorker(w.workerId, 'ForceCleanup', own))._unsafeUnwrap();
  });

  it('tells the event of a cleanup which life it ends, though the worker is no longer tracked', async () => {
    const h = lifecycleHarness({ policy });
    const w = await h.create({ mode: 'agent' });
    (
      await h.manager.markWorkerTerminated(w.workerId, { exitCode: 0, forced: false })
    )._unsafeUnwrap();
    const seen: (OperationContext | undefined)[] = [];
    const registry = new WorkerRegistry();
    registry.store(h.manager.getWorker(w.workerId)!);
    const transitions = new Transitions({
      providerId: h.manager.providerId,
      policy,
      registry,
      events: {
        publish: () => Promise.resolve(),
        workerMeta: (workerId, ctx) => {
          seen.push(ctx);
          return { eventId: 'e', occurredAt: '', providerId: h.manager.providerId, workerId };
        },
      },
      clock: h.clock,
      counters: newLifecycleCounters(),
    });
    (
      await transitions.cleanUp(w.workerId, 'ForceCleanup', { actor: 'api' }, undefined)
    )._unsafeUnwrap();
    expect(seen).toEqual([{ actor: 'api', resourceId: w.resourceId }]);
  });
});
