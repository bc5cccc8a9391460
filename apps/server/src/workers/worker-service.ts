import type { IdGenerator, LifecycleEvent, LogLine, Logger, OperationContext } from '@hodei/domain';
import type { Result } from 'neverthrow';
import type { PassObserver } from '../passes/pass-observer.js';
import { runPassesNow, type GcReport } from '../passes/run-passes-now.js';
import { BackgroundJobs } from './background-jobs.js';
import type { CreateWorkerRequest } from './create-request.js';
import { CreationFingerprints } from './creation-fingerprints.js';
import type { ProviderEntry } from './provider-entry.js';
import type { PressureGauge } from './publisher-pressure.js';
import { removeAllWorkers } from './remove-all-workers.js';
import type { WorkerServiceError } from './service.errors.js';
import { WorkerCommands, type DestroyOutcome } from './worker-commands.js';
import { WorkerCreator, type CreateOutcome } from './worker-creator.js';
import { WorkerLookup } from './worker-lookup.js';
import {
  WorkerPolicyCommands,
  type PolicyChangeRequest,
  type PolicyChangeView,
} from './worker-policy-commands.js';
import type { LogLimits } from './log-response.js';
import {
  WorkerQueries,
  type HistorySource,
  type ListRequest,
  type LogsRequest,
  type Page,
} from './worker-queries.js';
import type { WorkerView } from './worker-view.js';

export type { GcReport } from '../passes/run-passes-now.js';
export type { CreateWorkerRequest, PolicyRequest } from './create-request.js';
export type { ProviderEntry } from './provider-entry.js';
export type { HistorySource, ListRequest, Page } from './worker-queries.js';
export type { PolicyChangeRequest, PolicyChangeView } from './worker-policy-commands.js';

export interface WorkerServiceDeps {
  readonly providers: readonly ProviderEntry[];
  readonly ids: IdGenerator;
  readonly defaultImage: string;
  readonly maxWorkers: number;
  /** HODEI_MAX_LIFETIME_SECONDS in ms, for creates (the managers hold it for changes). */
  readonly maxLifetimeCap?: number;
  readonly history: HistorySource;
  /** Default: the last 1,000 lines, 10 MiB per response. */
  readonly logLimits?: LogLimits;
  readonly logger: Logger;
  readonly now: () => number;
  readonly observer?: PassObserver;
  /** False while this server does not hold its provider locks: passes are refused. */
  readonly mayRunPasses?: () => boolean;
  /**
   * The event publisher (chain): while it reports backpressure every API-initiated change
   * (create, ready, busy, policy, destroy, remove-all) is refused before anything changes.
   */
  readonly publisher?: PressureGauge;
}

/**
 * The use cases behind the HTTP API and the CLI: creation with idempotency, quotas and policy
 * overrides, listing, transitions, destroy in the background or waited for, logs, history and
 * the passes on demand. Each lives in its own part; this is the one door to them.
 */
export class WorkerService {
  readonly #lookup: WorkerLookup;
  readonly #fingerprints = new CreationFingerprints();
  readonly #jobs = new BackgroundJobs();
  readonly #creator: WorkerCreator;
  readonly #queries: WorkerQueries;
  readonly #commands: WorkerCommands;
  readonly #policyCommands: WorkerPolicyCommands;

