import type { Problem } from '@hodei/domain';
import { normalizeImageReference } from './image-reference.js';

/**
 * Credentials for one registry, as Docker's `X-Registry-Auth` carries them. They are sent
 * only with pulls from `serveraddress`, never to another registry, and never logged.
 */
export interface DockerRegistryAuth {
  /** The registry as an image reference names it: `registry.example.com`, `ghcr.io`, `docker.io`. */
  readonly serveraddress: string;
  readonly username?: string;
  readonly password?: string;
  /** An OAuth refresh token, instead of a username and password. */
  readonly identitytoken?: string;
}

const REGISTRY_HOST =
  /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*(?::[0-9]+)?$/;
/** The names Docker Hub goes by; image references normalise them all to `docker.io`. */
const DOCKER_HUB = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** `https://index.docker.io/v1/` → `docker.io`, `Registry.Example.com:5000` → itself lowercased. */
export function registryOfServerAddress(serveraddress: string): string {
  const host = serveraddress
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return DOCKER_HUB.has(host) ? 'docker.io' : host;
}

export const asRegistryAuths = (
  auth: DockerRegistryAuth | readonly DockerRegistryAuth[] | undefined,
): readonly DockerRegistryAuth[] =>
  auth === undefined
    ? []
    : Array.isArray(auth)
      ? (auth as readonly DockerRegistryAuth[])
      : [auth as DockerRegistryAuth];

/** The credentials for the registry `image` is pulled from, if any. */
export function registryAuthFor(
  auths: readonly DockerRegistryAuth[],
  image: string,
): DockerRegistryAuth | undefined {
  const registry = normalizeImageReference(image).registry.toLowerCase();
  return auths.find((a) => registryOfServerAddress(a.serveraddress) === registry);
}

/** Every problem of the `registryAuth` option, naming fields, never their values. */
export function registryAuthProblems(
  option: DockerRegistryAuth | readonly DockerRegistryAuth[] | undefined,
): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const auths = asRegistryAuths(option);
  for (const [i, auth] of auths.entries()) {
    const at = Array.isArray(option) ? `registryAuth.${i}` : 'registryAuth';
    const registry = registryOfServerAddress(
      typeof auth.serveraddress === 'string' ? auth.serveraddress : '',
    );
    if (!REGISTRY_HOST.test(registry)) {
      problems.push({
        path: `${at}.serveraddress`,
        message:
          'must be a registry host like registry.example.com or 127.0.0.1:5000 (docker.io for Docker Hub)',
      });
    } else if (seen.has(registry)) {
      problems.push({
        path: `${at}.serveraddress`,
        message: `must name each registry once; ${registry} repeats`,
      });
    }
    seen.add(registry);
    const present = (value: unknown): boolean => typeof value === 'string' && value !== '';
    if (present(auth.identitytoken)) continue;
    if (!present(auth.username)) {
      problems.push({
        path: `${at}.username`,
        message: 'must be given with a password (or use identitytoken)',
      });
    }
    if (!present(auth.password)) {
      problems.push({
        path: `${at}.password`,
        message: 'must be given with a username (or use identitytoken)',
      });
    }
  }
  return problems;
}
