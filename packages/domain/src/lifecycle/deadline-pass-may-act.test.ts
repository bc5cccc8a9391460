import { describe, expect, it } from 'vitest';
import { lifecycleHarness } from '../testing/index.js';

/**
 * A deadline pass under way when its server stops acting (shutdown, lost provider lock) must
 * change no worker: refusing only the provider call would leave a worker terminating with
 * its WorkerEphemeralTerminating published, though nothing was stopped.
 */
describe('the deadline pass while the manager may not act', () => {
  const policy = { maxLifetime: 60_000, idleTimeout: 50_000, startupTimeout: 10_000 };

  it('leaves a due worker as it is and acts on it once it may again', async () => {
    let acting = true;
    const h = lifecycleHarness({ mayAct: () => acting });
    const w = await h.create({ mode: 'agent', policy: { ...h.policy, ...policy } });
    await h.advance(1_000);
    await h.advance(61_000);
    const before = h.publisher.typesFor(w.workerId).length;
    const state = h.manager.getWorker(w.workerId)?.state;

    acting = false;
    const halted = await h.manager.runGcCycle();
    await h.manager.whenIdle();
    expect(h.publisher.typesFor(w.workerId).slice(before)).toEqual([]);
    expect(h.manager.getWorker(w.workerId)?.state).toBe(state);
    expect(halted.isOk() && halted.value.lifetimeExceeded).toBe(0);

    // It kept its deadline: the next pass that may act terminates it.
    acting = true;
    const resumed = await h.manager.runGcCycle();
    await h.manager.whenIdle();
    expect(resumed.isOk() && resumed.value.lifetimeExceeded).toBe(1);
    expect(h.publisher.typesFor(w.workerId).slice(before)).toContain('WorkerEphemeralTerminating');
  });
});
