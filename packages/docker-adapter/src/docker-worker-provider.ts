import type Docker from 'dockerode';
import { err, errAsync, ok, okAsync, Result, ResultAsync } from 'neverthrow';
import {
  isOwnedBy,
  OWNERSHIP_LABELS,
  silentLogger,
  type Clock,
  type DestroyOptions,
  type LogLine,
  type LogOptions,
  type Logger,
  type ManagedResource,
  type PresentWorkerStatus,
  type Problem,
  type ProviderHealth,
  type ProviderId,
  type ProviderWatchEvent,
  type WatchSubscription,
  type WorkerHandle,
  type WorkerId,
  type WorkerProvider,
  type WorkerProviderError,
  type WorkerSpec,
  type WorkerStatus,
} from '@hodei/domain';
import { systemClock } from '@hodei/domain/system';
import {
  containerName,
  containerOptions,
  healthcheckFor,
  specProblems,
} from './container-options.js';
import {
  dockerCall,
  isStatus,
  messageOf,
  toProviderError,
  type DockerCallFailure,
} from './docker-call.js';
import { connectDocker, type DockerConnection } from './docker-connection.js';
import { DockerEventWatch } from './docker-event-watch.js';
import {
  validateProviderOptions,
  type DockerHealthcheck,
  type DockerWorkerProviderOptions,
  type InvalidDockerProviderConfig,
  type PullPolicy,
} from './docker-provider-options.js';
import { withDefaultTag } from './image-reference.js';
import { followLogLines, logLinesOf } from './log-lines.js';
import { healthFromSummary, mapContainerState } from './map-container-state.js';

const DEFAULT_CALL_TIMEOUT_MS = 30_000;
const DEFAULT_PULL_TIMEOUT_MS = 300_000;
/** Inspections in flight at once while listing exited containers. */
const LIST_INSPECT_CONCURRENCY = 8;
/** Containers remembered as created here; older ones are inspected like any other. */
const CREATED_MEMORY = 10_000;
/** How often a destroy that found a removal in progress looks whether it is done. */
const REMOVAL_POLL_MS = 100;

type Stream = NodeJS.ReadableStream & { destroy?: () => void };

/**
 * `WorkerProvider` over a Docker Engine (SPEC §4, §6 "Docker"). One container per worker,
 * `hodei-worker-<workerId>`, carrying the ownership labels; it acts only on containers with
 * this provider id's labels, checked by inspecting them right before acting.
 */

/** When to look again for a container whose creation timed out. */
const ABANDONED_RECHECKS_MS = [1_000, 5_000, 30_000, 120_000] as const;
export class DockerWorkerProvider implements WorkerProvider {
  readonly providerId: ProviderId;
  /** The socket or host, as errors name it. */
  readonly endpoint: string;
  readonly #docker: Docker;
  readonly #options: DockerWorkerProviderOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #callTimeoutMs: number;
  readonly #pullTimeoutMs: number;
  readonly #pullPolicy: PullPolicy;
  /** Destroys in flight, by resource: a second destroy of one worker joins the first. */
  readonly #destroying = new Map<string, ResultAsync<void, WorkerProviderError>>();
  /** Pulls in flight, by image. */
  readonly #pulling = new Map<string, ResultAsync<void, WorkerProviderError>>();
  /**
   * Containers this instance created, by id, with their worker. Docker never changes a
   * container's labels nor reuses an id, so these are ours without inspecting them again;
   * any other container is inspected before we act on it.
   */
  readonly #created = new Map<string, WorkerId>();

  private constructor(options: DockerWorkerProviderOptions, connection: DockerConnection) {
    this.providerId = options.providerId;
    this.endpoint = connection.endpoint;
    this.#docker = connection.docker;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.#pullTimeoutMs = options.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS;
    this.#pullPolicy = options.pullPolicy ?? 'IfNotPresent';
  }

