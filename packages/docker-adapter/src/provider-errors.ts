import type { Problem, WorkerProviderError } from '@hodei/domain';
import { toProviderError, type DockerCallFailure } from './docker-call.js';
import type { DockerProviderContext } from './provider-context.js';

export function invalidWorkerSpec(problems: readonly Problem[]): WorkerProviderError {
  return {
    type: 'InvalidWorkerSpec',
    message: `invalid worker spec: ${problems.map((p) => (p.path === '' ? p.message : `${p.path} ${p.message}`)).join('; ')}`,
    problems,
  };
}

/** A failed call as the port's error, naming this provider and its engine. */
export function providerError(
  context: Pick<DockerProviderContext, 'providerId' | 'endpoint'>,
  failure: DockerCallFailure,
): WorkerProviderError {
  return toProviderError(failure, context.providerId, context.endpoint);
}
