import type { ProviderEntry } from '../workers/provider-entry.js';
import type { ProviderFailureStreaks } from './provider-failure-streaks.js';

/** One `/readyz` check, as `ReadinessCheck` of the HTTP app. */
export interface ProviderCheck {
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * A provider is ready when its health check answers and its recent calls are not failing in
 * a row (the engine may answer pings yet start no container).
 */
export async function checkProvider(
  entry: ProviderEntry,
  streaks: ProviderFailureStreaks,
): Promise<ProviderCheck> {
  const health = await entry.provider.health();
  if (health.isErr()) return { ok: false, detail: health.error.message };
  const degraded = streaks.degradation(entry.id);
  return degraded === undefined
    ? { ok: true, detail: health.value.detail }
    : { ok: false, detail: degraded };
}
