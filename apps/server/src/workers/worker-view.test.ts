import { EphemeralWorkerPolicy } from '@hodei/domain';
import { lifecycleHarness } from '@hodei/domain/testing';
import { describe, expect, it } from 'vitest';
import { workerView } from './worker-view.js';

const policy = EphemeralWorkerPolicy.builder()
  .maxLifetime(60_000)
  .idleTimeout(30_000)
  .startupTimeout(30_000)
  .expiryWarning(10_000)
  .build()
  ._unsafeUnwrap();

describe('workerView', () => {
  it('names the expiry warning while it is ahead, and none once the lifetime is due', async () => {
    const h = lifecycleHarness({ policy });
    const job = await h.create();
    const tracked = () => {
      const w = h.manager.getWorker(job.workerId);
      if (w === undefined) throw new Error('not tracked');
      return w;
    };
    const created = tracked().createdAt;
    expect(workerView(tracked(), h.clock.now()).deadlines.expiryWarningAt).toBe(
      new Date(created + 50_000).toISOString(),
    );
    // Past the lifetime, before any pass acted on it: the rule is due, no warning will come.
    await h.advance(61_000);
    const due = workerView(tracked(), h.clock.now());
    expect(due.state).toBe('busy');
    expect(due.deadlines.next).toEqual({
      rule: 'lifetime',
      at: new Date(created + 60_000).toISOString(),
    });
    expect(due.deadlines.expiryWarningAt).toBeNull();
  });
});
