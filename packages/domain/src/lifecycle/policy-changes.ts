import { err, ok, type Result } from 'neverthrow';
import type { PolicySnapshot } from '../events/lifecycle-event.js';
import {
  mergePolicy,
  OVERRIDABLE_FIELDS,
  type OverridableField,
  type PolicyOverride,
} from '../policy/policy-override.js';
import { retentionOf, type EphemeralWorkerPolicy } from '../policy/policy.js';
import type { Worker } from '../worker/worker.js';
import type { LifecycleEventEmitter, OperationContext } from './lifecycle-event-emitter.js';
import {
  workerNotFound,
  type LifecycleError,
  type PolicyLimitExceeded,
} from './lifecycle.errors.js';
import { sharedPolicy } from './shared-policy.js';
import type { WorkerRegistry } from './worker-registry.js';

/** What a policy change did; `changed` empty: nothing changed and no event was emitted. */
export interface PolicyChangeOutcome {
  readonly worker: Worker;
  readonly previous: EphemeralWorkerPolicy;
  readonly changed: readonly OverridableField[];
}

export interface PolicyChangesDeps {
  /** The provider's policy, shared by the workers that do not override it. */
  readonly policy: EphemeralWorkerPolicy;
  readonly registry: Pick<WorkerRegistry, 'get' | 'store'>;
  readonly events: Pick<LifecycleEventEmitter, 'publish' | 'workerMeta'>;
  /** The largest maxLifetime a change may set (ms); none when undefined. */
  readonly maxLifetimeCap: number | undefined;
}

/** The overridable fields of a policy or snapshot, as WorkerEphemeralPolicyChanged carries them. */
export const policySnapshot = (p: PolicySnapshot): PolicySnapshot => ({
  maxLifetime: p.maxLifetime,
  ttlAfterCompletion: p.ttlAfterCompletion,
  idleTimeout: p.idleTimeout,
  gracefulTerminationTimeout: p.gracefulTerminationTimeout,
  startupTimeout: p.startupTimeout,
  expiryWarning: p.expiryWarning,
});

/**
 * Changes a tracked worker's policy at run time (an extension, a shorter idle clock…): the
 * change is merged onto the worker's current policy and validated as at create, the new
 * deadline filed at once by the store, and one WorkerEphemeralPolicyChanged emitted. A
 * terminating worker's policy is settled; a finished worker may only change its retention.
 * Expects the caller to hold the worker's lock.
 */
export class PolicyChanges {
  readonly #deps: PolicyChangesDeps;

  constructor(deps: PolicyChangesDeps) {
    this.#deps = deps;
  }

  async change(
    workerId: string,
    change: PolicyOverride,
    ctx: OperationContext | undefined,
  ): Promise<Result<PolicyChangeOutcome, LifecycleError>> {
    const { registry, events } = this.#deps;
    const w = registry.get(workerId);
    if (w === undefined) return err(workerNotFound(workerId));
    if (w.state === 'terminating') {
      return err({
        type: 'PolicyNotChangeable',
        workerId,
        state: w.state,
        message: `worker ${workerId} is terminating: its policy can no longer change`,
      });
    }
    const merged = mergePolicy(w.policy, change);
    if (merged.isErr()) {
      return err({
        type: 'InvalidPolicy',
        problems: merged.error,
        message: merged.error.map((p) => p.message).join('; '),
      });
    }
    const next = merged.value;
    const changed = OVERRIDABLE_FIELDS.filter((f) => differs(w.policy, next, f));
    const refused = this.#refusal(w, next, changed);
    if (refused !== null) return err(refused);
    if (changed.length === 0) return ok({ worker: w, previous: w.policy, changed });
    const worker: Worker = { ...w, policy: sharedPolicy(next, this.#deps.policy) };
    registry.store(worker);
    await events.publish({
      ...events.workerMeta(workerId, ctx),
      type: 'WorkerEphemeralPolicyChanged',
      previous: policySnapshot(w.policy),
      current: policySnapshot(worker.policy),
      changed,
    });
    return ok({ worker, previous: w.policy, changed });
  }

  /** Why the state or the operator's cap refuses the changed fields, if either does. */
  #refusal(
    w: Worker,
    next: EphemeralWorkerPolicy,
    changed: readonly OverridableField[],
  ): LifecycleError | null {
    if (w.state === 'terminated' || w.state === 'failed') {
      // Only the retention still means something once the worker has ended.
      const field = changed.find((f) => f !== 'ttlAfterCompletion');
      if (field !== undefined) {
        return {
          type: 'PolicyNotChangeable',
          workerId: w.id,
          state: w.state,
          field,
          message: `worker ${w.id} is ${w.state}: only ttlAfterCompletion can change, not ${field}`,
        };
      }
    }
    // A worker already above the cap (created before it was lowered) may still shorten its
    // lifetime: a change may not raise it past the cap or past where it is, the higher.
    const cap = this.#deps.maxLifetimeCap;
    if (
      cap !== undefined &&
      changed.includes('maxLifetime') &&
      next.maxLifetime > Math.max(cap, w.policy.maxLifetime)
    ) {
      return maxLifetimeRefusal(w.id, next.maxLifetime, cap);
    }
    return null;
  }
}

/** Whether `field` differs: a retention of `null` and of 0 are the same (none). */
function differs(
  before: EphemeralWorkerPolicy,
  after: EphemeralWorkerPolicy,
  field: OverridableField,
): boolean {
  return field === 'ttlAfterCompletion'
    ? retentionOf(before) !== retentionOf(after)
    : before[field] !== after[field];
}

/** The refusal of a maxLifetime past the operator's cap, at create or at a change. */
export function maxLifetimeRefusal(
  workerId: string,
  value: number,
  cap: number,
): PolicyLimitExceeded {
  return {
    type: 'PolicyLimitExceeded',
    workerId,
    field: 'maxLifetime',
    limit: cap,
    value,
    message: `maxLifetime ${value} ms exceeds the operator's limit of ${cap} ms`,
  };
}
