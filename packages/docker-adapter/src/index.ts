export { connectDocker, DEFAULT_DOCKER_SOCKET, dockerHostProblem } from './docker-connection.js';
export type { DockerConnection } from './docker-connection.js';
export { dockerEngineInfo, dockerUnavailable } from './docker-engine.js';
export type { DockerEngineInfo, DockerUnavailable } from './docker-engine.js';
export { DockerWorkerProvider } from './docker-worker-provider.js';
export { DEFAULT_PIDS_LIMIT, WORKER_CONTAINER_DEFAULTS } from './container-options.js';
export { CONTAINER_NAME_MAX_LENGTH, containerName, legacyContainerName } from './container-name.js';
export { PULL_POLICIES, validateProviderOptions } from './docker-provider-options.js';
export type {
  DockerHealthcheck,
  DockerHostMount,
  DockerWorkerProviderOptions,
  InvalidDockerProviderConfig,
  PullPolicy,
} from './docker-provider-options.js';
export { imageReferenceProblem, normalizeImageReference } from './image-reference.js';
export { registryAuthFor, registryOfServerAddress } from './registry-auth.js';
export type { DockerRegistryAuth } from './registry-auth.js';
export type { NormalizedImage } from './image-reference.js';
export { imagePatternProblem, isImageAllowed, registryPattern } from './image-allowlist.js';
export { mapContainerState } from './map-container-state.js';
export { createDockerLifecycle, DockerLifecycleManager } from './docker-lifecycle-manager.js';
export type { DockerLifecycle, DockerLifecycleManagerDeps } from './docker-lifecycle-manager.js';
