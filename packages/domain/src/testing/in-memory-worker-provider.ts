import { errAsync, okAsync, ResultAsync } from 'neverthrow';
import type { Clock } from '../ports/clock.port.js';
import type {
  DestroyOptions,
  HealthStatus,
  LogLine,
  LogOptions,
  ManagedResource,
  PresentWorkerStatus,
  ProviderHealth,
  ProviderWatchEvent,
  WatchSubscription,
  WorkerHandle,
  WorkerProvider,
  WorkerProviderError,
  WorkerSpec,
  WorkerStatus,
} from '../ports/worker-provider.port.js';
import {
  OWNERSHIP_LABELS,
  isOwnedBy,
  ownershipLabels,
  reservedKeyProblems,
} from '../provider/ownership.js';
import type { ProviderId, WorkerId } from '../worker/ids.js';
import { simulateCommand } from '../provider/simulated-command.js';

interface FakeResource {
  readonly resourceId: string;
  readonly labels: Record<string, string>;
  readonly image: string;
  readonly createdAt: number;
  readonly runMs: number | null;
  readonly exitCodeWhenDone: number;
  readonly output: readonly string[];
  state: 'running' | 'exited';
  exitCode: number | null;
  finishedAt: number | null;
  health: HealthStatus;
  oomKilled: boolean;
}

type Operation =
  | 'createWorker'
  | 'stopWorker'
  | 'destroyWorker'
  | 'getWorkerStatus'
  | 'listManagedWorkers'
  | 'logs'
  | 'health';

/** A provider call held back by `holdNext`: it runs when released, as a slow call would end. */
export interface HeldCall {
  readonly operation: Operation;
  /** The worker the call is about, when it names one. */
  readonly workerId: string | undefined;
  /** Runs the call now; resolves once its result is settled. */
  release(): Promise<void>;
}

const failure = (operation: string): WorkerProviderError => ({
  type: 'ProviderFailure',
  operation,
  message: `injected failure of ${operation}`,
  retryable: true,
});

/**
 * An in-memory provider driven by a clock, with fault injection. Commands run as
 * `simulateCommand` reads them. It never touches a resource without its own labels.
 */
export class InMemoryWorkerProvider implements WorkerProvider {
  readonly #resources = new Map<string, FakeResource>();
  readonly #listeners = new Set<(event: ProviderWatchEvent) => void>();
  readonly #failures = new Map<Operation, WorkerProviderError[]>();
  readonly #failAlways = new Set<Operation>();
  /** Errors of the next creates that fail after making their resource. */
  readonly #leaveBehind: WorkerProviderError[] = [];
  readonly #holds = new Map<Operation, number>();
  readonly #held: HeldCall[] = [];
  #sequence = 0;
  /** Every resource this provider removed, in order: safety tests read it. */
  readonly removed: string[] = [];
  /** Every resource this provider stopped, in order. */
  readonly stopped: string[] = [];
  readonly calls: Record<Operation, number> = {
    createWorker: 0,
    stopWorker: 0,
    destroyWorker: 0,
    getWorkerStatus: 0,
    listManagedWorkers: 0,
    logs: 0,
    health: 0,
  };

  constructor(
    readonly providerId: ProviderId,
    private readonly clock: Clock,
  ) {}

  // ---- the port