  /** Validates the options; connecting is lazy, so an absent engine fails the first call. */
  static create(
    options: DockerWorkerProviderOptions,
  ): Result<DockerWorkerProvider, InvalidDockerProviderConfig> {
    return validateProviderOptions(options).map(
      (valid) => new DockerWorkerProvider(valid, valid.connection ?? connectDocker()),
    );
  }

  // ---- createWorker

  createWorker(spec: WorkerSpec): ResultAsync<WorkerHandle, WorkerProviderError> {
    const chosen = Result.fromThrowable(
      () => healthcheckFor(this.#options, spec),
      (cause) => cause,
    )();
    if (chosen.isErr()) {
      return errAsync(this.#invalid([{ path: 'healthcheck', message: messageOf(chosen.error) }]));
    }
    const problems = specProblems(spec, chosen.value);
    if (problems.length > 0) return errAsync(this.#invalid(problems));
    const pulled = this.#pullPolicy === 'Always' ? this.#pull(spec.image) : okAsync(undefined);
    return pulled.andThen(() => this.#createAndStart(spec, chosen.value));
  }

  #createAndStart(
    spec: WorkerSpec,
    healthcheck: DockerHealthcheck | undefined,
  ): ResultAsync<WorkerHandle, WorkerProviderError> {
    return this.#createContainer(spec, healthcheck, this.#pullPolicy === 'IfNotPresent').andThen(
      ({ resourceId, createdAt }) =>
        dockerCall('startContainer', this.#callTimeoutMs, (abortSignal) =>
          this.#docker.getContainer(resourceId).start({ abortSignal }),
        )
          .orElse((failure) => (isStatus(failure, 304) ? ok(undefined) : err(failure)))
          .map((): WorkerHandle => {
            this.#remember(resourceId, spec.workerId);
            return { workerId: spec.workerId, resourceId, providerId: this.providerId, createdAt };
          })
          // Created but not started: remove it, so a half-way creation leaves nothing.
          .orElse((failure) => {
            const error = this.#startError(failure);
            return this.#forceRemove(resourceId)
              .orElse((removeError) => {
                // Labelled, so orphan detection finds it; the start error is the one to report.
                this.#logger.warn('could not remove a container that failed to start', {
                  resourceId,
                  error: removeError.message,
                });
                return ok(undefined);
              })
              .andThen(() => err<WorkerHandle, WorkerProviderError>(error));
          }),
    );
  }

