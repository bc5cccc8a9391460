import {
  EphemeralWorkerPolicy,
  parseWorkerId,
  type IdGenerator,
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
  const override = request.policy === undefined ? undefined : policyOverride(request.policy);
  const policy = EphemeralWorkerPolicy.merge(entry?.policy ?? lookup.defaultEntry.policy, override);
  if (policy.isErr()) {
    for (const p of policy.error) {
      problems.push({
        path: `policy.${'field' in p ? toSecondsField(p.field) : ''}`,
        message: p.message,
      });
    }
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

function policyOverride(p: PolicyRequest): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  if (p.maxLifetimeSeconds !== undefined) out['maxLifetime'] = p.maxLifetimeSeconds * SECOND;
  if (p.ttlAfterCompletionSeconds !== undefined) {
    out['ttlAfterCompletion'] =
      p.ttlAfterCompletionSeconds === null ? null : p.ttlAfterCompletionSeconds * SECOND;
  }
  if (p.idleTimeoutSeconds !== undefined) out['idleTimeout'] = p.idleTimeoutSeconds * SECOND;
  if (p.gracefulTerminationTimeoutSeconds !== undefined) {
    out['gracefulTerminationTimeout'] = p.gracefulTerminationTimeoutSeconds * SECOND;
  }
  if (p.startupTimeoutSeconds !== undefined)
    out['startupTimeout'] = p.startupTimeoutSeconds * SECOND;
  return out;
}

const toSecondsField = (field: string): string => `${field}Seconds`;
