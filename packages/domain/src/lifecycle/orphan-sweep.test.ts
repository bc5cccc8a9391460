import { okAsync, type ResultAsync } from 'neverthrow';
import { describe, expect, it } from 'vitest';
import { dockerProfile } from '../policy/profiles.js';
import type { ManagedResource, WorkerProviderError } from '../ports/worker-provider.port.js';
import { OWNERSHIP_LABELS, ownershipLabels } from '../provider/ownership.js';
import { InMemoryWorkerProvider } from '../testing/in-memory-worker-provider.js';
import { asWorkerId, lifecycleHarness } from '../testing/lifecycle-harness.js';
import type { ProviderId } from '../worker/ids.js';

/** Its listings leave out the resources in `hidden` (gone for a while, as far as we can tell). */
class HidingListings extends InMemoryWorkerProvider {
  readonly hidden = new Set<string>();
  override listManagedWorkers(): ResultAsync<readonly ManagedResource[], WorkerProviderError> {
    return super
      .listManagedWorkers()
      .andThen((listed) => okAsync(listed.filter((r) => !this.hidden.has(r.resourceId))));
  }
}

describe('resources with unreadable labels', () => {
  it('are forgotten once no longer listed, and reported anew when listed again', async () => {
    const h = lifecycleHarness({
      policy: dockerProfile,
      provider: (id, clock) => new HidingListings(id, clock),
    });
    const provider = h.provider as HidingListings;
    const labels = {
      ...ownershipLabels(
        {
          workerId: asWorkerId('unreadable'),
          mode: 'job',
          image: 'hodei/worker:test',
          policy: dockerProfile,
        },
        'fake' as ProviderId,
        h.clock.now(),
      ),
      [OWNERSHIP_LABELS.policy]: '{not json',
    };
    const rid = provider.addResource({ labels });
    await h.manager.reconcile();
    await h.manager.reconcile(); // reported once while listed
    provider.hidden.add(rid);
    await h.manager.reconcile();
    provider.hidden.delete(rid);
    await h.manager.reconcile();
    expect(h.publisher.ofType('OrphanWorkerDetected').map((e) => [e.resourceId, e.reason])).toEqual(
      [
        [rid, 'UnreadableLabels'],
        [rid, 'UnreadableLabels'],
      ],
    );
  });
});
