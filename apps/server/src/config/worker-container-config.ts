import {
  registryPattern,
  validateProviderOptions,
  WORKER_CONTAINER_DEFAULTS,
  type DockerWorkerProviderOptions,
} from '@hodei/docker-adapter';
import { parseProviderId } from '@hodei/domain';
import type { EnvReader } from './env-reader.js';

/**
 * What the Docker provider gives every worker and may pull: the operator's side of
 * `DockerWorkerProviderOptions`. Unset limits keep the adapter's
 * `WORKER_CONTAINER_DEFAULTS`.
 */
export type DockerWorkerConfig = Pick<
  DockerWorkerProviderOptions,
  | 'allowedImages'
  | 'pullTimeoutMs'
  | 'defaultMemoryMb'
  | 'defaultCpus'
  | 'defaultPidsLimit'
  | 'logMaxSize'
  | 'logMaxFile'
  | 'init'
  | 'user'
  | 'readOnlyRootFilesystem'
>;

const DEFAULT_PULL_TIMEOUT_SECONDS = 120;

/** The variable each option comes from, to name it in a problem. */
const VARIABLES: Record<keyof DockerWorkerConfig, string> = {
  allowedImages: 'HODEI_ALLOWED_IMAGES',
  pullTimeoutMs: 'HODEI_IMAGE_PULL_TIMEOUT_SECONDS',
  defaultMemoryMb: 'HODEI_WORKER_MEMORY_MB',
  defaultCpus: 'HODEI_WORKER_CPUS',
  defaultPidsLimit: 'HODEI_WORKER_PIDS_LIMIT',
  logMaxSize: 'HODEI_WORKER_LOG_MAX_SIZE',
  logMaxFile: 'HODEI_WORKER_LOG_MAX_FILE',
  init: 'HODEI_WORKER_INIT',
  user: 'HODEI_WORKER_USER',
  readOnlyRootFilesystem: 'HODEI_WORKER_READ_ONLY_ROOT',
};

/**
 * Reads the worker container variables and checks them as the provider will, so a bad value
 * fails at start naming its variable. Without `HODEI_ALLOWED_IMAGES`, only the default
 * worker image's registry may be pulled from.
 */
export function readDockerWorkerConfig(reader: EnvReader, workerImage: string): DockerWorkerConfig {
  const number = (name: string, accepts: string): number | undefined => {
    const raw = reader.read(name);
    if (raw === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(raw)) reader.problem(name, raw, accepts);
    return Number(raw);
  };
  const limit = 'a number, 0 for no limit';
  const count = 'a whole number from 1';
  const allowed = reader.read(VARIABLES.allowedImages);
  const config: DockerWorkerConfig = {
    allowedImages:
      allowed === undefined
        ? [registryPattern(workerImage)]
        : allowed
            .split(',')
            .map((p) => p.trim())
            .filter((p) => p !== ''),
    pullTimeoutMs: reader.seconds(VARIABLES.pullTimeoutMs, DEFAULT_PULL_TIMEOUT_SECONDS * 1000),
    ...optional('defaultMemoryMb', number(VARIABLES.defaultMemoryMb, limit)),
    ...optional('defaultCpus', number(VARIABLES.defaultCpus, limit)),
    ...optional('defaultPidsLimit', number(VARIABLES.defaultPidsLimit, count)),
    ...optional('logMaxSize', reader.read(VARIABLES.logMaxSize)),
    ...optional('logMaxFile', number(VARIABLES.logMaxFile, count)),
    init: reader.boolean(VARIABLES.init, WORKER_CONTAINER_DEFAULTS.init),
    ...optional('user', reader.read(VARIABLES.user)),
    readOnlyRootFilesystem: reader.boolean(VARIABLES.readOnlyRootFilesystem, false),
  };
  checkAsTheProviderWill(reader, config);
  return config;
}

const optional = <K extends keyof DockerWorkerConfig, V>(key: K, value: V | undefined) =>
  value === undefined ? {} : ({ [key]: value } as Record<K, V>);

function checkAsTheProviderWill(reader: EnvReader, config: DockerWorkerConfig): void {
  const providerId = parseProviderId('docker');
  if (providerId.isErr()) return;
  const checked = validateProviderOptions({ providerId: providerId.value, ...config });
  if (checked.isOk()) return;
  for (const problem of checked.error.problems) {
    const key = problem.path.split('.')[0] ?? '';
    const variable = (VARIABLES as Record<string, string | undefined>)[key];
    if (variable === undefined) continue;
    const raw = reader.read(variable) ?? '';
    // A value that is not a number was reported already.
    if (reader.hasProblem(variable)) continue;
    reader.problem(
      variable,
      raw,
      key === 'allowedImages'
        ? `a comma list of image patterns with * and ** globs, like docker.io/library/*; ${problem.message}`
        : problem.message.replace(/^must be /, ''),
    );
  }
}
