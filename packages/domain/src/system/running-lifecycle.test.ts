import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GarbageCollectionStats } from '../events/gc-stats.js';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { wireLifecycle } from '../provider/wire-lifecycle.js';
import { lifecycleHarness } from '../testing/lifecycle-harness.js';
import { ManualClock } from '../testing/manual-clock.js';
import { runnable } from './running-lifecycle.js';

const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(600_000)
  .ttlAfterCompletion(60_000)
  .idleTimeout(120_000)
  .gracefulTerminationTimeout(10_000)
  .startupTimeout(30_000)
  .build()
  ._unsafeUnwrap();

/** A finished job left by an earlier process, and a restarted lifecycle over it. */
async function afterRestart() {
  const h = lifecycleHarness({ policy });
  const handle = await h.create({ command: ['sh', '-c', 'echo hi; sleep 1; exit 0'] });
  await h.advance(1_000);
  const lifecycle = runnable(
    wireLifecycle(h.restart(), { provider: h.provider, publisher: h.publisher })._unsafeUnwrap(),
  );
  return { h, handle, lifecycle };
}

describe('a lifecycle that runs its own passes (library use)', () => {
  it('recovers at start, then cleans a finished worker up once its TTL is over', async () => {
    const { h, handle, lifecycle } = await afterRestart();
    const passes: GarbageCollectionStats[] = [];
    const report = await lifecycle.start({
      gcIntervalMs: 5,
      reconcileIntervalMs: 5,
      onGc: (stats) => passes.push(stats),
    });
    expect(report._unsafeUnwrap()?.recovered).toBe(1);
    expect(lifecycle.manager.getWorker(handle.workerId)?.state).toBe('terminated');

    h.clock.advance(61_000);
    await vi.waitFor(() => expect(passes.some((p) => p.workersCleaned === 1)).toBe(true));
    await vi.waitFor(() => expect(h.provider.has(handle.resourceId)).toBe(false));
    await lifecycle.close();
  });

  it('runs no pass after close(), and start() after close() is refused', async () => {
    const { lifecycle } = await afterRestart();
    let passes = 0;
    await lifecycle.start({ gcIntervalMs: 5, reconcileIntervalMs: 5, onGc: () => (passes += 1) });
    await vi.waitFor(() => expect(passes).toBeGreaterThan(0));
    await lifecycle.close();
    const afterClose = passes;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(passes).toBe(afterClose);
    expect((await lifecycle.start())._unsafeUnwrapErr().type).toBe('LifecycleAlreadyStarted');
  });

  it('refuses a second start() and skips recovery with recover: false', async () => {
    const { handle, lifecycle } = await afterRestart();
    const report = await lifecycle.start({ recover: false });
    expect(report._unsafeUnwrap()).toBeUndefined();
    expect(lifecycle.manager.getWorker(handle.workerId)).toBeUndefined();
    expect((await lifecycle.start())._unsafeUnwrapErr().type).toBe('LifecycleAlreadyStarted');
    await lifecycle.close();
  });

  it('goes on when a callback throws, without an unhandled rejection', async () => {
    const { lifecycle } = await afterRestart();
    let passes = 0;
    await lifecycle.start({
      gcIntervalMs: 5,
      onGc: () => {
        passes += 1;
        throw new Error('a caller bug');
      },
    });
    await vi.waitFor(() => expect(passes).toBeGreaterThan(2));
    await lifecycle.close();
  });

  it('closes with `await using`', async () => {
    const { lifecycle } = await afterRestart();
    let passes = 0;
    {
      await using running = lifecycle;
      await running.start({ gcIntervalMs: 5, onGc: () => (passes += 1) });
      await vi.waitFor(() => expect(passes).toBeGreaterThan(0));
    }
    const afterDispose = passes;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(passes).toBe(afterDispose);
  });
});

