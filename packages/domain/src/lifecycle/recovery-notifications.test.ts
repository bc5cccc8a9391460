import { type ResultAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import type { ManagedResource, WorkerProviderError } from '../ports/worker-provider.port.js';
import { InMemoryWorkerProvider } from '../testing/in-memory-worker-provider.js';
import { lifecycleHarness } from '../testing/lifecycle-harness.js';

/** A provider that runs `onListed` once its listing is taken and before it is answered. */
class ListingProvider extends InMemoryWorkerProvider {
  onListed: (() => void) | undefined;
  override listManagedWorkers(): ResultAsync<readonly ManagedResource[], WorkerProviderError> {
    const listing = super.listManagedWorkers();
    const then = this.onListed;
    this.onListed = undefined;
    then?.();
    return listing;
  }
}

describe('notifications during a recovery', () => {
  it('applies an exit pushed between the listing and the storing of the recovered workers', async () => {
    const h = lifecycleHarness({ provider: (id, clock) => new ListingProvider(id, clock) });
    const provider = h.provider as ListingProvider;
    const w = await h.create({ mode: 'agent' });
    const restarted = h.restart();
    restarted.startWatching();
    // Listed running; exits before the recovery stores it.
    provider.onListed = () => provider.exit(w.resourceId, 3);
    (await restarted.recover())._unsafeUnwrap();
    await restarted.whenIdle();
    expect(restarted.getWorker(w.workerId)).toMatchObject({ state: 'terminated', exitCode: 3 });
  });

  it('still applies notifications of tracked workers at once during a recovery', async () => {
    const h = lifecycleHarness({ provider: (id, clock) => new ListingProvider(id, clock) });
    const provider = h.provider as ListingProvider;
    const w = await h.create({ mode: 'agent' });
    provider.onListed = () => provider.exit(w.resourceId, 4);
    (await h.manager.recover())._unsafeUnwrap();
    await h.manager.whenIdle();
    expect(h.manager.getWorker(w.workerId)).toMatchObject({ state: 'terminated', exitCode: 4 });
  });
});