  #createError(failure: DockerCallFailure, spec: WorkerSpec): WorkerProviderError {
    if (isStatus(failure, 409)) {
      return {
        type: 'WorkerAlreadyExists',
        workerId: spec.workerId,
        message: `a container named ${containerName(spec.workerId)} already exists`,
      };
    }
    if (failure.kind === 'http' && failure.statusCode === 400) {
      return this.#invalid([{ path: '', message: failure.message }]);
    }
    return this.#error(failure);
  }

  #startError(failure: DockerCallFailure): WorkerProviderError {
    // The runtime refuses a command it cannot run (not found, not executable) with 400.
    if (failure.kind === 'http' && failure.statusCode === 400) {
      return this.#invalid([{ path: 'command', message: failure.message }]);
    }
    return this.#error(failure);
  }

  /**
   * A createContainer that timed out may still complete, even much later: look for what it
   * left now and again after a while, and remove it if it is ours and from this attempt (its
   * creation stamp says so).
   */
  #removeAbandoned(spec: WorkerSpec, createdAt: number): void {
    const name = containerName(spec.workerId);
    const stamp = new Date(createdAt).toISOString();
    const attempt = (delays: readonly number[]): void => {
      void this.#inspect(name)
        .andThen((info) => {
          const ours =
            info !== null &&
            isOwnedBy(info.Config.Labels ?? {}, this.providerId) &&
            info.Config.Labels?.[OWNERSHIP_LABELS.createdAt] === stamp;
          if (ours) return this.#forceRemove(info.Id).map(() => true);
          return okAsync(false);
        })
        .match(
          (removed) => {
            const [next, ...rest] = delays;
            if (!removed && next !== undefined) setTimeout(() => attempt(rest), next).unref();
          },
          (error) => {
            this.#logger.warn('could not remove a container whose creation timed out', {
              container: name,
              error: error.message,
            });
            const [next, ...rest] = delays;
            if (next !== undefined) setTimeout(() => attempt(rest), next).unref();
          },
        );
    };
    attempt(ABANDONED_RECHECKS_MS);
  }

  /**
   * Creates the container. An image the engine lacks is pulled and the creation tried again
   * with `IfNotPresent` (as `docker run` does: no image lookup before the common case).
   */
  #createContainer(
    spec: WorkerSpec,
    healthcheck: DockerHealthcheck | undefined,
    mayPull: boolean,
  ): ResultAsync<{ resourceId: string; createdAt: number }, WorkerProviderError> {
    const createdAt = this.#clock.now();
    const options = containerOptions(spec, this.providerId, createdAt, this.#options, healthcheck);
    return dockerCall('createContainer', this.#callTimeoutMs, async (abortSignal) => {
      const container = await this.#docker.createContainer({ ...options, abortSignal });
      return { resourceId: container.id, createdAt };
    }).orElse((failure) => {
      if (failure.kind === 'timeout') this.#removeAbandoned(spec, createdAt);
      if (!isMissingImage(failure)) return errAsync(this.#createError(failure, spec));
      if (mayPull) {
        return this.#pull(spec.image).andThen(() =>
          this.#createContainer(spec, healthcheck, false),
        );
      }
      return errAsync<{ resourceId: string; createdAt: number }, WorkerProviderError>({
        type: 'ImagePullFailed',
        image: spec.image,
        message: `image ${spec.image} is not present on the engine at ${this.endpoint} (pull policy ${this.#pullPolicy})`,
      });
    });
  }

  // ---- images

  /** Pulls an image; concurrent pulls of one image share one. */
  #pull(image: string): ResultAsync<void, WorkerProviderError> {
    const inFlight = this.#pulling.get(image);
    if (inFlight !== undefined) return inFlight;
    const failed = (reason: string, cause: unknown): WorkerProviderError => ({
      type: 'ImagePullFailed',
      image,
      message: `could not pull image ${image}: ${reason}`,
      cause,
    });
    // The engine answers a failed pull with 200 and reports the failure inside the stream.
    const pulled = dockerCall('pullImage', this.#pullTimeoutMs, async (abortSignal) => {
      const stream = (await this.#docker.pull(withDefaultTag(image), { abortSignal })) as Stream;
      return pullStreamProblem(stream);
    })
      .mapErr((failure): WorkerProviderError => {
        if (failure.kind === 'unreachable') return this.#error(failure);
        const reason =
          failure.kind === 'timeout'
            ? `did not finish within ${failure.timeoutMs} ms`
            : failure.kind === 'http'
              ? failure.message
              : messageOf(failure.cause);
        return failed(reason, failure);
      })
      .andThen((problem) =>
        problem === undefined ? okAsync(undefined) : errAsync(failed(problem, problem)),
      );
    const shared = new ResultAsync(
      (async () => {
        const result = await pulled;
        this.#pulling.delete(image);
        return result;
      })(),
    );
    this.#pulling.set(image, shared);
    return shared;
  }

  // ---- stop and destroy

  stopWorker(
    handle: WorkerHandle,
    options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    if (this.#createdHere(handle)) return this.#stop(handle.resourceId, options.gracePeriod);
    return this.#inspectOwned(handle).andThen((info) =>
      info === null || !isAlive(info.State.Status)
        ? okAsync(undefined)
        : this.#stop(info.Id, options.gracePeriod),
    );
  }

  destroyWorker(
    handle: WorkerHandle,
    options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    const key = handle.resourceId;
    const inFlight = this.#destroying.get(key);
    if (inFlight !== undefined) return inFlight;
    const destroyed = this.#createdHere(handle)
      ? this.#stop(handle.resourceId, options.gracePeriod).andThen(() =>
          this.#forceRemove(handle.resourceId),
        )
      : this.#inspectOwned(handle).andThen((info) => {
          if (info === null) return okAsync(undefined);
          const stopped = isAlive(info.State.Status)
            ? this.#stop(info.Id, options.gracePeriod)
            : okAsync(undefined);
          return stopped.andThen(() => this.#forceRemove(info.Id));
        });
    const shared = new ResultAsync(
      (async () => {
        const result = await destroyed;
        this.#destroying.delete(key);
        if (result.isOk()) this.#created.delete(key);
        return result;
      })(),
    );
    this.#destroying.set(key, shared);
    return shared;
  }

  /** SIGTERM, then SIGKILL after the grace period (Docker's `stop -t`, whole seconds). */
  #stop(resourceId: string, gracePeriodMs: number): ResultAsync<void, WorkerProviderError> {
    const seconds = Math.max(0, Math.ceil(gracePeriodMs / 1_000));
    return dockerCall('stopContainer', seconds * 1_000 + this.#callTimeoutMs, (abortSignal) =>
      this.#docker.getContainer(resourceId).stop({ t: seconds, abortSignal }),
    )
      .map(() => undefined)
      .orElse((failure) =>
        isStatus(failure, 304, 404) ? ok(undefined) : err(this.#error(failure)),
      );
  }

  /** Removes with volumes; gone already is success, a removal in progress is waited for. */
  #forceRemove(resourceId: string): ResultAsync<void, WorkerProviderError> {
    return dockerCall('removeContainer', this.#callTimeoutMs, (abortSignal) =>
      this.#docker.getContainer(resourceId).remove({ force: true, v: true, abortSignal }),
    )
      .map(() => undefined)
      .orElse((failure) => {
        if (isStatus(failure, 404)) return okAsync(undefined);
        if (isStatus(failure, 409)) return this.#waitGone(resourceId, this.#callTimeoutMs);
        return errAsync(this.#error(failure));
      });
  }

  #waitGone(resourceId: string, budgetMs: number): ResultAsync<void, WorkerProviderError> {
    return this.#inspect(resourceId).andThen((info) => {
      if (info === null) return okAsync(undefined);
      if (budgetMs <= 0) {
        return errAsync<void, WorkerProviderError>({
          type: 'ProviderTimeout',
          operation: 'removeContainer',
          timeoutMs: this.#callTimeoutMs,
          message: `container ${resourceId} was still being removed after ${this.#callTimeoutMs} ms`,
          retryable: true,
        });
      }
      return ResultAsync.fromSafePromise(delay(REMOVAL_POLL_MS)).andThen(() =>
        this.#waitGone(resourceId, budgetMs - REMOVAL_POLL_MS),
      );
    });
  }

  // ---- reading

  getWorkerStatus(handle: WorkerHandle): ResultAsync<WorkerStatus, WorkerProviderError> {
    return this.#inspect(handle.resourceId).map((info): WorkerStatus => {
      if (info === null || !this.#owns(info.Config.Labels ?? {}, handle))
        return { state: 'missing' };
      return mapContainerState(info.State);
    });
  }

  listManagedWorkers(): ResultAsync<readonly ManagedResource[], WorkerProviderError> {
    return dockerCall('listContainers', this.#callTimeoutMs, (abortSignal) =>
      this.#docker.listContainers({
        all: true,
        filters: {
          label: [
            `${OWNERSHIP_LABELS.managed}=true`,
            `${OWNERSHIP_LABELS.providerId}=${this.providerId}`,
          ],
        },
        abortSignal,
      }),
    )
      .mapErr((failure) => this.#error(failure))
      .andThen((containers) => {
        const ours = containers.filter((c) => isOwnedBy(c.Labels ?? {}, this.providerId));
        return ResultAsync.combine(
          inBatches(ours, LIST_INSPECT_CONCURRENCY, (c) => this.#managedResource(c)),
        ).map((all) => all.filter((r): r is ManagedResource => r !== null));
      });
  }

  /** Running containers are read from the list; the others are inspected for exit details. */
  #managedResource(
    c: Docker.ContainerInfo,
  ): ResultAsync<ManagedResource | null, WorkerProviderError> {
    const labels = { ...(c.Labels ?? {}) };
    const createdAt = Date.parse(labels[OWNERSHIP_LABELS.createdAt] ?? '');
    const resource = (status: PresentWorkerStatus): ManagedResource => ({
      resourceId: c.Id,
      labels,
      status,
      image: c.Image,
      createdAt: Number.isNaN(createdAt) ? c.Created * 1_000 : createdAt,
    });
    if (c.State === 'running' || c.State === 'paused') {
      return okAsync(resource({ state: 'running', health: healthFromSummary(c.Status) }));
    }
    return this.#inspect(c.Id).map((info) =>
      info === null ? null : resource(mapContainerState(info.State)),
    );
  }

  logs(
    handle: WorkerHandle,
    options: LogOptions = {},
  ): ResultAsync<AsyncIterable<LogLine>, WorkerProviderError> {
    if (options.tail !== undefined && !(Number.isInteger(options.tail) && options.tail >= 0)) {
      return errAsync(this.#invalid([{ path: 'tail', message: 'must be a non-negative integer' }]));
    }
    const tail = options.tail === undefined ? {} : { tail: options.tail };
    return this.#inspectOwned(handle).andThen((info) => {
      if (info === null) {
        return errAsync<AsyncIterable<LogLine>, WorkerProviderError>({
          type: 'ProviderFailure',
          operation: 'logs',
          message: `no container ${handle.resourceId} for worker ${handle.workerId}`,
          retryable: false,
        });
      }
      const multiplexed = info.Config.Tty !== true;
      const container = this.#docker.getContainer(info.Id);
      if (options.follow === true) {
        return dockerCall(
          'logs',
          this.#callTimeoutMs,
          (abortSignal) =>
            container.logs({
              follow: true,
              stdout: true,
              stderr: true,
              ...tail,
              abortSignal,
            }) as Promise<Stream>,
        )
          .mapErr((failure) => this.#error(failure))
          .map((stream): AsyncIterable<LogLine> => {
            // A reader that goes away ends the stream now, not at the container's next line.
            const signal = options.signal;
            if (signal?.aborted === true) (stream as { destroy?: () => void }).destroy?.();
            signal?.addEventListener(
              'abort',
              () => (stream as { destroy?: () => void }).destroy?.(),
              { once: true },
            );
            return followLogLines(stream, multiplexed);
          });
      }
      return dockerCall('logs', this.#callTimeoutMs, (abortSignal) =>
        container.logs({ follow: false, stdout: true, stderr: true, ...tail, abortSignal }),
      )
        .mapErr((failure) => this.#error(failure))
        .map((body): AsyncIterable<LogLine> => {
          const bytes: Buffer = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
          return iterate(logLinesOf(bytes, multiplexed));
        });
    });
  }

  watch(listener: (event: ProviderWatchEvent) => void): WatchSubscription {
    return new DockerEventWatch(
      {
        docker: this.#docker,
        providerId: this.providerId,
        connectTimeoutMs: this.#callTimeoutMs,
        initialBackoffMs: this.#options.watchBackoff?.initialMs ?? 250,
        maxBackoffMs: this.#options.watchBackoff?.maxMs ?? 10_000,
        // The daemon's clock, not an injected one, decides which events `since` replays.
        now: () => Date.now(),
        logger: this.#logger,
      },
      listener,
    );
  }

  health(): ResultAsync<ProviderHealth, WorkerProviderError> {
    return dockerCall('version', this.#callTimeoutMs, () => this.#docker.version())
      .mapErr((failure) => this.#error(failure))
      .map((v) => ({
        providerId: this.providerId,
        detail: `Docker Engine ${v.Version} (API ${v.ApiVersion}) at ${this.endpoint}`,
      }));
  }

  // ---- internals

  /** Inspects a container; `null` when Docker has none by that id or name. */
  #inspect(
    resourceId: string,
  ): ResultAsync<Docker.ContainerInspectInfo | null, WorkerProviderError> {
    return dockerCall('inspectContainer', this.#callTimeoutMs, (abortSignal) =>
      this.#docker.getContainer(resourceId).inspect({ abortSignal }),
    ).orElse((failure) => (isStatus(failure, 404) ? ok(null) : err(this.#error(failure))));
  }

  /** Inspects before acting: `null` when gone, ResourceNotOwned when not ours. */
  #inspectOwned(
    handle: WorkerHandle,
  ): ResultAsync<Docker.ContainerInspectInfo | null, WorkerProviderError> {
    return this.#inspect(handle.resourceId).andThen((info) => {
      if (info === null || this.#owns(info.Config.Labels ?? {}, handle)) return ok(info);
      return err<Docker.ContainerInspectInfo | null, WorkerProviderError>({
        type: 'ResourceNotOwned',
        resourceId: handle.resourceId,
        message: `container ${handle.resourceId} does not carry the labels of provider ${this.providerId} and worker ${handle.workerId}: left alone`,
      });
    });
  }

  #createdHere(handle: WorkerHandle): boolean {
    return this.#created.get(handle.resourceId) === handle.workerId;
  }

  #remember(resourceId: string, workerId: WorkerId): void {
    this.#created.set(resourceId, workerId);
    if (this.#created.size > CREATED_MEMORY) {
      const oldest = this.#created.keys().next();
      if (oldest.done !== true) this.#created.delete(oldest.value);
    }
  }

  #owns(labels: Readonly<Record<string, string>>, handle: WorkerHandle): boolean {
    return (
      isOwnedBy(labels, this.providerId) && labels[OWNERSHIP_LABELS.workerId] === handle.workerId
    );
  }

  #invalid(problems: readonly Problem[]): WorkerProviderError {
    return {
      type: 'InvalidWorkerSpec',
      message: `invalid worker spec: ${problems.map((p) => (p.path === '' ? p.message : `${p.path} ${p.message}`)).join('; ')}`,
      problems,
    };
  }

  #error(failure: DockerCallFailure): WorkerProviderError {
    return toProviderError(failure, this.providerId, this.endpoint);
  }
}

