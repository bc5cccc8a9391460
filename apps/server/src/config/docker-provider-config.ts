import {
  dockerHostProblem,
  validateProviderOptions,
  type DockerWorkerProviderOptions,
} from '@hodei/docker-adapter';
import { parseProviderId } from '@hodei/domain';
import type { EnvReader } from './env-reader.js';
import { RegistryCredentials } from './registry-credentials.js';
import { readDockerWorkerConfig, type DockerWorkerConfig } from './worker-container-config.js';

/** Everything one Docker provider is configured with: its engine, network, registry, workers. */
export interface DockerProviderConfig extends DockerWorkerConfig {
  /** `DOCKER_HOST` syntax; unset: the local socket. */
  readonly dockerHost?: string;
  readonly network?: string;
  readonly registryAuth?: RegistryCredentials;
}

const REGISTRY = {
  serveraddress: 'HODEI_DOCKER_REGISTRY_SERVER',
  username: 'HODEI_DOCKER_REGISTRY_USERNAME',
  password: 'HODEI_DOCKER_REGISTRY_PASSWORD',
} as const;

/**
 * Reads one Docker provider's settings (through a reader for that provider, which looks
 * under `HODEI_PROVIDER_<ID>_…` first) and checks them as the provider will.
 */
export function readDockerProviderConfig(
  reader: EnvReader,
  workerImage: string,
): DockerProviderConfig {
  const workers = readDockerWorkerConfig(reader, workerImage);
  const dockerHost = reader.read('DOCKER_HOST');
  const hostProblem = dockerHost === undefined ? undefined : dockerHostProblem(dockerHost);
  if (dockerHost !== undefined && hostProblem !== undefined) {
    reader.problem(
      'DOCKER_HOST',
      withoutUserInfo(dockerHost),
      hostProblem.replace(/^must be /, ''),
    );
  }
  const network = reader.read('HODEI_DOCKER_NETWORK');
  const registryAuth = readRegistryAuth(reader);
  checkAsTheProviderWill(reader, network, registryAuth);
  return {
    ...workers,
    ...(dockerHost === undefined ? {} : { dockerHost }),
    ...(network === undefined ? {} : { network }),
    ...(registryAuth === undefined ? {} : { registryAuth }),
  };
}

const CREDENTIALS = 'the registry credentials need a server, a username and a password';
const ACCEPTS: Record<keyof typeof REGISTRY, (message: string) => string> = {
  serveraddress: (message) => message.replace(/^must be /, ''),
  username: () => `the registry user name; ${CREDENTIALS}`,
  password: () => `the registry password; ${CREDENTIALS}`,
};

/** The adapter's own check of the network and the credentials, each problem on its variable. */
function checkAsTheProviderWill(
  reader: EnvReader,
  network: string | undefined,
  registryAuth: RegistryCredentials | undefined,
): void {
  const providerId = parseProviderId('docker');
  if (providerId.isErr()) return;
  const checked = validateProviderOptions({
    providerId: providerId.value,
    ...(network === undefined ? {} : { network }),
    ...(registryAuth === undefined ? {} : { registryAuth: registryAuth.toAuthConfig() }),
  });
  if (checked.isOk()) return;
  for (const problem of checked.error.problems) {
    if (problem.path === 'network') {
      reader.problem(
        'HODEI_DOCKER_NETWORK',
        network ?? '',
        problem.message.replace(/^must be /, ''),
      );
      continue;
    }
    const field = problem.path.split('.').at(-1) as keyof typeof REGISTRY;
    const variable = REGISTRY[field] as string | undefined;
    if (variable === undefined) continue;
    const raw = reader.read(variable) ?? '';
    const accepts = ACCEPTS[field](problem.message);
    // A field missing beside others from the file is named as the file's key would be.
    const beside = Object.values(REGISTRY)
      .map((v) => reader.originOf(v))
      .find((o) => o !== undefined);
    if (raw === '' && beside !== undefined) {
      reader.values.add({
        variable: beside.key.replace(/[^.]+$/, field),
        value: '',
        accepts,
        file: beside.file,
        line: beside.line,
      });
      continue;
    }
    // Never echo a credential; the server is not one.
    reader.problem(
      variable,
      field === 'serveraddress' || raw === '' ? withoutUserInfo(raw) : '<redacted>',
      accepts,
    );
  }
}

/** The credentials when any of the three is set; the provider's check names what is missing. */
function readRegistryAuth(reader: EnvReader): RegistryCredentials | undefined {
  const serveraddress = reader.read(REGISTRY.serveraddress);
  const username = reader.read(REGISTRY.username);
  const password = reader.read(REGISTRY.password);
  if (serveraddress === undefined && username === undefined && password === undefined) {
    return undefined;
  }
  return new RegistryCredentials(serveraddress ?? '', username ?? '', password ?? '');
}

/** The adapter's options for a provider so configured (its id, clock and logger aside). */
export function dockerProviderOptions(
  config: DockerProviderConfig,
): Omit<DockerWorkerProviderOptions, 'providerId'> {
  const { dockerHost: _host, registryAuth, ...options } = config;
  return {
    ...options,
    ...(registryAuth === undefined ? {} : { registryAuth: registryAuth.toAuthConfig() }),
  };
}

/** A URL's `user:password@` is a credential too: never echoed in a problem. */
export const withoutUserInfo = (text: string): string =>
  text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1<redacted>@');
