import { connectDocker, type DockerConnection } from '../docker-connection.js';
import { dockerEngineInfo } from '../docker-engine.js';

/** The worker image `scripts/services.sh up` builds; tests run their containers from it. */
export const testWorkerImage = (): string =>
  process.env['HODEI_WORKER_IMAGE'] ?? 'hodei/worker:0.1.0';

/**
 * The engine the tests use (`DOCKER_HOST`, default the local socket). Fails, never skips,
 * when it does not answer or lacks the worker image, saying how to bring it up.
 */
export async function requireTestDocker(): Promise<DockerConnection> {
  const connection = connectDocker(process.env['DOCKER_HOST']);
  const info = await dockerEngineInfo(connection);
  if (info.isErr()) {
    throw new Error(
      `${info.error.message}. These tests need a real Docker Engine: run scripts/services.sh up`,
    );
  }
  const image = testWorkerImage();
  try {
    await connection.docker.getImage(image).inspect();
  } catch {
    throw new Error(`The worker image ${image} is missing: run scripts/services.sh up`);
  }
  return connection;
}
