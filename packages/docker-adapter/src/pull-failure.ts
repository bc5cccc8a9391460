import type { WorkerProviderError } from '@hodei/domain';
import { messageOf, type DockerCallFailure } from './docker-call.js';
import { normalizeImageReference } from './image-reference.js';

/**
 * What the daemon says when the registry itself could not be reached (refused, unresolvable,
 * silent, cut): an outage to retry, not a bad reference. Its text names resolvers and
 * addresses, so it is kept as the cause, never shown.
 */
const REGISTRY_UNREACHABLE =
  /dial tcp|connection refused|no such host|i\/o timeout|TLS handshake timeout|Client\.Timeout|deadline exceeded|network is unreachable|no route to host|connection reset|server misbehaving|\bEOF\b/i;

/** Why one pull did not finish: the daemon's answer, or its words inside the progress stream. */
export type PullFailure =
  | { readonly kind: 'call'; readonly failure: DockerCallFailure }
  | { readonly kind: 'stream'; readonly message: string };

/**
 * A failed pull as the port's error: a timeout or an unreachable registry is a retryable
 * outage (503 at the API), a registry's refusal (unknown manifest, denied) is ImagePullFailed.
 */
export function pullError(
  image: string,
  pull: PullFailure,
  engineError: (failure: DockerCallFailure) => WorkerProviderError,
): WorkerProviderError {
  const registry = normalizeImageReference(image).registry;
  let said: string;
  if (pull.kind === 'stream') said = pull.message;
  else {
    const failure = pull.failure;
    switch (failure.kind) {
      case 'unreachable':
        return engineError(failure);
      case 'timeout':
        return {
          type: 'ProviderTimeout',
          operation: 'pullImage',
          timeoutMs: failure.timeoutMs,
          message: `pulling image ${image} did not finish within ${failure.timeoutMs} ms; is registry ${registry} reachable?`,
          retryable: true,
        };
      case 'http':
        said = failure.message;
        break;
      case 'other':
        said = messageOf(failure.cause);
        break;
    }
  }
  const cause = pull.kind === 'call' ? pull.failure : said;
  if (REGISTRY_UNREACHABLE.test(said)) {
    return {
      type: 'ProviderFailure',
      operation: 'pullImage',
      message: `could not pull image ${image}: registry ${registry} cannot be reached; try again later`,
      retryable: true,
      cause,
    };
  }
  return {
    type: 'ImagePullFailed',
    image,
    message: `could not pull image ${image}: ${said}`,
    cause,
  };
}
