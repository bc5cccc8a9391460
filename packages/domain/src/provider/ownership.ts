import { err, ok, type Result } from 'neverthrow';
import { validatePolicy, type EphemeralWorkerPolicy } from '../policy/policy.js';
import { DEFAULT_EXPIRY_WARNING } from '../policy/profiles.js';
import type { Problem, WorkerSpec } from '../ports/worker-provider.port.js';
import { parseWorkerId, type ProviderId, type WorkerId } from '../worker/ids.js';
import { isWorkerMode, type Readiness, type WorkerMode } from '../worker/worker-mode.js';

/** The ownership facts every adapter writes on its resources (SPEC §6). */
export const OWNERSHIP_LABELS = {
  managed: 'hodei.managed',
  providerId: 'hodei.provider-id',
  workerId: 'hodei.worker-id',
  mode: 'hodei.mode',
  readiness: 'hodei.readiness',
  createdAt: 'hodei.created-at',
  policy: 'hodei.policy',
} as const;

export const RESERVED_LABEL_PREFIX = 'hodei.';
export const RESERVED_ENV_PREFIX = 'HODEI_';

export interface OwnershipFacts {
  readonly providerId: ProviderId;
  readonly workerId: WorkerId;
  readonly mode: WorkerMode;
  readonly readiness: Readiness;
  readonly createdAt: number;
  readonly policy: EphemeralWorkerPolicy;
}

export interface OwnershipError {
  readonly type: 'InvalidOwnershipLabels';
  readonly message: string;
}

/** The labels that make a resource ours; the spec's own labels come first and cannot clash. */
export function ownershipLabels(
  spec: WorkerSpec,
  providerId: ProviderId,
  createdAt: number,
): Record<string, string> {
  return {
    ...spec.labels,
    [OWNERSHIP_LABELS.managed]: 'true',
    [OWNERSHIP_LABELS.providerId]: providerId,
    [OWNERSHIP_LABELS.workerId]: spec.workerId,
    [OWNERSHIP_LABELS.mode]: spec.mode,
    [OWNERSHIP_LABELS.readiness]: spec.readiness ?? 'container',
    [OWNERSHIP_LABELS.createdAt]: new Date(createdAt).toISOString(),
    [OWNERSHIP_LABELS.policy]: JSON.stringify(spec.policy),
  };
}

export function ownershipEnv(spec: WorkerSpec, providerId: ProviderId): Record<string, string> {
  return {
    ...spec.env,
    HODEI_WORKER_ID: spec.workerId,
    HODEI_PROVIDER_ID: providerId,
    HODEI_WORKER_MODE: spec.mode,
  };
}

/** True only for resources labelled managed by exactly this provider id. */
export function isOwnedBy(
  labels: Readonly<Record<string, string>>,
  providerId: ProviderId,
): boolean {
  return (
    labels[OWNERSHIP_LABELS.managed] === 'true' &&
    labels[OWNERSHIP_LABELS.providerId] === providerId
  );
}

/** The immutable facts recorded on a resource, read back for recovery. */
export function parseOwnership(
  labels: Readonly<Record<string, string>>,
  providerId: ProviderId,
): Result<OwnershipFacts, OwnershipError> {
  const fail = (message: string) =>
    err<never, OwnershipError>({ type: 'InvalidOwnershipLabels', message });
  if (!isOwnedBy(labels, providerId)) return fail(`not managed by provider ${providerId}`);
  const workerId = parseWorkerId(labels[OWNERSHIP_LABELS.workerId]);
  if (workerId.isErr()) return fail(workerId.error.message);
  const mode = labels[OWNERSHIP_LABELS.mode];
  if (!isWorkerMode(mode)) return fail(`unknown mode ${JSON.stringify(mode)}`);
  const readiness = labels[OWNERSHIP_LABELS.readiness] === 'external' ? 'external' : 'container';
  const createdAt = Date.parse(labels[OWNERSHIP_LABELS.createdAt] ?? '');
  if (Number.isNaN(createdAt)) return fail('missing or unreadable creation time');
  let policy: unknown;
  try {
    policy = JSON.parse(labels[OWNERSHIP_LABELS.policy] ?? '');
  } catch {
    return fail('missing or unreadable policy');
  }
  // Labels written before `expiryWarning` existed lack it: they get the default.
  const valid = validatePolicy({
    expiryWarning: DEFAULT_EXPIRY_WARNING,
    ...(policy as object),
  } as EphemeralWorkerPolicy);
  if (valid.isErr()) return fail(`invalid policy: ${valid.error.map((p) => p.message).join('; ')}`);
  return ok({
    providerId,
    workerId: workerId.value,
    mode,
    readiness,
    createdAt,
    policy: valid.value,
  });
}

/** The caller may not set labels under `hodei.` nor env under `HODEI_`. */
export function reservedKeyProblems(spec: Pick<WorkerSpec, 'labels' | 'env'>): Problem[] {
  const problems: Problem[] = [];
  for (const key of Object.keys(spec.labels ?? {})) {
    if (key.toLowerCase().startsWith(RESERVED_LABEL_PREFIX)) {
      problems.push({
        path: `labels.${key}`,
        message: `labels under '${RESERVED_LABEL_PREFIX}' are reserved`,
      });
    }
  }
  for (const key of Object.keys(spec.env ?? {})) {
    if (key.toUpperCase().startsWith(RESERVED_ENV_PREFIX)) {
      problems.push({
        path: `env.${key}`,
        message: `environment variables under '${RESERVED_ENV_PREFIX}' are reserved`,
      });
    }
  }
  return problems;
}
