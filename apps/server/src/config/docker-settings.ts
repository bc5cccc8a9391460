/**
 * The settings of a Docker provider, each under three names: a variable for every docker
 * provider, `HODEI_PROVIDER_<ID>_<SUFFIX>` for one of them, and a key of a provider entry (or
 * of the `docker:` section) in the configuration file.
 */
export interface DockerSetting {
  /** The variable for every docker provider. */
  readonly variable: string;
  /** The key in a provider entry or in `docker:`; a dot goes one mapping down. */
  readonly key: string;
  /** A value never shown in a problem. */
  readonly secret?: true;
  /** A YAML list is taken as the comma list the variable holds. */
  readonly list?: true;
}

export const DOCKER_SETTINGS: readonly DockerSetting[] = [
  { variable: 'DOCKER_HOST', key: 'dockerHost' },
  { variable: 'HODEI_DOCKER_NETWORK', key: 'network' },
  { variable: 'HODEI_DOCKER_REGISTRY_SERVER', key: 'registryAuth.serveraddress' },
  { variable: 'HODEI_DOCKER_REGISTRY_USERNAME', key: 'registryAuth.username', secret: true },
  { variable: 'HODEI_DOCKER_REGISTRY_PASSWORD', key: 'registryAuth.password', secret: true },
  { variable: 'HODEI_ALLOWED_IMAGES', key: 'allowedImages', list: true },
  { variable: 'HODEI_IMAGE_PULL_TIMEOUT_SECONDS', key: 'imagePullTimeoutSeconds' },
  { variable: 'HODEI_WORKER_MEMORY_MB', key: 'workerDefaults.memoryMb' },
  { variable: 'HODEI_WORKER_CPUS', key: 'workerDefaults.cpus' },
  { variable: 'HODEI_WORKER_PIDS_LIMIT', key: 'workerDefaults.pidsLimit' },
  { variable: 'HODEI_WORKER_LOG_MAX_SIZE', key: 'workerDefaults.logMaxSize' },
  { variable: 'HODEI_WORKER_LOG_MAX_FILE', key: 'workerDefaults.logMaxFile' },
  { variable: 'HODEI_WORKER_INIT', key: 'workerDefaults.init' },
  { variable: 'HODEI_WORKER_USER', key: 'workerDefaults.user' },
  { variable: 'HODEI_WORKER_READ_ONLY_ROOT', key: 'workerDefaults.readOnlyRootFilesystem' },
];

export const PROVIDER_VARIABLE_PREFIX = 'HODEI_PROVIDER_';

/** `ci-a` → `CI_A`: ids are lowercase letters, digits and '-', so this is one-to-one. */
export const providerKey = (providerId: string): string =>
  providerId.toUpperCase().replaceAll('-', '_');

/** `DOCKER_HOST` → `DOCKER_HOST`, `HODEI_WORKER_CPUS` → `WORKER_CPUS`. */
export const settingSuffix = (variable: string): string => variable.replace(/^HODEI_/, '');

/** `HODEI_PROVIDER_CI_A_DOCKER_NETWORK`: a setting of one provider. */
export const providerVariable = (providerId: string, variable: string): string =>
  `${PROVIDER_VARIABLE_PREFIX}${providerKey(providerId)}_${settingSuffix(variable)}`;

/** What a reader for one provider looks under for a variable: its own name, then the shared one. */
export const providerNames =
  (providerId: string) =>
  (variable: string): readonly string[] =>
    DOCKER_SETTINGS.some((s) => s.variable === variable)
      ? [providerVariable(providerId, variable), variable]
      : [variable];

export const isSecretSetting = (variable: string): boolean =>
  DOCKER_SETTINGS.some((s) => s.secret === true && s.variable === variable);

/** The settings' suffixes, as a problem lists them. */
export const SETTING_SUFFIXES = DOCKER_SETTINGS.map((s) => settingSuffix(s.variable));
