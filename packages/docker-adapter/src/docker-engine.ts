import { ResultAsync } from 'neverthrow';
import type { DockerConnection } from './docker-connection.js';

export interface DockerUnavailable {
  readonly type: 'DockerUnavailable';
  readonly endpoint: string;
  readonly message: string;
  readonly retryable: true;
  readonly cause: unknown;
}

export const dockerUnavailable = (endpoint: string, cause: unknown): DockerUnavailable => ({
  type: 'DockerUnavailable',
  endpoint,
  message: `Docker Engine at ${endpoint} is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`,
  retryable: true,
  cause,
});

export interface DockerEngineInfo {
  readonly version: string;
  readonly apiVersion: string;
}

/** Asks the engine for its version: the cheapest call that proves it answers. */
export function dockerEngineInfo(
  connection: DockerConnection,
): ResultAsync<DockerEngineInfo, DockerUnavailable> {
  return ResultAsync.fromPromise(connection.docker.version(), (cause) =>
    dockerUnavailable(connection.endpoint, cause),
  ).map((v) => ({ version: v.Version, apiVersion: v.ApiVersion }));
}
