export { requireTestDocker, testWorkerImage } from './test-docker.js';
