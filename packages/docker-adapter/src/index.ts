export { connectDocker, DEFAULT_DOCKER_SOCKET } from './docker-connection.js';
export type { DockerConnection } from './docker-connection.js';
export { dockerEngineInfo, dockerUnavailable } from './docker-engine.js';
export type { DockerEngineInfo, DockerUnavailable } from './docker-engine.js';
