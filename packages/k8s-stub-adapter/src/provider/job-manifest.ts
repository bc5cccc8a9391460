import {
  ownershipEnv,
  ownershipLabels,
  reservedKeyProblems,
  retentionOf,
  type Problem,
  type ProviderId,
  type WorkerId,
  type WorkerSpec,
} from '@hodei/domain';
import { Job, type IJob } from 'kubernetes-models/batch/v1/Job';
import { err, ok, Result } from 'neverthrow';

export type ImagePullPolicy = 'IfNotPresent' | 'Always' | 'Never';

export interface JobManifestOptions {
  readonly providerId: ProviderId;
  readonly namespace: string;
  /** Epoch milliseconds, recorded in the `hodei.created-at` annotation. */
  readonly createdAt: number;
  readonly imagePullPolicy: ImagePullPolicy;
  /** The non-root user the container runs as (restricted Pod Security Standard). */
  readonly runAsUser: number;
  /** Applied when the spec names no memory or CPU. */
  readonly defaultResources: { readonly memoryMb: number; readonly cpus: number };
}

export const CONTAINER_NAME = 'worker';

/** The Job behind a worker: `hodei-worker-<workerId>`, at most 63 characters. */
export const jobNameOf = (workerId: WorkerId | string): string => `hodei-worker-${workerId}`;

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** A valid label value: at most 63 characters, alphanumeric at both ends, `-_.` inside. */
export function isLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value));
}

/** A valid label or annotation key: an optional DNS-subdomain prefix and `/`, then a name. */
export function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) return false;
  return prefix === null || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
}

/**
 * Splits the ownership facts and the caller's labels: values Kubernetes accepts as label
 * values become labels (selectable), the others (creation time, policy JSON) annotations.
 */
export function splitLabels(all: Readonly<Record<string, string>>): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(all)) {
    if (isLabelValue(value)) labels[key] = value;
    else annotations[key] = value;
  }
  return { labels, annotations };
}

const seconds = (ms: number): number => Math.ceil(ms / 1_000);

function specProblems(spec: WorkerSpec): Problem[] {
  const problems = reservedKeyProblems(spec);
  if (spec.image.trim() === '' || /\s/.test(spec.image))
    problems.push({ path: 'image', message: 'must be a non-empty image reference without spaces' });
  for (const key of Object.keys(spec.labels ?? {})) {
    if (!isQualifiedName(key))
      problems.push({ path: `labels.${key}`, message: 'is not a valid Kubernetes label key' });
  }
  for (const key of Object.keys(spec.env ?? {})) {
    if (!ENV_NAME.test(key))
      problems.push({ path: `env.${key}`, message: 'is not a valid environment variable name' });
  }
  const r = spec.resources;
  if (r?.memoryMb !== undefined && (!Number.isInteger(r.memoryMb) || r.memoryMb <= 0))
    problems.push({ path: 'resources.memoryMb', message: 'must be a positive integer' });
  if (r?.cpus !== undefined && (!Number.isFinite(r.cpus) || r.cpus <= 0))
    problems.push({ path: 'resources.cpus', message: 'must be a positive number' });
  if (spec.command?.some((part) => typeof part !== 'string') === true)
    problems.push({ path: 'command', message: 'must be a list of strings' });
  return problems;
}

/** Maps the JSON-schema errors of `kubernetes-models` to problems. */
function schemaProblems(error: unknown): Problem[] {
  const errors = (error as { errors?: { instancePath?: string; message?: string }[] }).errors;
  if (!Array.isArray(errors) || errors.length === 0)
    return [{ path: 'manifest', message: String(error) }];
  return errors.map((e) => ({
    path: `manifest${(e.instancePath ?? '').replaceAll('/', '.')}`,
    message: e.message ?? 'invalid',
  }));
}

/**
 * The Job manifest for a worker, built with `kubernetes-models` and validated against its
 * schema. Every problem is reported at once.
 */
export function buildWorkerJob(
  spec: WorkerSpec,
  options: JobManifestOptions,
): Result<IJob, Problem[]> {
  const problems = specProblems(spec);
  if (problems.length > 0) return err(problems);

  const { labels, annotations } = splitLabels(
    ownershipLabels(spec, options.providerId, options.createdAt),
  );
  const env = Object.entries(ownershipEnv(spec, options.providerId)).map(([name, value]) => ({
    name,
    value,
  }));
  const memory = `${spec.resources?.memoryMb ?? options.defaultResources.memoryMb}Mi`;
  const cpu = `${Math.max(1, Math.round((spec.resources?.cpus ?? options.defaultResources.cpus) * 1_000))}m`;
  const container: NonNullable<
    NonNullable<IJob['spec']>['template']['spec']
  >['containers'][number] = {
    name: CONTAINER_NAME,
    image: spec.image,
    imagePullPolicy: options.imagePullPolicy,
    env,
    resources: { requests: { cpu, memory }, limits: { cpu, memory } },
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      runAsUser: options.runAsUser,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  if (spec.command !== undefined && spec.command.length > 0) container.command = [...spec.command];

  const policy = spec.policy;
  const job = new Job({
    metadata: {
      name: jobNameOf(spec.workerId),
      namespace: options.namespace,
      labels,
      annotations,
    },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: seconds(retentionOf(policy)),
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: 'Never',
          activeDeadlineSeconds: Math.max(1, seconds(policy.maxLifetime)),
          terminationGracePeriodSeconds: seconds(policy.gracefulTerminationTimeout),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: options.runAsUser,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [container],
        },
      },
    },
  });
  const validated = Result.fromThrowable(
    () => job.validate(),
    (e) => schemaProblems(e),
  )();
  if (validated.isErr()) return err(validated.error);
  return ok(job.toJSON() as IJob);
}