const isMissingImage = (failure: DockerCallFailure): boolean =>
  failure.kind === 'http' && failure.statusCode === 404 && /no such image/i.test(failure.message);

const isAlive = (status: string): boolean =>
  status === 'running' || status === 'paused' || status === 'restarting';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  await Promise.resolve();
  yield* items;
}

/** Runs `work` over `items` with at most `size` in flight; results in the items' order. */
function inBatches<T, R, E>(
  items: readonly T[],
  size: number,
  work: (item: T) => ResultAsync<R, E>,
): ResultAsync<R, E>[] {
  const results: ResultAsync<R, E>[] = [];
  for (const [i, item] of items.entries()) {
    const previous = results[i - size];
    results.push(
      previous === undefined
        ? work(item)
        : new ResultAsync(
            (async () => {
              await previous;
              return await work(item);
            })(),
          ),
    );
  }
  return results;
}

/** Docker reports a failed pull inside the progress stream, as a line with `error`. */
async function pullStreamProblem(stream: Stream): Promise<string | undefined> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = Result.fromThrowable(
      () => JSON.parse(line) as { error?: unknown; errorDetail?: { message?: unknown } },
      () => undefined,
    )();
    if (parsed.isOk() && parsed.value.error !== undefined) {
      const detail = parsed.value.errorDetail?.message ?? parsed.value.error;
      return typeof detail === 'string' ? detail : JSON.stringify(detail);
    }
  }
  return undefined;
}