/** A clock that follows vitest's fake timers, so the manager and the timers share one time. */
class FakeTimerClock extends ManualClock {
  override now(): number {
    return Date.now();
  }
}

describe('the deadline pass woken at the next due time (fake timers)', () => {
  const T0 = Date.parse('2025-01-01T00:00:00.000Z');
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A lifecycle over a fresh harness whose clock is the fake timers'. */
  function fakeTimed(p: typeof policy) {
    vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const h = lifecycleHarness({ policy: p, clock: new FakeTimerClock() });
    const lifecycle = runnable(
      wireLifecycle(h.restart(), { provider: h.provider, publisher: h.publisher })._unsafeUnwrap(),
    );
    return { h, lifecycle };
  }

  it('sends a warning due between two intervals before its deadline', async () => {
    // Lifetime 600 s, warned 10 s before: at 590 s, between the passes of 570 s and 600 s.
    const warned = EphemeralWorkerPolicy.builder(policy)
      .maxLifetime(600_000)
      .expiryWarning(10_000)
      .build()
      ._unsafeUnwrap();
    const { h, lifecycle } = fakeTimed(warned);
    const job = await h.create();
    (
      await lifecycle.start({ gcIntervalMs: 30_000, reconcileIntervalMs: 3_600_000 })
    )._unsafeUnwrap();

    await vi.advanceTimersByTimeAsync(599_000);
    expect(h.publisher.ofType('WorkerEphemeralExpiring')).toMatchObject([
      {
        workerId: job.workerId,
        rule: 'lifetime',
        at: new Date(T0 + 600_000).toISOString(),
        occurredAt: new Date(T0 + 590_000).toISOString(),
      },
    ]);
    expect(lifecycle.manager.getWorker(job.workerId)?.state).toBe('busy');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(lifecycle.manager.getWorker(job.workerId)?.state).not.toBe('busy');
    await lifecycle.close();
  });

  it('wakes for a deadline filed while it sleeps, earlier than its wake', async () => {
    const { h, lifecycle } = fakeTimed(policy);
    (
      await lifecycle.start({ gcIntervalMs: 30_000, reconcileIntervalMs: 3_600_000 })
    )._unsafeUnwrap();
    await vi.advanceTimersByTimeAsync(1_000);
    // Nothing tracked: the loop sleeps the whole interval. A short-lived worker arrives.
    const short = EphemeralWorkerPolicy.builder(policy)
      .maxLifetime(5_000)
      .startupTimeout(2_000)
      .idleTimeout(4_000)
      .build()
      ._unsafeUnwrap();
    const created = await lifecycle.provider.createWorker({
      workerId: h.ids.workerId(),
      mode: 'job',
      image: 'hodei/worker:test',
      command: ['sleep', 'infinity'],
      policy: short,
    });
    const handle = created._unsafeUnwrap();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(lifecycle.manager.getWorker(handle.workerId)?.state).not.toBe('busy');
    expect(h.publisher.ofType('WorkerEphemeralTerminating')).toMatchObject([
      { workerId: handle.workerId, reason: 'LifetimeExceeded' },
    ]);
    await lifecycle.close();
  });

  it('waits at least a second between passes when a due time is past (a retry)', async () => {
    const { h, lifecycle } = fakeTimed(policy);
    await h.create();
    let passes = 0;
    (
      await lifecycle.start({
        gcIntervalMs: 30_000,
        reconcileIntervalMs: 3_600_000,
        onGc: () => (passes += 1),
      })
    )._unsafeUnwrap();
    // The warning (due at 540 s) cannot be published: each pass leaves it due at once.
    h.publisher.failWith();
    await vi.advanceTimersByTimeAsync(545_000);
    const before = passes;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(passes - before).toBeGreaterThanOrEqual(1);
    expect(passes - before).toBeLessThanOrEqual(10);
    h.publisher.recover();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.publisher.ofType('WorkerEphemeralExpiring')).toHaveLength(1);
    await lifecycle.close();
  });
});
