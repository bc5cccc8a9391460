import type { ProviderEntry } from '../workers/worker-service.js';
import type { ProviderWatches } from './provider-watches.js';

/**
 * Starts each manager watching its provider and recovers what an earlier run left, one
 * provider after another; before the passes and the API.
 */
export async function recoverProviders(
  providers: readonly ProviderEntry[],
  watches: ProviderWatches,
): Promise<void> {
  watches.start();
  for (const entry of providers) {
    // A provider whose engine is down still starts: /readyz tells, and its passes wait.
    await entry.lifecycle?.recovery.ensure();
  }
}
