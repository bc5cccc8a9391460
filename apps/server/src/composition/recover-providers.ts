import type { WatchSubscription } from '@hodei/domain';
import type { ProviderEntry } from '../workers/worker-service.js';

/**
 * Starts each manager watching its provider and recovers what an earlier run left, one
 * provider after another; before the passes and the API. Returns the watches to close.
 */
export async function recoverProviders(
  providers: readonly ProviderEntry[],
): Promise<WatchSubscription[]> {
  const watches: WatchSubscription[] = [];
  for (const entry of providers) {
    const manager = entry.lifecycle?.manager;
    if (manager === undefined) continue;
    const watch = manager.startWatching();
    if (watch !== undefined) watches.push(watch);
    // A provider whose engine is down still starts: /readyz tells, and its passes wait.
    await entry.lifecycle!.recovery.ensure();
  }
  return watches;
}
