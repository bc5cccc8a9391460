import type { EphemeralWorkerPolicy } from '../policy/policy.js';
import { OVERRIDABLE_FIELDS } from '../policy/policy-override.js';

function samePolicy(a: EphemeralWorkerPolicy, b: EphemeralWorkerPolicy): boolean {
  return (
    // A worker may change only these; the rest are the provider's and compared for safety.
    OVERRIDABLE_FIELDS.every((k) => a[k] === b[k]) &&
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
