import { silentLogger } from '@hodei/domain';
import { asWorkerId, lifecycleHarness } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { harnessEntry } from './harness-service.testing.js';
import { removeAllWorkers } from './remove-all-workers.js';

describe('removeAllWorkers', () => {
  it('leaves a worker re-created under the same id alone while its predecessor was being removed', async () => {
    const h = lifecycleHarness({ providerId: 'fake' });
    const entry = harnessEntry(h);
    const id = asWorkerId('w-reused');
    const first = await h.create({ workerId: id, mode: 'agent' });

    // The remove-all's removal of the first life is slow…
    h.provider.holdNext('destroyWorker');
    const removing = removeAllWorkers([entry], silentLogger, 1_000);
    for (let i = 0; i < 100 && h.provider.held.length === 0; i++) await Promise.resolve();
    expect(h.provider.held.map((c) => c.operation)).toEqual(['destroyWorker']);

    // …meanwhile that life is removed and cleaned up, and the id created again.
    const old = h.manager.getWorker(id)!;
    expect((await h.managed.destroyWorker(h.manager.handleOf(old))).isOk()).toBe(true);
    expect(h.manager.getWorker(id)).toBeUndefined();
    const second = await h.create({ workerId: id, mode: 'agent' });
    expect(second.resourceId).not.toBe(first.resourceId);

    await h.provider.releaseAll();
    await removing;
    await h.manager.whenIdle();

    const now = h.manager.getWorker(id);
    expect(now?.resourceId).toBe(second.resourceId);
    expect(now?.state).not.toBe('terminated');
    expect(h.provider.has(second.resourceId)).toBe(true);
    const cleanedUp = h.publisher.events.filter((e) => e.type === 'WorkerEphemeralCleanedUp');
    expect(cleanedUp).toHaveLength(1);
  });
});