  constructor(private readonly deps: WorkerServiceDeps) {
    const first = deps.providers[0];
    if (first === undefined) throw new TypeError('WorkerService needs at least one provider');
    this.#lookup = new WorkerLookup(deps.providers, first);
    this.#creator = new WorkerCreator(this.#lookup, this.#fingerprints, deps);
    this.#queries = new WorkerQueries(this.#lookup, deps.history, deps.logLimits, deps.now);
    this.#commands = new WorkerCommands({
      lookup: this.#lookup,
      fingerprints: this.#fingerprints,
      jobs: this.#jobs,
      logger: deps.logger,
      now: deps.now,
      ...(deps.publisher === undefined ? {} : { publisher: deps.publisher }),
    });
    this.#policyCommands = new WorkerPolicyCommands(this.#lookup, deps.now, deps.publisher);
  }

  get providers(): readonly ProviderEntry[] {
    return this.deps.providers;
  }

  get lifecycleEnabled(): boolean {
    return this.#lookup.defaultEntry.lifecycle !== undefined;
  }

  create(
    request: CreateWorkerRequest,
    ctx: OperationContext,
  ): Promise<Result<CreateOutcome, WorkerServiceError>> {
    return this.#creator.create(request, ctx);
  }

  list(request: ListRequest): Promise<Result<Page, WorkerServiceError>> {
    return this.#queries.list(request);
  }

  get(workerId: string): Promise<Result<WorkerView, WorkerServiceError>> {
    return this.#queries.get(workerId);
  }

  mark(
    workerId: string,
    to: 'ready' | 'busy',
    ctx: OperationContext,
  ): Promise<Result<WorkerView, WorkerServiceError>> {
    return this.#commands.mark(workerId, to, ctx);
  }

  /**
   * A policy change at run time (PATCH semantics): the fields given merged onto the worker's
   * policy and validated as at create (or the lifetime extended by some seconds, under the
   * worker's lock), capped by HODEI_MAX_LIFETIME_SECONDS; its deadlines move at once.
   */
  changePolicy(
    workerId: string,
    request: PolicyChangeRequest,
    ctx: OperationContext,
  ): Promise<Result<PolicyChangeView, WorkerServiceError>> {
    return this.#policyCommands.changePolicy(workerId, request, ctx);
  }

  /** An agent's activity heartbeat (`by`: who, default `api`): its idle clock restarts; no event. */
  heartbeat(
    workerId: string,
    by: string | undefined,
    ctx: OperationContext,
  ): Promise<Result<WorkerView, WorkerServiceError>> {
    return this.#policyCommands.heartbeat(workerId, by, ctx);
  }

  /**
   * Graceful destroy. Returns at once with the worker `terminating` (the rest runs in the
   * background) unless `wait`; a finished worker is removed at once.
   */
  destroy(
    workerId: string,
    wait: boolean,
    ctx: OperationContext,
  ): Promise<Result<DestroyOutcome, WorkerServiceError>> {
    return this.#commands.destroy(workerId, wait, ctx);
  }

  logs(
    workerId: string,
    options: LogsRequest,
  ): Promise<Result<AsyncIterable<LogLine>, WorkerServiceError>> {
    return this.#queries.logs(workerId, options);
  }

  history(workerId: string): Promise<Result<readonly LifecycleEvent[], WorkerServiceError>> {
    return this.#queries.history(workerId);
  }

  /** A deadline pass and a reconciliation on every provider, now. */
  runPasses(): Promise<GcReport> {
    return runPassesNow(this.deps.providers, this.deps);
  }

  /**
   * Removes every tracked worker (HODEI_REMOVE_WORKERS_ON_SHUTDOWN): live ones are terminated
   * within their graceful timeout, cut to `maxGracePeriodMs` so shutdown stays within its
   * 10 s, and each is cleaned up as `ProviderShutdown`.
   */
  removeAll(maxGracePeriodMs = 5_000): Promise<void> {
    return removeAllWorkers(
      this.deps.providers,
      this.deps.logger,
      maxGracePeriodMs,
      this.deps.publisher,
    );
  }

  /**
   * Called once a worker is cleaned up (the GC's TTL cleanups too): its creation is kept,
   * bounded, so a repeat of that create answers with the worker it made instead of running it
   * again; a destroy on request frees the id instead.
   */
  forget(workerId: string): void {
    this.#fingerprints.forget(workerId);
  }

  /** Waits for background destroys still running (for shutdown). */
  drain(): Promise<void> {
    return this.#jobs.drain();
  }
}
