import { err, ok, type Result } from 'neverthrow';

export type OrphanAction = 'report' | 'remove';

/** SPEC §3.4. Durations are integer milliseconds. */
export interface EphemeralWorkerPolicy {
  readonly maxLifetime: number;
  /** `null` or `0`: no retention, a finished worker is cleaned up in the next pass. */
  readonly ttlAfterCompletion: number | null;
  readonly idleTimeout: number;
  readonly gracefulTerminationTimeout: number;
  readonly startupTimeout: number;
  readonly autoCleanupEnabled: boolean;
  readonly orphanDetectionEnabled: boolean;
  readonly orphanCheckInterval: number;
  readonly orphanGracePeriod: number;
  readonly orphanAction: OrphanAction;
  /**
   * How long before a lifetime or idle termination the GC emits WorkerEphemeralExpiring
   * (once per deadline, again when the deadline moves); 0: no warning.
   */
  readonly expiryWarning: number;
}

export type PolicyField = keyof EphemeralWorkerPolicy;

export type PolicyError =
  | {
      readonly type: 'InvalidPolicyValue';
      readonly field: PolicyField;
      readonly value: unknown;
      readonly message: string;
    }
  | { readonly type: 'ProviderOnlyPolicyField'; readonly field: string; readonly message: string }
  | { readonly type: 'UnknownPolicyField'; readonly field: string; readonly message: string };

export const SECOND = 1_000;
export const MAX_DURATION = 30 * 24 * 3600 * SECOND;

const DURATION_FIELDS = [
  'maxLifetime',
  'ttlAfterCompletion',
  'idleTimeout',
  'gracefulTerminationTimeout',
  'startupTimeout',
  'orphanCheckInterval',
  'orphanGracePeriod',
  'expiryWarning',
] as const satisfies readonly PolicyField[];

export const POLICY_FIELDS: readonly PolicyField[] = [
  ...DURATION_FIELDS,
  'autoCleanupEnabled',
  'orphanDetectionEnabled',
  'orphanAction',
];

const invalid = (field: PolicyField, value: unknown, message: string): PolicyError => ({
  type: 'InvalidPolicyValue',
  field,
  value,
  message: `${field} ${message}`,
});

/** Every problem of a candidate policy, not only the first. */
export function validatePolicy(
  candidate: EphemeralWorkerPolicy,
): Result<EphemeralWorkerPolicy, PolicyError[]> {
  const problems: PolicyError[] = [];
  for (const field of DURATION_FIELDS) {
    const value: unknown = candidate[field];
    if (field === 'ttlAfterCompletion' && value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      problems.push(invalid(field, value, 'must be an integer number of milliseconds'));
    } else if (value < 0 || value > MAX_DURATION) {
      problems.push(invalid(field, value, `must be between 0 and ${MAX_DURATION} ms (30 days)`));
    }
  }
  for (const field of ['maxLifetime', 'idleTimeout', 'startupTimeout'] as const) {
    if (candidate[field] === 0) problems.push(invalid(field, 0, 'must be greater than 0'));
  }
  const max = candidate.maxLifetime;
  if (Number.isInteger(max)) {
    for (const field of ['idleTimeout', 'startupTimeout'] as const) {
      if (Number.isInteger(candidate[field]) && candidate[field] > max) {
        problems.push(invalid(field, candidate[field], `must not exceed maxLifetime (${max} ms)`));
      }
    }
  }
  if (Number.isInteger(candidate.orphanCheckInterval) && candidate.orphanCheckInterval < SECOND) {
    problems.push(
      invalid('orphanCheckInterval', candidate.orphanCheckInterval, 'must be at least 1000 ms'),
    );
  }
  for (const field of ['autoCleanupEnabled', 'orphanDetectionEnabled'] as const) {
    if (typeof candidate[field] !== 'boolean') {
      problems.push(invalid(field, candidate[field], 'must be a boolean'));
    }
  }
  if (candidate.orphanAction !== 'report' && candidate.orphanAction !== 'remove') {
    problems.push(invalid('orphanAction', candidate.orphanAction, "must be 'report' or 'remove'"));
  }
  return problems.length === 0 ? ok(Object.freeze({ ...candidate })) : err(problems);
}

/** The milliseconds a finished worker is kept; 0 when there is no retention. */
export const retentionOf = (policy: EphemeralWorkerPolicy): number =>
  policy.ttlAfterCompletion ?? 0;
