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

/**
 * A change: the fields to set, or a function from the worker's current policy to them, called
 * under the worker's lock (a relative change, e.g. an extension by 30 minutes, then cannot lose
 * a concurrent one).
 */
export type PolicyChange = PolicyOverride | ((current: EphemeralWorkerPolicy) => PolicyOverride);

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
    requested: PolicyChange,
    ctx: OperationContext | undefined,
  ): Promise<Result<PolicyChangeOutcome, LifecycleError>> {
    const { registry, events } = this.#deps;
    const w = registry.get(workerId);
    if (w === undefined) return err(workerNotFound(workerId));
    const change = typeof requested === 'function' ? requested(w.policy) : requested;
    // The state first: a value the state refuses is refused as such, whatever else is wrong.
    const settled = stateRefusal(w, change);
    if (settled !== null) return err(settled);
    // Then the operator's cap, which a value breaking another rule as well must not hide.
    const capped = this.#capRefusal(w, change);
    if (capped !== null) return err(capped);
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

  /** Why the operator's cap refuses the changed fields, if it does. */
  #capRefusal(w: Worker, change: PolicyOverride): LifecycleError | null {
    // A worker already above the cap (created before it was lowered) may still shorten its
    // lifetime: a change may not raise it past the cap or past where it is, the higher.
    const cap = this.#deps.maxLifetimeCap;
    const asked = change.maxLifetime;
    if (cap !== undefined && asked !== undefined && asked > Math.max(cap, w.policy.maxLifetime)) {
      return maxLifetimeRefusal(w.id, asked, cap);
    }
    return null;
  }
}

/**
 * Why the worker's state refuses the change, if it does: a terminating worker's policy is
 * settled; once it has ended only the retention still means something, so any other field
 * set to another value than its own is refused (before its value is even validated).
 */
function stateRefusal(w: Worker, change: PolicyOverride): LifecycleError | null {
  if (w.state === 'terminating') {
    return {
      type: 'PolicyNotChangeable',
      workerId: w.id,
      state: w.state,
      message: `worker ${w.id} is terminating: its policy can no longer change`,
    };
  }
  if (w.state !== 'terminated' && w.state !== 'failed') return null;
  const field = OVERRIDABLE_FIELDS.find(
    (f) =>
      f !== 'ttlAfterCompletion' &&
      (change as Readonly<Record<string, unknown>>)[f] !== undefined &&
      change[f] !== w.policy[f],
  );
  if (field === undefined) return null;
  return {
    type: 'PolicyNotChangeable',
    workerId: w.id,
    state: w.state,
    field,
    message: `worker ${w.id} is ${w.state}: only ttlAfterCompletion can change, not ${field}`,
  };
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
