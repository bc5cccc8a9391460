import { errAsync, type Result, type ResultAsync } from 'neverthrow';
import {
  silentLogger,
  type DestroyOptions,
  type LogLine,
  type LogOptions,
  type ManagedResource,
  type ProviderHealth,
  type ProviderId,
  type ProviderWatchEvent,
  type WatchSubscription,
  type WorkerHandle,
  type WorkerProvider,
  type WorkerProviderError,
  type WorkerSpec,
  type WorkerStatus,
} from '@hodei/domain';
import { systemClock } from '@hodei/domain/system';
import { destroyWorkerContainer, stopWorkerContainer } from './container-teardown.js';
import { createWorkerContainer, type WorkerCreationDeps } from './create-worker-container.js';
import { CreatedContainers } from './created-containers.js';
import { dockerCall } from './docker-call.js';
import { connectDocker, type DockerConnection } from './docker-connection.js';
import { DockerEventWatch } from './docker-event-watch.js';
import {
  validateProviderOptions,
  type DockerWorkerProviderOptions,
  type InvalidDockerProviderConfig,
} from './docker-provider-options.js';
import { ImagePuller } from './image-puller.js';
import { inspectContainer, ownsWorkerContainer } from './inspect-container.js';
import { LegacyContainers } from './legacy-containers.js';
import { listManagedWorkers } from './list-managed-workers.js';
import { mapContainerState } from './map-container-state.js';
import type { DockerProviderContext } from './provider-context.js';
import { providerError } from './provider-errors.js';
import { readWorkerLogs } from './read-worker-logs.js';
import { asRegistryAuths } from './registry-auth.js';
import { shareInFlight } from './share-in-flight.js';

const DEFAULT_CALL_TIMEOUT_MS = 30_000;
const DEFAULT_PULL_TIMEOUT_MS = 300_000;

/**
 * `WorkerProvider` over a Docker Engine (SPEC §4, §6 "Docker"). One container per worker,
 * `hodei-<providerId>.<workerId>` (see `containerName`), carrying the ownership labels; it
 * acts only on containers with this provider id's labels, checked by inspecting them right
 * before acting. `close()` (or `await using`) ends the streams it holds open.
 */
export class DockerWorkerProvider implements WorkerProvider, AsyncDisposable {
  readonly providerId: ProviderId;
  /** The socket or host, as errors name it. */
  readonly endpoint: string;
  readonly #options: DockerWorkerProviderOptions;
  readonly #context: DockerProviderContext;
  readonly #creation: WorkerCreationDeps;
  /** Destroys in flight, by resource: a second destroy of one worker joins the first. */
  readonly #destroying = new Map<string, ResultAsync<void, WorkerProviderError>>();
  readonly #created = new CreatedContainers();
  readonly #closing = new AbortController();
  readonly #watches = new Set<WatchSubscription>();

