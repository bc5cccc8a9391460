import {
  EphemeralWorkerPolicy,
  silentLogger,
  type GarbageCollectionStats,
  type ProviderId,
} from '@hodei/domain';
import { lifecycleHarness, ManualClock } from '@hodei/domain/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ProviderEntry } from '../workers/provider-entry.js';
import { PassScheduler } from './pass-scheduler.js';
import { RecoveryGate } from './recovery-gate.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');

/** Lifetime 600 s, warned 10 s before: at 590 s, between the 30 s passes of 570 s and 600 s. */
const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(600_000)
  .ttlAfterCompletion(60_000)
  .idleTimeout(120_000)
  .gracefulTerminationTimeout(10_000)
  .startupTimeout(30_000)
  .expiryWarning(10_000)
  .build()
  ._unsafeUnwrap();

/** A clock that follows vitest's fake timers, so the manager and the timers share one time. */
class FakeTimerClock extends ManualClock {
  override now(): number {
    return Date.now();
  }
}

/** One provider entry over the domain's fakes, and a scheduler of its passes. */
function scheduled(mayRun: () => boolean = () => true) {
  vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const h = lifecycleHarness({ policy, clock: new FakeTimerClock() });
  const entry: ProviderEntry = {
    id: 'fake' as ProviderId,
    kind: 'docker',
    provider: h.provider,
    policy,
    lifecycle: {
      manager: h.manager,
      managed: h.managed,
      recovery: new RecoveryGate('fake', h.manager, silentLogger),
    },
  };
  const gc: GarbageCollectionStats[] = [];
  const scheduler = new PassScheduler(
    [entry],
    { gcIntervalMs: 30_000, reconcileIntervalMs: 3_600_000 },
    { gc: (_provider, stats) => gc.push(stats), reconcile: () => undefined },
    silentLogger,
    mayRun,
  );
  return { h, scheduler, gc };
}

describe('PassScheduler: the deadline pass at the next due time (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends a warning due between two intervals before its deadline', async () => {
    const { h, scheduler } = scheduled();
    const job = await h.create();
    scheduler.start();
    await vi.advanceTimersByTimeAsync(599_000);
    expect(h.publisher.ofType('WorkerEphemeralExpiring')).toMatchObject([
      {
        workerId: job.workerId,
        rule: 'lifetime',
        at: new Date(T0 + 600_000).toISOString(),
        occurredAt: new Date(T0 + 590_000).toISOString(),
      },
    ]);
    expect(h.manager.getWorker(job.workerId)?.state).toBe('busy');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.manager.getWorker(job.workerId)?.state).not.toBe('busy');
    await scheduler.stop();
  });

  it('wakes for a deadline filed while it sleeps, earlier than its wake', async () => {
    const { h, scheduler } = scheduled();
    scheduler.start();
    await vi.advanceTimersByTimeAsync(1_000);
    const short = EphemeralWorkerPolicy.builder(policy)
      .maxLifetime(5_000)
      .startupTimeout(2_000)
      .idleTimeout(4_000)
      .expiryWarning(0)
      .build()
      ._unsafeUnwrap();
    const job = await h.create({ policy: short });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(h.publisher.ofType('WorkerEphemeralTerminating')).toMatchObject([
      { workerId: job.workerId, reason: 'LifetimeExceeded' },
    ]);
    await scheduler.stop();
  });

  it('waits the whole interval, not the due time, while this server may not reap', async () => {
    let asked = 0;
    const { h, scheduler, gc } = scheduled(() => {
      asked += 1;
      return false;
    });
    await h.create();
    await vi.advanceTimersByTimeAsync(590_000); // the warning is due from now on
    scheduler.start();
    await vi.advanceTimersByTimeAsync(59_000);
    // Woken once for the due time (after the 1 s gap), then on the interval: not every second.
    expect(asked).toBe(2);
    expect(gc).toEqual([]);
    await scheduler.stop();
  });

  it('runs no pass after stop()', async () => {
    const { h, scheduler, gc } = scheduled();
    await h.create();
    scheduler.start();
    await vi.advanceTimersByTimeAsync(60_000);
    await scheduler.stop();
    const passes = gc.length;
    expect(passes).toBeGreaterThan(0);
    const short = { maxLifetime: 5_000, startupTimeout: 2_000, idleTimeout: 4_000 };
    await h.create({ policy: EphemeralWorkerPolicy.merge(policy, short)._unsafeUnwrap() });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(gc).toHaveLength(passes);
  });
});
