import { describe, expect, it } from 'vitest';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { lifecycleHarness } from '../testing/lifecycle-harness.js';
import { FORCE_REMOVE_MARGIN } from './deadlines.js';

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

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !condition(); i++) await Promise.resolve();
  expect(condition()).toBe(true);
}

describe('resources removed behind our back', () => {
  it('reports a worker whose container was removed by force (exit 137, then removed) as lost, once', async () => {
    const h = lifecycleHarness({ policy });
    const w = await h.create({ mode: 'agent' });
    // `docker rm -f`: the watch says exited (137), then removed.
    h.provider.exit(w.resourceId, 137);
    h.provider.vanish(w.resourceId, { notify: true });
    await h.manager.whenIdle();
    (await h.manager.reconcile())._unsafeUnwrap();
    (await h.manager.reconcile())._unsafeUnwrap();

    expect(h.publisher.ofType('WorkerLost')).toMatchObject([
      { workerId: w.workerId, resourceId: w.resourceId, lastKnownState: 'terminated' },
    ]);
    expect(h.publisher.ofType('WorkerEphemeralTerminated')).toMatchObject([{ exitCode: 137 }]);
    expect(h.manager.counters.lostWorkers).toBe(1);
    // Tracked for its retention; the cleanup's removal of what is gone is no failure.
    expect(h.manager.getWorker(w.workerId)?.state).toBe('terminated');
    await h.advance(TTL + 1);
    const stats = (await h.manager.runGcCycle())._unsafeUnwrap();
    expect(stats).toMatchObject({ ttlExpired: 1, errors: 0 });
    expect(h.manager.getWorker(w.workerId)).toBeUndefined();
    expect(h.publisher.typesFor(w.workerId)).toEqual([
      'WorkerEphemeralCreated',
      'WorkerEphemeralReady',
      'WorkerEphemeralTerminated',
      'WorkerLost',
      'WorkerEphemeralCleanedUp',
    ]);
  });

  it("never calls lost a finished worker whose resource the provider removed at the end of its retention (a Job's ttlSecondsAfterFinished)", async () => {
    const h = lifecycleHarness({ policy });
    const early = await h.create({ mode: 'agent' });
    const late = await h.create({ mode: 'agent' });
    h.provider.exit(early.resourceId, 0);
    h.provider.exit(late.resourceId, 0);
    await h.manager.whenIdle();
    // One is removed well before its retention ends (lost), the other as it ends (expected).
    await h.advance(TTL / 2);
    h.provider.vanish(early.resourceId, { notify: true });
    await h.manager.whenIdle();
    await h.advance(TTL / 2 - 1_000);
    h.provider.vanish(late.resourceId, { notify: true });
    await h.manager.whenIdle();
    (await h.manager.reconcile())._unsafeUnwrap();

    expect(h.publisher.ofType('WorkerLost')).toMatchObject([{ workerId: early.workerId }]);
  });

  it('never calls lost a finished worker whose removal by a destroy is under way', async () => {
    const h = lifecycleHarness({ policy });
    const w = await h.create({ command: ['sh', '-c', 'exit 0'] });
    await h.advance(1);
    expect(h.manager.getWorker(w.workerId)?.state).toBe('terminated');
    h.provider.holdNext('destroyWorker');
    const destroying = h.managed.destroyWorker(w);
    await until(() => h.provider.held.length === 1);
    await h.provider.releaseAll();
    // The removal's own notification comes before the destroy's cleanup.
    await h.manager.whenIdle();
    (await destroying)._unsafeUnwrap();
    expect(h.publisher.ofType('WorkerLost')).toEqual([]);
    expect(h.manager.getWorker(w.workerId)).toBeUndefined();
  });

  it('never calls lost a worker the force-remove rule removed', async () => {
    const h = lifecycleHarness({ policy });
    const w = await h.create({ mode: 'agent' });
    h.provider.holdNext('stopWorker'); // PID 1 ignores SIGTERM: the stop never returns
    await h.advance(s(601));
    await h.manager.runGcCycle();
    await h.advance(GRACE + FORCE_REMOVE_MARGIN + 1);
    expect((await h.manager.runGcCycle())._unsafeUnwrap().forceTerminated).toBe(1);
    await h.manager.whenIdle();
    (await h.manager.reconcile())._unsafeUnwrap();
    await h.provider.releaseAll();
    await h.manager.whenStopsSettled();
    (await h.manager.reconcile())._unsafeUnwrap();
    expect(h.publisher.ofType('WorkerLost')).toEqual([]);
    expect(h.manager.getWorker(w.workerId)?.state).toBe('terminated');
  });
});
