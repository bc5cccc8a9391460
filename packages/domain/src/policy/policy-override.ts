import { err, type Result } from 'neverthrow';
import {
  POLICY_FIELDS,
  validatePolicy,
  type EphemeralWorkerPolicy,
  type PolicyError,
} from './policy.js';

/** The fields a single worker may override (SPEC §3.4); the rest belong to the provider. */
export const OVERRIDABLE_FIELDS = [
  'maxLifetime',
  'ttlAfterCompletion',
  'idleTimeout',
  'gracefulTerminationTimeout',
  'startupTimeout',
  'expiryWarning',
] as const;
export type OverridableField = (typeof OVERRIDABLE_FIELDS)[number];
export type PolicyOverride = Partial<Pick<EphemeralWorkerPolicy, OverridableField>>;

/**
 * The provider's policy with a worker's overrides, validated again. Provider-only and unknown
 * fields are rejected; all problems are listed. Without overrides the provider's policy object
 * itself is returned, so workers share it.
 */
export function mergePolicy(
  base: EphemeralWorkerPolicy,
  override: Readonly<Record<string, unknown>> | undefined,
): Result<EphemeralWorkerPolicy, PolicyError[]> {
  if (override === undefined) return validatePolicy(base).map(() => base);
  const problems: PolicyError[] = [];
  const merged: Record<string, unknown> = { ...base };
  let changed = false;
  for (const [field, value] of Object.entries(override)) {
    if (value === undefined) continue;
    if ((OVERRIDABLE_FIELDS as readonly string[]).includes(field)) {
      merged[field] = value;
      changed = changed || value !== base[field as OverridableField];
    } else if ((POLICY_FIELDS as readonly string[]).includes(field)) {
      problems.push({
        type: 'ProviderOnlyPolicyField',
        field,
        message: `${field} belongs to the provider and cannot be set per worker`,
      });
    } else {
      problems.push({
        type: 'UnknownPolicyField',
        field,
        message: `${field} is not a policy field`,
      });
    }
  }
  const validated = validatePolicy(merged as unknown as EphemeralWorkerPolicy);
  if (problems.length > 0) {
    return err([...problems, ...(validated.isErr() ? validated.error : [])]);
  }
  return changed ? validated : validated.map(() => base);
}
