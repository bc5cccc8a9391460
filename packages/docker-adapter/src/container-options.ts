import type Docker from 'dockerode';
import {
  isWorkerMode,
  ownershipEnv,
  ownershipLabels,
  parseWorkerId,
  reservedKeyProblems,
  validatePolicy,
  type Problem,
  type ProviderId,
  type WorkerSpec,
} from '@hodei/domain';
import {
  healthcheckProblems,
  MIN_CPUS,
  MIN_MEMORY_MB,
  type DockerHealthcheck,
  type DockerWorkerProviderOptions,
} from './docker-provider-options.js';
import { containerName } from './container-name.js';
import { imageReferenceProblem } from './image-reference.js';

export const DEFAULT_PIDS_LIMIT = 512;
/**
 * What a worker gets when neither its spec nor the provider's options say otherwise: bounded
 * memory, CPU and log files, and an init as PID 1 so SIGTERM reaches the command.
 */
export const WORKER_CONTAINER_DEFAULTS = {
  memoryMb: 1024,
  cpus: 1,
  pidsLimit: DEFAULT_PIDS_LIMIT,
  logMaxSize: '10m',
  logMaxFile: 3,
  init: true,
} as const;
/** Scratch space a read-only root filesystem still needs, small and not executable. */
const READ_ONLY_TMPFS = { '/tmp': 'rw,noexec,nosuid,nodev,size=64m' };
const ENV_KEY = /^[^=\0]+$/;

export const healthcheckFor = (
  options: DockerWorkerProviderOptions,
  spec: WorkerSpec,
): DockerHealthcheck | undefined =>
  typeof options.healthcheck === 'function' ? options.healthcheck(spec) : options.healthcheck;

/** Every problem of a spec that Docker would refuse or that would break ownership. */
export function specProblems(
  spec: WorkerSpec,
  healthcheck: DockerHealthcheck | undefined,
): Problem[] {
  const problems: Problem[] = [];
  if (parseWorkerId(spec.workerId).isErr()) {
    problems.push({
      path: 'workerId',
      message: "must be 1 to 50 lowercase letters, digits or '-' (DNS-safe)",
    });
  }
  if (!isWorkerMode(spec.mode))
    problems.push({ path: 'mode', message: "must be 'job' or 'agent'" });
  if (typeof spec.image !== 'string') {
    problems.push({ path: 'image', message: 'must be an image reference' });
  } else {
    const image = imageReferenceProblem(spec.image);
    if (image !== undefined) problems.push({ path: 'image', message: image });
  }
  if (spec.command?.some((part) => typeof part !== 'string' || part.includes('\0'))) {
    problems.push({ path: 'command', message: 'must be a list of strings' });
  }
  for (const [key, value] of Object.entries(spec.env ?? {})) {
    if (!ENV_KEY.test(key)) {
      problems.push({ path: `env.${key}`, message: "name must be non-empty without '='" });
    }
    if (typeof value !== 'string')
      problems.push({ path: `env.${key}`, message: 'must be a string' });
  }
  for (const [key, value] of Object.entries(spec.labels ?? {})) {
    if (key.trim() === '')
      problems.push({ path: 'labels', message: 'label keys must be non-empty' });
    if (typeof value !== 'string') {
      problems.push({ path: `labels.${key}`, message: 'must be a string' });
    }
  }
  problems.push(...reservedKeyProblems(spec));
  const { memoryMb, cpus, pidsLimit } = spec.resources ?? {};
  if (memoryMb !== undefined && !(Number.isFinite(memoryMb) && memoryMb >= MIN_MEMORY_MB)) {
    problems.push({ path: 'resources.memoryMb', message: `must be at least ${MIN_MEMORY_MB}` });
  }
  if (cpus !== undefined && !(Number.isFinite(cpus) && cpus >= MIN_CPUS)) {
    problems.push({ path: 'resources.cpus', message: `must be at least ${MIN_CPUS}` });
  }
  if (pidsLimit !== undefined && !(Number.isInteger(pidsLimit) && pidsLimit > 0)) {
    problems.push({ path: 'resources.pidsLimit', message: 'must be a positive integer' });
  }
  const policy = validatePolicy(spec.policy);
  if (policy.isErr()) {
    for (const p of policy.error) {
      problems.push({ path: `policy.${'field' in p ? p.field : ''}`, message: p.message });
    }
  }
  if (healthcheck !== undefined) problems.push(...healthcheckProblems(healthcheck, 'healthcheck'));
  return problems;
}

