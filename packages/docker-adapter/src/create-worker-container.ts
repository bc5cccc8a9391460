import { err, errAsync, ok, okAsync, Result, type ResultAsync } from 'neverthrow';
import type { Clock, WorkerHandle, WorkerProviderError, WorkerSpec } from '@hodei/domain';
import { containerName, legacyContainerName } from './container-name.js';
import { containerOptions, healthcheckFor, specProblems } from './container-options.js';
import { forceRemoveContainer } from './container-teardown.js';
import type { CreatedContainers } from './created-containers.js';
import { dockerCall, isStatus, messageOf, type DockerCallFailure } from './docker-call.js';
import type {
  DockerHealthcheck,
  DockerWorkerProviderOptions,
  PullPolicy,
} from './docker-provider-options.js';
import type { ImagePuller } from './image-puller.js';
import type { LegacyContainers } from './legacy-containers.js';
import { postContainerCreate } from './post-container-create.js';
import type { DockerProviderContext } from './provider-context.js';
import { invalidWorkerSpec, providerError } from './provider-errors.js';
import { removeAbandonedContainer } from './remove-abandoned-container.js';

/** What creating a worker's container needs from the provider. */
export interface WorkerCreationDeps {
  readonly context: DockerProviderContext;
  readonly options: DockerWorkerProviderOptions;
  readonly clock: Clock;
  readonly pullPolicy: PullPolicy;
  readonly images: ImagePuller;
  readonly created: CreatedContainers;
  readonly legacy: LegacyContainers;
}

interface CreatedContainer {
  readonly resourceId: string;
  readonly createdAt: number;
}

/**
 * Validates the spec, refuses a worker id an old-named container still holds, pulls the
 * image as the pull policy says, then creates and starts the worker's container; a failure
 * part-way leaves no container behind.
 */
export function createWorkerContainer(
  deps: WorkerCreationDeps,
  spec: WorkerSpec,
): ResultAsync<WorkerHandle, WorkerProviderError> {
  const chosen = Result.fromThrowable(
    () => healthcheckFor(deps.options, spec),
    (cause) => cause,
  )();
  if (chosen.isErr()) {
    return errAsync(invalidWorkerSpec([{ path: 'healthcheck', message: messageOf(chosen.error) }]));
  }
  const problems = specProblems(spec, chosen.value);
  if (problems.length > 0) return errAsync(invalidWorkerSpec(problems));
  return deps.legacy.holds(spec.workerId).andThen((held) => {
    if (held) {
      return errAsync<WorkerHandle, WorkerProviderError>({
        type: 'WorkerAlreadyExists',
        workerId: spec.workerId,
        message: `a container named ${legacyContainerName(spec.workerId)} (named by an earlier version) already exists for worker ${spec.workerId}`,
      });
    }
    const pulled = deps.pullPolicy === 'Always' ? deps.images.pull(spec.image) : okAsync(undefined);
    return pulled.andThen(() => createAndStart(deps, spec, chosen.value));
  });
}

function createAndStart(
  deps: WorkerCreationDeps,
  spec: WorkerSpec,
  healthcheck: DockerHealthcheck | undefined,
): ResultAsync<WorkerHandle, WorkerProviderError> {
  const { context } = deps;
  return createContainer(deps, spec, healthcheck, deps.pullPolicy === 'IfNotPresent').andThen(
    ({ resourceId, createdAt }) =>
      dockerCall('startContainer', context.callTimeoutMs, (abortSignal) =>
        context.docker.getContainer(resourceId).start({ abortSignal }),
      )
        .orElse((failure) => (isStatus(failure, 304) ? ok(undefined) : err(failure)))
        .map((): WorkerHandle => {
          deps.created.remember(resourceId, spec.workerId);
          return { workerId: spec.workerId, resourceId, providerId: context.providerId, createdAt };
        })
        // Created but not started: remove it, so a half-way creation leaves nothing.
        .orElse((failure) => {
          const error = startError(context, failure);
          return forceRemoveContainer(context, resourceId)
            .orElse((removeError) => {
              // Labelled, so orphan detection finds it; the start error is the one to report.
              context.logger.warn('could not remove a container that failed to start', {
                resourceId,
                error: removeError.message,
              });
              return ok(undefined);
            })
            .andThen(() => err<WorkerHandle, WorkerProviderError>(error));
        }),
  );
}

/**
 * Creates the container. An image the engine lacks is pulled and the creation tried again
 * with `IfNotPresent` (as `docker run` does: no image lookup before the common case).
 */
function createContainer(
  deps: WorkerCreationDeps,
  spec: WorkerSpec,
  healthcheck: DockerHealthcheck | undefined,
  mayPull: boolean,
): ResultAsync<CreatedContainer, WorkerProviderError> {
  const { context } = deps;
  const createdAt = deps.clock.now();
  const options = containerOptions(spec, context.providerId, createdAt, deps.options, healthcheck);
  return dockerCall('createContainer', context.callTimeoutMs, async (abortSignal) => {
    const resourceId = await postContainerCreate(context.docker, options, abortSignal);
    return { resourceId, createdAt };
  }).orElse((failure) => {
    if (failure.kind === 'timeout') removeAbandonedContainer(context, spec.workerId, createdAt);
    if (!isMissingImage(failure)) return errAsync(createError(context, failure, spec));
    if (mayPull) {
      return deps.images
        .pull(spec.image)
        .andThen(() => createContainer(deps, spec, healthcheck, false));
    }
    return errAsync<CreatedContainer, WorkerProviderError>({
      type: 'ImagePullFailed',
      image: spec.image,
      message: `image ${spec.image} is not present on the engine at ${context.endpoint} (pull policy ${deps.pullPolicy})`,
    });
  });
}

function createError(
  context: DockerProviderContext,
  failure: DockerCallFailure,
  spec: WorkerSpec,
): WorkerProviderError {
  if (isStatus(failure, 409)) {
    return {
      type: 'WorkerAlreadyExists',
      workerId: spec.workerId,
      message: `a container named ${containerName(context.providerId, spec.workerId)} already exists`,
    };
  }
  if (failure.kind === 'http' && failure.statusCode === 400) {
    return invalidWorkerSpec([{ path: '', message: failure.message }]);
  }
  return providerError(context, failure);
}

function startError(
  context: DockerProviderContext,
  failure: DockerCallFailure,
): WorkerProviderError {
  // The runtime refuses a command it cannot run (not found, not executable) with 400.
  if (failure.kind === 'http' && failure.statusCode === 400) {
    return invalidWorkerSpec([{ path: 'command', message: failure.message }]);
  }
  return providerError(context, failure);
}

const isMissingImage = (failure: DockerCallFailure): boolean =>
  failure.kind === 'http' && failure.statusCode === 404 && /no such image/i.test(failure.message);
