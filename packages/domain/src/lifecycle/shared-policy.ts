import type { EphemeralWorkerPolicy } from '../policy/policy.js';

const DURATION_KEYS = [
  'maxLifetime',
  'ttlAfterCompletion',
  'idleTimeout',
  'gracefulTerminationTimeout',
  'startupTimeout',
] as const;

function samePolicy(a: EphemeralWorkerPolicy, b: EphemeralWorkerPolicy): boolean {
  return (
    DURATION_KEYS.every((k) => a[k] === b[k]) &&
    a.autoCleanupEnabled === b.autoCleanupEnabled &&
    a.orphanDetectionEnabled === b.orphanDetectionEnabled &&
    a.orphanCheckInterval === b.orphanCheckInterval &&
    a.orphanGracePeriod === b.orphanGracePeriod &&
    a.orphanAction === b.orphanAction
  );
}

/**
 * The policy a tracked worker keeps: the provider's policy object when the worker's is equal
 * to it (the worker did not override it), so thousands of workers share one object.
 */
export function sharedPolicy(
  own: EphemeralWorkerPolicy,
  provider: EphemeralWorkerPolicy,
): EphemeralWorkerPolicy {
  return samePolicy(own, provider) ? provider : own;
}