const ns = (ms: number | undefined): number | undefined =>
  ms === undefined ? undefined : ms * 1_000_000;

/** Docker reads 0 as "no limit", which is how an operator turns a default limit off. */
const bytesOfMb = (mb: number): number => Math.round(mb * 1024 * 1024);
const nanoCpus = (cpus: number): number => Math.round(cpus * 1e9);

/** The limits, log rotation and init of one worker: its spec first, then the defaults. */
function workerLimits(
  spec: WorkerSpec,
  options: DockerWorkerProviderOptions,
): Pick<
  NonNullable<Docker.ContainerCreateOptions['HostConfig']>,
  'Memory' | 'NanoCpus' | 'PidsLimit' | 'LogConfig' | 'Init'
> {
  const { memoryMb, cpus, pidsLimit } = spec.resources ?? {};
  const d = WORKER_CONTAINER_DEFAULTS;
  return {
    Memory: bytesOfMb(memoryMb ?? options.defaultMemoryMb ?? d.memoryMb),
    NanoCpus: nanoCpus(cpus ?? options.defaultCpus ?? d.cpus),
    PidsLimit: pidsLimit ?? options.defaultPidsLimit ?? d.pidsLimit,
    LogConfig: {
      Type: 'json-file',
      Config: {
        'max-size': options.logMaxSize ?? d.logMaxSize,
        'max-file': String(options.logMaxFile ?? d.logMaxFile),
      },
    },
    Init: options.init ?? d.init,
  };
}

/**
 * The container for one worker: ownership labels and env (SPEC §6), limits, and the security
 * floor that no option lowers — never privileged, no-new-privileges, NET_RAW dropped.
 * `name` goes in the query string of the create, everything else in its body.
 */
export function containerOptions(
  spec: WorkerSpec,
  providerId: ProviderId,
  createdAt: number,
  options: DockerWorkerProviderOptions,
  healthcheck: DockerHealthcheck | undefined,
): Docker.ContainerCreateOptions {
  const env = ownershipEnv(spec, providerId);
  const readOnly = options.readOnlyRootFilesystem ?? false;
  return {
    name: containerName(providerId, spec.workerId),
    Image: spec.image,
    Cmd: spec.command === undefined ? undefined : [...spec.command],
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: ownershipLabels(spec, providerId, createdAt),
    User: options.user,
    Healthcheck:
      healthcheck === undefined
        ? undefined
        : {
            Test: ['CMD', ...healthcheck.test],
            Interval: ns(healthcheck.intervalMs),
            Timeout: ns(healthcheck.timeoutMs),
            StartPeriod: ns(healthcheck.startPeriodMs),
            Retries: healthcheck.retries,
          },
    HostConfig: {
      ...workerLimits(spec, options),
      Privileged: false,
      SecurityOpt: ['no-new-privileges'],
      CapDrop: ['NET_RAW', ...(options.capDrop ?? [])],
      ReadonlyRootfs: readOnly,
      ...(readOnly ? { Tmpfs: READ_ONLY_TMPFS } : {}),
      NetworkMode: options.network,
      Binds: (options.mounts ?? []).map(
        (m) => `${m.hostPath}:${m.containerPath}:${m.readOnly === true ? 'ro' : 'rw'}`,
      ),
      AutoRemove: false,
      RestartPolicy: { Name: 'no' },
    },
  };
}
