import { posix } from 'node:path';
import { err, ok, type Result } from 'neverthrow';
import type { Clock, Logger, Problem, ProviderId, WorkerSpec } from '@hodei/domain';
import type { DockerConnection } from './docker-connection.js';
import { imagePatternProblem } from './image-allowlist.js';
import { registryAuthProblems, type DockerRegistryAuth } from './registry-auth.js';

export const PULL_POLICIES = ['IfNotPresent', 'Always', 'Never'] as const;
/** When to pull the worker image, as Kubernetes names it. */
export type PullPolicy = (typeof PULL_POLICIES)[number];

/** A host path mounted into every worker; only under one of `allowedHostPaths`. */
export interface DockerHostMount {
  readonly hostPath: string;
  readonly containerPath: string;
  readonly readOnly?: boolean;
}

/** A Docker HEALTHCHECK for the workers; `unhealthy` ends an agent with HealthCheckFailed. */
export interface DockerHealthcheck {
  /** The command, run without a shell (`['sh', '-c', '…']` for one). */
  readonly test: readonly string[];
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly startPeriodMs?: number;
}

export interface DockerWorkerProviderOptions {
  readonly providerId: ProviderId;
  /** Default: the local socket (`connectDocker()`). */
  readonly connection?: DockerConnection;
  /** Default `IfNotPresent`. */
  readonly pullPolicy?: PullPolicy;
  /** Timeout of every Docker call but pulls and stops; default 30 s. */
  readonly callTimeoutMs?: number;
  /** Timeout of one image pull; default 300 s. */
  readonly pullTimeoutMs?: number;
  /** Pids limit of a worker whose spec sets none; default 512. */
  readonly defaultPidsLimit?: number;
  /** Memory limit (MiB) of a worker whose spec sets none; default 1024, 0 for none. */
  readonly defaultMemoryMb?: number;
  /** CPU limit of a worker whose spec sets none; default 1, 0 for none. */
  readonly defaultCpus?: number;
  /** json-file rotation of every worker's log: size of one file (`10m`) and how many are kept. */
  readonly logMaxSize?: string;
  readonly logMaxFile?: number;
  /** An init (docker-init) as PID 1, forwarding signals and reaping zombies; default true. */
  readonly init?: boolean;
  /**
   * Glob patterns (`*` within a path segment, `**` across) of the images that may be pulled,
   * matched against the reference as written and in full (`docker.io/library/alpine:3`).
   * Images already on the engine run without a pull and need no pattern. Default: any.
   */
  readonly allowedImages?: readonly string[];
  /** Opt-ins, applied to every worker of this provider. */
  readonly readOnlyRootFilesystem?: boolean;
  /** `uid[:gid]` or a user name the image knows. */
  readonly user?: string;
  /** Capabilities dropped on top of NET_RAW (always dropped). */
  readonly capDrop?: readonly string[];
  /**
   * A Docker network to attach workers to (a name or id, `host`, `none`, or
   * `container:<name|id>`); default the engine's bridge.
   */
  readonly network?: string;
  /**
   * Credentials for private registries, each sent only with pulls from its `serveraddress`.
   * The provider never logs them nor puts them in an error.
   */
  readonly registryAuth?: DockerRegistryAuth | readonly DockerRegistryAuth[];
  /** Host paths workers may mount; none by default. */
  readonly allowedHostPaths?: readonly string[];
  readonly mounts?: readonly DockerHostMount[];
  /** A healthcheck for every worker, or chosen per spec (undefined: the image's own). */
  readonly healthcheck?: DockerHealthcheck | ((spec: WorkerSpec) => DockerHealthcheck | undefined);
  /** Reconnection backoff of the events stream. */
  readonly watchBackoff?: { readonly initialMs?: number; readonly maxMs?: number };
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface InvalidDockerProviderConfig {
  readonly type: 'InvalidDockerProviderConfig';
  readonly message: string;
  readonly problems: readonly Problem[];
}

const CAPABILITY = /^[A-Z_]+$/;
/** What Docker accepts as a network name or id, or another container's network namespace. */
const NETWORK = /^(?:container:)?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** What json-file's `max-size` accepts: a number and an optional k, m or g. */
const LOG_SIZE = /^[1-9][0-9]*[kmg]?$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*(?::[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;

const positiveInteger = (value: number | undefined): boolean =>
  value === undefined || (Number.isInteger(value) && value > 0);

/** Checks the options that do not depend on a worker spec; lists every problem. */
export function validateProviderOptions(
  options: DockerWorkerProviderOptions,
): Result<DockerWorkerProviderOptions, InvalidDockerProviderConfig> {
  const problems: Problem[] = [];
  if (options.pullPolicy !== undefined && !PULL_POLICIES.includes(options.pullPolicy)) {
    problems.push({ path: 'pullPolicy', message: `must be one of ${PULL_POLICIES.join(', ')}` });
  }
  for (const field of [
    'callTimeoutMs',
    'pullTimeoutMs',
    'defaultPidsLimit',
    'logMaxFile',
  ] as const) {
    if (!positiveInteger(options[field])) {
      problems.push({ path: field, message: 'must be a positive integer' });
    }
  }
  problems.push(...workerDefaultProblems(options));
  if (options.network !== undefined && !NETWORK.test(options.network)) {
    problems.push({
      path: 'network',
      message:
        'must be a Docker network name or id (like ci-net, host or none) or container:<name>',
    });
  }
  problems.push(...registryAuthProblems(options.registryAuth));
  for (const [i, cap] of (options.capDrop ?? []).entries()) {
    if (!CAPABILITY.test(cap)) {
      problems.push({ path: `capDrop.${i}`, message: 'must be a capability name like NET_ADMIN' });
    }
  }
  const allowed = (options.allowedHostPaths ?? []).map((p) => posix.resolve('/', p));
  for (const [i, p] of (options.allowedHostPaths ?? []).entries()) {
    if (!posix.isAbsolute(p) || posix.resolve('/', p) === '/') {
      problems.push({ path: `allowedHostPaths.${i}`, message: 'must be an absolute path below /' });
    }
  }
  for (const [i, mount] of (options.mounts ?? []).entries()) {
    const host = posix.resolve('/', mount.hostPath);
    if (!posix.isAbsolute(mount.hostPath)) {
      problems.push({ path: `mounts.${i}.hostPath`, message: 'must be an absolute path' });
    } else if (!allowed.some((a) => host === a || host.startsWith(`${a}/`))) {
      problems.push({
        path: `mounts.${i}.hostPath`,
        message: `${host} is not under an allowed host path; host mounts need allowedHostPaths`,
      });
    }
    if (!posix.isAbsolute(mount.containerPath) || mount.containerPath.includes(':')) {
      problems.push({
        path: `mounts.${i}.containerPath`,
        message: 'must be an absolute path without ":"',
      });
    }
  }
  if (typeof options.healthcheck === 'object') {
    problems.push(...healthcheckProblems(options.healthcheck, 'healthcheck'));
  }
  return problems.length === 0
    ? ok(options)
    : err({
        type: 'InvalidDockerProviderConfig',
        message: `invalid Docker provider configuration: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
        problems,
      });
}

/** Docker refuses memory limits below 6 MB. */
export const MIN_MEMORY_MB = 6;
export const MIN_CPUS = 0.01;

/** The defaults every worker gets: limits Docker accepts, a rotation json-file accepts. */
function workerDefaultProblems(options: DockerWorkerProviderOptions): Problem[] {
  const problems: Problem[] = [];
  const { defaultMemoryMb: memory, defaultCpus: cpus } = options;
  if (
    memory !== undefined &&
    !(memory === 0 || (Number.isFinite(memory) && memory >= MIN_MEMORY_MB))
  ) {
    problems.push({
      path: 'defaultMemoryMb',
      message: `must be 0 (no limit) or at least ${MIN_MEMORY_MB}`,
    });
  }
  if (cpus !== undefined && !(cpus === 0 || (Number.isFinite(cpus) && cpus >= MIN_CPUS))) {
    problems.push({ path: 'defaultCpus', message: `must be 0 (no limit) or at least ${MIN_CPUS}` });
  }
  if (options.logMaxSize !== undefined && !LOG_SIZE.test(options.logMaxSize)) {
    problems.push({ path: 'logMaxSize', message: 'must be a size like 10m (k, m or g)' });
  }
  if (options.user !== undefined && !USER.test(options.user)) {
    problems.push({ path: 'user', message: 'must be uid[:gid] or a user name' });
  }
  for (const [i, pattern] of (options.allowedImages ?? []).entries()) {
    const problem = imagePatternProblem(pattern);
    if (problem !== undefined) problems.push({ path: `allowedImages.${i}`, message: problem });
  }
  return problems;
}

export function healthcheckProblems(check: DockerHealthcheck, path: string): Problem[] {
  const problems: Problem[] = [];
  if (check.test.length === 0 || check.test.some((part) => typeof part !== 'string')) {
    problems.push({ path: `${path}.test`, message: 'must be a non-empty command' });
  }
  for (const field of ['intervalMs', 'timeoutMs', 'startPeriodMs', 'retries'] as const) {
    if (!positiveInteger(check[field])) {
      problems.push({ path: `${path}.${field}`, message: 'must be a positive integer' });
    }
  }
  return problems;
}