  private constructor(options: DockerWorkerProviderOptions, connection: DockerConnection) {
    this.providerId = options.providerId;
    this.endpoint = connection.endpoint;
    this.#options = options;
    this.#context = {
      docker: connection.docker,
      providerId: options.providerId,
      endpoint: connection.endpoint,
      callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      logger: options.logger ?? silentLogger,
      closing: this.#closing.signal,
    };
    this.#creation = {
      context: this.#context,
      options,
      clock: options.clock ?? systemClock,
      pullPolicy: options.pullPolicy ?? 'IfNotPresent',
      images: new ImagePuller(
        this.#context,
        options.pullTimeoutMs ?? DEFAULT_PULL_TIMEOUT_MS,
        options.allowedImages,
        asRegistryAuths(options.registryAuth),
      ),
      created: this.#created,
      legacy: new LegacyContainers(this.#context),
    };
  }

  /** Validates the options; connecting is lazy, so an absent engine fails the first call. */
  static create(
    options: DockerWorkerProviderOptions,
  ): Result<DockerWorkerProvider, InvalidDockerProviderConfig> {
    return validateProviderOptions(options).map(
      (valid) => new DockerWorkerProvider(valid, valid.connection ?? connectDocker()),
    );
  }

  /**
   * Ends the events watches and the log streams this provider opened, so a program exits
   * without more; calls under way finish within their timeouts, later ones fail with
   * ProviderFailure. Workers keep running. A `connection` given in the options stays open
   * (idle sockets to the engine are not kept past a few seconds).
   */
  close(): Promise<void> {
    if (this.#closing.signal.aborted) return Promise.resolve();
    this.#closing.abort();
    for (const watch of [...this.#watches]) watch.close();
    this.#watches.clear();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  createWorker(spec: WorkerSpec): ResultAsync<WorkerHandle, WorkerProviderError> {
    if (this.#closing.signal.aborted) return this.#closed('createContainer');
    return createWorkerContainer(this.#creation, spec);
  }

  stopWorker(
    handle: WorkerHandle,
    options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    if (this.#closing.signal.aborted) return this.#closed('stopContainer');
    return stopWorkerContainer(
      this.#context,
      handle,
      options.gracePeriod,
      this.#created.includes(handle),
    );
  }

  destroyWorker(
    handle: WorkerHandle,
    options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    if (this.#closing.signal.aborted) return this.#closed('removeContainer');
    const key = handle.resourceId;
    return shareInFlight(
      this.#destroying,
      key,
      () =>
        destroyWorkerContainer(
          this.#context,
          handle,
          options.gracePeriod,
          this.#created.includes(handle),
        ),
      (result) => {
        if (result.isOk()) this.#created.forget(key);
      },
    );
  }

  getWorkerStatus(handle: WorkerHandle): ResultAsync<WorkerStatus, WorkerProviderError> {
    if (this.#closing.signal.aborted) return this.#closed('inspectContainer');
    return inspectContainer(this.#context, handle.resourceId).map((info): WorkerStatus => {
      if (
        info === null ||
        !ownsWorkerContainer(info.Config.Labels ?? {}, this.providerId, handle)
      ) {
        return { state: 'missing' };
      }
      return mapContainerState(info.State);
    });
  }

  listManagedWorkers(): ResultAsync<readonly ManagedResource[], WorkerProviderError> {
    if (this.#closing.signal.aborted) return this.#closed('listContainers');
    return listManagedWorkers(this.#context);
  }

  logs(
    handle: WorkerHandle,
    options: LogOptions = {},
  ): ResultAsync<AsyncIterable<LogLine>, WorkerProviderError> {
    if (this.#closing.signal.aborted) return this.#closed('logs');
    return readWorkerLogs(this.#context, handle, options);
  }

  watch(listener: (event: ProviderWatchEvent) => void): WatchSubscription {
    if (this.#closing.signal.aborted) return { close: () => undefined };
    const watch = new DockerEventWatch(
      {
        docker: this.#context.docker,
        providerId: this.providerId,
        connectTimeoutMs: this.#context.callTimeoutMs,
        initialBackoffMs: this.#options.watchBackoff?.initialMs ?? 250,
        maxBackoffMs: this.#options.watchBackoff?.maxMs ?? 10_000,
        // The daemon's clock, not an injected one, decides which events `since` replays.
        now: () => Date.now(),
        logger: this.#context.logger,
      },
      listener,
    );
    const subscription: WatchSubscription = {
      close: () => {
        watch.close();
        this.#watches.delete(subscription);
      },
    };
    this.#watches.add(subscription);
    return subscription;
  }

  health(): ResultAsync<ProviderHealth, WorkerProviderError> {
    if (this.#closing.signal.aborted) return this.#closed('version');
    return dockerCall('version', this.#context.callTimeoutMs, () => this.#context.docker.version())
      .mapErr((failure) => providerError(this.#context, failure))
      .map((v) => ({
        providerId: this.providerId,
        detail: `Docker Engine ${v.Version} (API ${v.ApiVersion}) at ${this.endpoint}`,
      }));
  }

  #closed<T>(operation: string): ResultAsync<T, WorkerProviderError> {
    return errAsync({
      type: 'ProviderFailure',
      operation,
      message: `Docker provider ${this.providerId} is closed`,
      retryable: false,
    });
  }
}
