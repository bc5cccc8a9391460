import { describe, expect, it, vi } from 'vitest';
import type { GarbageCollectionStats } from '../events/gc-stats.js';
import { EphemeralWorkerPolicy } from '../policy/ephemeral-worker-policy.js';
import { wireLifecycle } from '../provider/wire-lifecycle.js';
import { lifecycleHarness } from '../testing/lifecycle-harness.js';
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
