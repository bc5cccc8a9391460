import {
  EphemeralWorkerPolicy,
  MAX_DURATION,
  parseWorkerId,
  type PolicyError,
  type IdGenerator,
  type PolicyOverride,
  type Problem,
  type Readiness,
  type WorkerMode,
  type WorkerSpec,
} from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import type { ProviderEntry } from './provider-entry.js';
import { validationFailed, type WorkerServiceError } from './service.errors.js';
import type { WorkerLookup } from './worker-lookup.js';

export interface PolicyRequest {
  readonly maxLifetimeSeconds?: number;
  readonly ttlAfterCompletionSeconds?: number | null;
  readonly idleTimeoutSeconds?: number;
  readonly gracefulTerminationTimeoutSeconds?: number;
  readonly startupTimeoutSeconds?: number;
  readonly expiryWarningSeconds?: number;
}

/** The body of `POST /v1/workers`, already shaped by its JSON Schema. */
export interface CreateWorkerRequest {
  readonly id?: string;
  readonly providerId?: string;
  readonly mode?: WorkerMode;
  readonly readiness?: Readiness;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly resources?: { readonly memoryMb?: number; readonly cpus?: number };
  readonly policy?: PolicyRequest;
}

/** A create request that passed validation: the provider it goes to and the spec to run. */
export interface ValidCreate {
  readonly entry: ProviderEntry;
  readonly spec: WorkerSpec;
}

export interface CreateDefaults {
  readonly ids: IdGenerator;
  readonly defaultImage: string;
  /** HODEI_MAX_LIFETIME_SECONDS in ms: no worker's maxLifetime may pass it; none when undefined. */
  readonly maxLifetimeCap?: number;
}

const SECOND = 1000;

/**
 * Checks what the JSON Schema cannot (the provider, the id, the merged policy, readiness for
 * agents only), reporting every problem at once, and builds the worker's spec.
 */
export function parseCreateRequest(
  request: CreateWorkerRequest,
  lookup: WorkerLookup,
  defaults: CreateDefaults,
): Result<ValidCreate, WorkerServiceError> {
  const problems: Problem[] = [];
  const entry = lookup.provider(request.providerId);
  if (entry === undefined) {
    problems.push({
      path: 'providerId',
      message: `unknown provider; configured: ${lookup.providerIds.join(', ')}`,
    });
  }
  const id = request.id === undefined ? ok(defaults.ids.workerId()) : parseWorkerId(request.id);
  if (id.isErr()) problems.push({ path: 'id', message: id.error.message });
  const base = entry?.policy ?? lookup.defaultEntry.policy;
  // The operator's cap first: a maxLifetime that breaks another rule as well is named for it.
  const cap = defaults.maxLifetimeCap;
  const asked = request.policy?.maxLifetimeSeconds;
  const aboveCap = cap !== undefined && asked !== undefined && asked * SECOND > cap;
  if (aboveCap) problems.push(maxLifetimeProblem(asked * SECOND, cap, CREATE_POLICY_PATH));
  const policy = EphemeralWorkerPolicy.merge(base, cappedOverride(request.policy, base, defaults));
  if (policy.isErr()) {
    for (const p of policy.error) problems.push(policyProblem(p, CREATE_POLICY_PATH));
  }
  if (request.readiness !== undefined && request.mode !== 'agent') {
    problems.push({
      path: 'readiness',
      message: "applies to agent workers only (mode: 'agent')",
    });
  }
  if (entry === undefined || id.isErr() || policy.isErr() || problems.length > 0) {
    return err(validationFailed(problems));
  }
  const spec: WorkerSpec = {
    workerId: id.value,
    mode: request.mode ?? 'job',
    ...(request.readiness === undefined ? {} : { readiness: request.readiness }),
    image: request.image ?? defaults.defaultImage,
    ...(request.command === undefined ? {} : { command: request.command }),
    ...(request.env === undefined ? {} : { env: request.env }),
    ...(request.labels === undefined ? {} : { labels: request.labels }),
    ...(request.resources === undefined ? {} : { resources: request.resources }),
    policy: policy.value,
  };
  return ok({ entry, spec });
}

/** The request's `…Seconds` fields as the domain's override, in milliseconds. */
export function policyOverride(p: PolicyRequest): PolicyOverride {
  const ms = (s: number | undefined) => (s === undefined ? undefined : s * SECOND);
  const out = {
    maxLifetime: ms(p.maxLifetimeSeconds),
    ttlAfterCompletion:
      p.ttlAfterCompletionSeconds === null ? null : ms(p.ttlAfterCompletionSeconds),
    idleTimeout: ms(p.idleTimeoutSeconds),
    gracefulTerminationTimeout: ms(p.gracefulTerminationTimeoutSeconds),
    startupTimeout: ms(p.startupTimeoutSeconds),
    expiryWarning: ms(p.expiryWarningSeconds),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

/** Where a create's policy fields are, as the schema's errors name them. */
export const CREATE_POLICY_PATH = 'body.policy.';

/**
 * The request's policy override; a provider default above HODEI_MAX_LIFETIME_SECONDS is cut to
 * it (only a maxLifetime the request asks for is refused), and so are the default idle and
 * startup timeouts the request does not set, which may not pass the lifetime.
 */
function cappedOverride(
  requested: PolicyRequest | undefined,
  base: EphemeralWorkerPolicy,
  { maxLifetimeCap: cap }: CreateDefaults,
): PolicyOverride | undefined {
  const override = requested === undefined ? undefined : policyOverride(requested);
  if (cap === undefined || override?.maxLifetime !== undefined || base.maxLifetime <= cap)
    return override;
  const cut = (field: 'idleTimeout' | 'startupTimeout') =>
    override?.[field] === undefined && base[field] > cap ? { [field]: cap } : {};
  return { ...override, maxLifetime: cap, ...cut('idleTimeout'), ...cut('startupTimeout') };
}

/** A maxLifetime past HODEI_MAX_LIFETIME_SECONDS, named as the request's field. */
export const maxLifetimeProblem = (
  valueMs: number,
  capMs: number,
  prefix: string,
  field = 'maxLifetimeSeconds',
): Problem => ({
  path: `${prefix}${field}`,
  message: `${valueMs / SECOND} s is above the operator's cap HODEI_MAX_LIFETIME_SECONDS=${capMs / SECOND}`,
});

/**
 * A policy problem of the domain as the API names it: the request's `…Seconds` field under
 * `prefix` (`body.policy.` at create, `body.` for a change) and a message in seconds, built here
 * from the field and its value (the domain's own message speaks in milliseconds).
 */
export function policyProblem(p: PolicyError, prefix: string): Problem {
  if (p.type === 'UnknownPolicyField')
    return { path: `${prefix}${p.field}`, message: 'is not a policy field' };
  if (p.type === 'ProviderOnlyPolicyField')
    return {
      path: `${prefix}${p.field}`,
      message: 'belongs to the provider and cannot be set per worker',
    };
  const path = `${prefix}${p.field}Seconds`;
  const v = p.value;
  if (typeof v !== 'number' || !Number.isInteger(v))
    return { path, message: 'must be a whole number of seconds' };
  if (v < 0 || v > MAX_DURATION)
    return { path, message: `must be between 0 and ${MAX_DURATION / SECOND} seconds (30 days)` };
  if (v === 0) return { path, message: 'must be greater than 0' };
  return { path, message: `${v / SECOND} s must not exceed maxLifetimeSeconds` };
}