  createWorker(spec: WorkerSpec): ResultAsync<WorkerHandle, WorkerProviderError> {
    const held = this.#hold('createWorker', spec.workerId, () => this.createWorker(spec));
    if (held !== undefined) return held;
    const injected = this.#injected('createWorker');
    if (injected) return errAsync(injected);
    const problems = reservedKeyProblems(spec);
    if (spec.image.trim() === '' || /\s/.test(spec.image)) {
      problems.push({
        path: 'image',
        message: 'must be a non-empty image reference without spaces',
      });
    }
    if (problems.length > 0) {
      return errAsync({ type: 'InvalidWorkerSpec', message: 'invalid worker spec', problems });
    }
    for (const r of this.#resources.values()) {
      if (r.labels[OWNERSHIP_LABELS.workerId] === spec.workerId) {
        return errAsync({
          type: 'WorkerAlreadyExists',
          workerId: spec.workerId,
          message: `worker ${spec.workerId} already has a resource`,
        });
      }
    }
    const createdAt = this.clock.now();
    const run = simulateCommand(spec.command);
    const resourceId = `fake-${(++this.#sequence).toString().padStart(6, '0')}-${spec.workerId}`;
    this.#resources.set(resourceId, {
      resourceId,
      labels: ownershipLabels(spec, this.providerId, createdAt),
      image: spec.image,
      createdAt,
      runMs: run.runMs,
      exitCodeWhenDone: run.exitCode,
      output: run.output,
      state: 'running',
      exitCode: null,
      finishedAt: null,
      health: 'none',
      oomKilled: false,
    });
    const leftBehind = this.#leaveBehind.shift();
    // A create whose start and cleanup failed (an engine crash): the resource stays, untold.
    if (leftBehind !== undefined) return errAsync(leftBehind);
    this.#emit({ type: 'started', workerId: spec.workerId, resourceId });
    return okAsync({ workerId: spec.workerId, resourceId, providerId: this.providerId, createdAt });
  }

  stopWorker(
    handle: WorkerHandle,
    _options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    const held = this.#hold('stopWorker', handle.workerId, () => this.stopWorker(handle, _options));
    if (held !== undefined) return held;
    const injected = this.#injected('stopWorker');
    if (injected) return errAsync(injected);
    const r = this.#resources.get(handle.resourceId);
    if (r === undefined) return okAsync(undefined);
    if (!isOwnedBy(r.labels, this.providerId)) return errAsync(this.#notOwned(r.resourceId));
    this.#refresh(r);
    if (r.state === 'running') {
      this.#finish(r, 143);
      this.stopped.push(r.resourceId);
    }
    return okAsync(undefined);
  }

  destroyWorker(
    handle: WorkerHandle,
    _options: DestroyOptions,
  ): ResultAsync<void, WorkerProviderError> {
    const held = this.#hold('destroyWorker', handle.workerId, () =>
      this.destroyWorker(handle, _options),
    );
    if (held !== undefined) return held;
    const injected = this.#injected('destroyWorker');
    if (injected) return errAsync(injected);
    const r = this.#resources.get(handle.resourceId);
    if (r === undefined) return okAsync(undefined);
    if (!isOwnedBy(r.labels, this.providerId)) return errAsync(this.#notOwned(r.resourceId));
    this.#refresh(r);
    if (r.state === 'running') this.#finish(r, 143);
    this.#resources.delete(r.resourceId);
    this.removed.push(r.resourceId);
    this.#emit({ type: 'removed', workerId: handle.workerId, resourceId: r.resourceId });
    return okAsync(undefined);
  }

  getWorkerStatus(handle: WorkerHandle): ResultAsync<WorkerStatus, WorkerProviderError> {
    const held = this.#hold('getWorkerStatus', handle.workerId, () => this.getWorkerStatus(handle));
    if (held !== undefined) return held;
    const injected = this.#injected('getWorkerStatus');
    if (injected) return errAsync(injected);
    const r = this.#resources.get(handle.resourceId);
    if (r === undefined || !isOwnedBy(r.labels, this.providerId))
      return okAsync({ state: 'missing' });
    this.#refresh(r);
    return okAsync(this.#status(r));
  }

  listManagedWorkers(): ResultAsync<readonly ManagedResource[], WorkerProviderError> {
    const held = this.#hold('listManagedWorkers', undefined, () => this.listManagedWorkers());
    if (held !== undefined) return held;
    const injected = this.#injected('listManagedWorkers');
    if (injected) return errAsync(injected);
    const list: ManagedResource[] = [];
    for (const r of this.#resources.values()) {
      if (!isOwnedBy(r.labels, this.providerId)) continue;
      this.#refresh(r);
      list.push({
        resourceId: r.resourceId,
        labels: { ...r.labels },
        status: this.#status(r),
        image: r.image,
        createdAt: r.createdAt,
      });
    }
    return okAsync(list);
  }

  logs(
    handle: WorkerHandle,
    options: LogOptions = {},
  ): ResultAsync<AsyncIterable<LogLine>, WorkerProviderError> {
    const injected = this.#injected('logs');
    if (injected) return errAsync(injected);
    const r = this.#resources.get(handle.resourceId);
    if (r === undefined || !isOwnedBy(r.labels, this.providerId)) {
      return errAsync({
        type: 'ProviderFailure',
        operation: 'logs',
        message: `no resource ${handle.resourceId} for worker ${handle.workerId}`,
        retryable: false,
      });
    }
    const lines = r.output.map((line): LogLine => ({ stream: 'stdout', line }));
    const tail =
      options.tail === undefined ? lines : lines.slice(Math.max(0, lines.length - options.tail));
    async function* iterate(): AsyncGenerator<LogLine> {
      await Promise.resolve();
      yield* tail;
    }
    return okAsync(iterate());
  }

  watch(listener: (event: ProviderWatchEvent) => void): WatchSubscription {
    this.#listeners.add(listener);
    return { close: () => this.#listeners.delete(listener) };
  }

  health(): ResultAsync<ProviderHealth, WorkerProviderError> {
    const injected = this.#injected('health');
    if (injected) return errAsync(injected);
    return okAsync({
      providerId: this.providerId,
      detail: `in memory, ${this.#resources.size} resources`,
    });
  }

  // ---- driving the simulation and injecting faults

  /** Applies the clock: resources whose command finished exit now, and watchers hear it. */
  settle(): void {
    for (const r of this.#resources.values()) this.#refresh(r);
  }

  /** The next `count` calls of `operation` fail with `error`. */
  failNext(operation: Operation, error: WorkerProviderError = failure(operation), count = 1): void {
    const queue = this.#failures.get(operation) ?? [];
    for (let i = 0; i < count; i++) queue.push(error);
    this.#failures.set(operation, queue);
  }

  /**
   * The next create makes its resource and then fails (as a start and its cleanup failing
   * when the engine crashes mid-create would): the resource stays, with our labels.
   */
  failNextCreateLeavingResource(error: WorkerProviderError = failure('createWorker')): void {
    this.#leaveBehind.push(error);
  }

  /** Every call of `operation` fails until `heal()`. */
  failAlways(operation: Operation): void {
    this.#failAlways.add(operation);
  }

  /** Ends every injected failure and hold (calls already held stay held until released). */
  heal(): void {
    this.#failAlways.clear();
    this.#failures.clear();
    this.#holds.clear();
  }

  /**
   * The next `count` calls of `operation` wait until released (see `held`): a slow call,
   * whose effect and answer come when the test says, in the order it chooses.
   */
  holdNext(operation: Operation, count = 1): void {
    this.#holds.set(operation, (this.#holds.get(operation) ?? 0) + count);
  }

  /** Calls held and not released yet, oldest first. */
  get held(): readonly HeldCall[] {
    return [...this.#held];
  }

  /** Releases every held call, oldest first (calls held meanwhile too). */
  async releaseAll(): Promise<void> {
    while (this.#held.length > 0) await this.#held[0]!.release();
  }

  /** The notification stream says it came back after a gap. */
  resync(): void {
    this.#emit({ type: 'resynced' });
  }

  /** The resource disappears behind our back (docker rm, a deleted pod). */
  vanish(resourceId: string, options: { notify?: boolean } = {}): void {
    const r = this.#resources.get(resourceId);
    if (r === undefined) return;
    this.#resources.delete(resourceId);
    if (options.notify === true && isOwnedBy(r.labels, this.providerId))
      this.#emit({ type: 'removed', workerId: this.#workerIdOf(r), resourceId });
  }

  /** The resource's process exits now (docker kill, OOM, a crash). */
  exit(
    resourceId: string,
    exitCode: number,
    options: { oomKilled?: boolean; notify?: boolean } = {},
  ): void {
    const r = this.#resources.get(resourceId);
    if (r === undefined || r.state !== 'running') return;
    r.oomKilled = options.oomKilled ?? false;
    this.#finish(r, exitCode, options.notify ?? true);
  }

  setHealth(resourceId: string, health: HealthStatus, options: { notify?: boolean } = {}): void {
    const r = this.#resources.get(resourceId);
    if (r === undefined) return;
    r.health = health;
    if ((options.notify ?? true) && isOwnedBy(r.labels, this.providerId)) {
      this.#emit({ type: 'health', workerId: this.#workerIdOf(r), resourceId, health });
    }
  }

  /**
   * Adds a resource that did not come through `createWorker`: with `labels` as given (our
   * ownership labels for an orphan, someone else's or none for a foreign resource).
   */
  addResource(options: {
    labels: Record<string, string>;
    createdAt?: number;
    image?: string;
    command?: readonly string[];
  }): string {
    const run = simulateCommand(options.command);
    const resourceId = `fake-${(++this.#sequence).toString().padStart(6, '0')}-external`;
    this.#resources.set(resourceId, {
      resourceId,
      labels: { ...options.labels },
      image: options.image ?? 'external:latest',
      createdAt: options.createdAt ?? this.clock.now(),
      runMs: run.runMs,
      exitCodeWhenDone: run.exitCode,
      output: run.output,
      state: 'running',
      exitCode: null,
      finishedAt: null,
      health: 'none',
      oomKilled: false,
    });
    return resourceId;
  }

  has(resourceId: string): boolean {
    return this.#resources.has(resourceId);
  }

  resourceIds(): string[] {
    return [...this.#resources.keys()];
  }

  labelsOf(resourceId: string): Readonly<Record<string, string>> | undefined {
    return this.#resources.get(resourceId)?.labels;
  }

  // ---- internals

  /** A held call's deferred result, when the next call of `operation` is to be held. */
  #hold<T>(
    operation: Operation,
    workerId: string | undefined,
    call: () => ResultAsync<T, WorkerProviderError>,
  ): ResultAsync<T, WorkerProviderError> | undefined {
    const left = this.#holds.get(operation) ?? 0;
    if (left <= 0) return undefined;
    this.#holds.set(operation, left - 1);
    let run: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (run = resolve));
    const result = new ResultAsync(released.then(() => call()));
    const heldCall: HeldCall = {
      operation,
      workerId,
      release: async () => {
        const i = this.#held.indexOf(heldCall);
        if (i >= 0) this.#held.splice(i, 1);
        run();
        await result;
      },
    };
    this.#held.push(heldCall);
    return result;
  }

  #injected(operation: Operation): WorkerProviderError | undefined {
    this.calls[operation] += 1;
    if (this.#failAlways.has(operation)) return failure(operation);
    return this.#failures.get(operation)?.shift();
  }

  #refresh(r: FakeResource): void {
    if (r.state === 'running' && r.runMs !== null && this.clock.now() >= r.createdAt + r.runMs) {
      this.#finish(r, r.exitCodeWhenDone, true, r.createdAt + r.runMs);
    }
  }

  #finish(r: FakeResource, exitCode: number, notify = true, at = this.clock.now()): void {
    r.state = 'exited';
    r.exitCode = exitCode;
    r.finishedAt = at;
    if (notify && isOwnedBy(r.labels, this.providerId)) {
      this.#emit({
        type: 'exited',
        workerId: this.#workerIdOf(r),
        resourceId: r.resourceId,
        exitCode,
        oomKilled: r.oomKilled,
        finishedAt: at,
      });
    }
  }

  #status(r: FakeResource): PresentWorkerStatus {
    return r.state === 'running'
      ? { state: 'running', health: r.health }
      : { state: 'exited', exitCode: r.exitCode, finishedAt: r.finishedAt, oomKilled: r.oomKilled };
  }

  #workerIdOf(r: FakeResource): WorkerId {
    return (r.labels[OWNERSHIP_LABELS.workerId] ?? '') as WorkerId;
  }

  #notOwned(resourceId: string): WorkerProviderError {
    return {
      type: 'ResourceNotOwned',
      resourceId,
      message: `resource ${resourceId} is not managed by provider ${this.providerId}: left alone`,
    };
  }

  #emit(event: ProviderWatchEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
