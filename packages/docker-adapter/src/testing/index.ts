export { requireTestDocker, testWorkerImage } from './test-docker.js';
export { startDockerTestRun, TEST_RUN_LABEL } from './test-run.js';
export type { DockerTestRun } from './test-run.js';
export { startLoopbackRegistry } from './loopback-registry.js';
export type { LoopbackRegistry } from './loopback-registry.js';
export { startEngineProxy } from './engine-proxy.js';
export type { EngineProxy } from './engine-proxy.js';
export { startPrivateDockerEngine } from './private-docker-engine.js';
export type { PrivateDockerEngine } from './private-docker-engine.js';
