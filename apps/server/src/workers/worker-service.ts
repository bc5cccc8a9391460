import {
  EphemeralWorkerPolicy,
  isTerminal,
  type IdGenerator,
  type GarbageCollectionStats,
  type LifecycleEvent,
  type LifecycleManagedWorkerProvider,
  type LifecycleManager,
  type LogLine,
  type Logger,
  type OperationContext,
  type Problem,
  type ProviderId,
  type Readiness,
  type Worker,
  type WorkerHandle,
  type WorkerId,
  type WorkerMode,
  type WorkerProvider,
  type WorkerSpec,
  type WorkerState,
  parseWorkerId,
  OWNERSHIP_LABELS,
} from '@hodei/domain';
import { createHash } from 'node:crypto';
import { err, ok, type Result } from 'neverthrow';
import type { ProviderKind } from '../config/config.js';
import type { PassObserver } from '../passes/pass-scheduler.js';
import type { RecoveryGate } from '../passes/recovery-gate.js';
import {
  describeError,
  validationFailed,
  workerNotFound,
  type WorkerServiceError,
} from './service.errors.js';
import { resourceView, workerView, type WorkerView } from './worker-view.js';

/** One configured provider: bare, and with its lifecycle manager when the flag is on. */
export interface ProviderEntry {
  readonly id: ProviderId;
  readonly kind: ProviderKind;
  readonly provider: WorkerProvider;
  readonly policy: EphemeralWorkerPolicy;
  readonly lifecycle?: {
    readonly manager: LifecycleManager;
    readonly managed: LifecycleManagedWorkerProvider;
    /** Recovery after a restart; passes run only once it has succeeded. */
    readonly recovery: RecoveryGate;
  };
}

export interface PolicyRequest {
  readonly maxLifetimeSeconds?: number;
  readonly ttlAfterCompletionSeconds?: number | null;
  readonly idleTimeoutSeconds?: number;
  readonly gracefulTerminationTimeoutSeconds?: number;
  readonly startupTimeoutSeconds?: number;
}

/** The body of `POST /v1/workers`, already shaped by its JSON Schema. */
export interface CreateWorkerRequest {
  readonly id?: string;
  readonly providerId?: string;
  readonly mode?: WorkerMode;
  readonly readiness?: Readiness;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly resources?: { readonly memoryMb?: number; readonly cpus?: number };
  readonly policy?: PolicyRequest;
}

export interface ListRequest {
  readonly state?: WorkerState;
  readonly providerId?: string;
  readonly mode?: WorkerMode;
  readonly limit: number;
  readonly cursor?: string;
}

export interface Page {
  readonly items: readonly WorkerView[];
  readonly nextCursor: string | null;
}

export interface GcReport {
  readonly workersCleaned: number;
  readonly orphansDetected: number;
  readonly errors: number;
  readonly durationMs: number;
  readonly byProvider: Record<string, GarbageCollectionStats & { readonly lost: number }>;
}

/** Where a worker's history comes from: the event store, or the live stream's memory. */
export interface HistorySource {
  eventsOfWorker(workerId: string): Promise<Result<readonly LifecycleEvent[], WorkerServiceError>>;
}

export interface WorkerServiceDeps {
  readonly providers: readonly ProviderEntry[];
  readonly ids: IdGenerator;
  readonly defaultImage: string;
  readonly maxWorkers: number;
  readonly history: HistorySource;
  readonly logger: Logger;
  readonly now: () => number;
  readonly observer?: PassObserver;
  /** False while this server does not hold its provider locks: passes are refused. */
  readonly mayRunPasses?: () => boolean;
}

const SECOND = 1000;

/**
 * The use cases behind the HTTP API and the CLI: creation with idempotency, quotas and policy
 * overrides, listing, transitions, destroy in the background or waited for, logs, history and
 * the passes on demand.
 */
export class WorkerService {
  readonly #providers: ReadonlyMap<string, ProviderEntry>;
  readonly #default: ProviderEntry;
  /** A SHA-256 of each tracked worker's creation request (no secrets kept), for idempotent creates. */
  readonly #fingerprints = new Map<string, string>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #creating = new Map<string, Promise<unknown>>();
  /** Creates under way per provider, counted against HODEI_MAX_WORKERS. */
  readonly #pending = new Map<string, number>();

  constructor(private readonly deps: WorkerServiceDeps) {
    const first = deps.providers[0];
    if (first === undefined) throw new TypeError('WorkerService needs at least one provider');
    this.#default = first;
    this.#providers = new Map(deps.providers.map((p) => [p.id, p]));
  }

  get providers(): readonly ProviderEntry[] {
    return this.deps.providers;
  }

  get lifecycleEnabled(): boolean {
    return this.#default.lifecycle !== undefined;
  }

  async create(
    request: CreateWorkerRequest,
    ctx: OperationContext,
  ): Promise<Result<{ worker: WorkerView; created: boolean }, WorkerServiceError>> {
    const problems: Problem[] = [];
    const entry =
      request.providerId === undefined ? this.#default : this.#providers.get(request.providerId);
    if (entry === undefined) {
      problems.push({
        path: 'providerId',
        message: `unknown provider; configured: ${[...this.#providers.keys()].join(', ')}`,
      });
    }
    const id = request.id === undefined ? ok(this.deps.ids.workerId()) : parseWorkerId(request.id);
    if (id.isErr()) problems.push({ path: 'id', message: id.error.message });
    const override = request.policy === undefined ? undefined : policyOverride(request.policy);
    const policy = EphemeralWorkerPolicy.merge(entry?.policy ?? this.#default.policy, override);
    if (policy.isErr()) {
      for (const p of policy.error) {
        problems.push({
          path: `policy.${'field' in p ? toSecondsField(p.field) : ''}`,
          message: p.message,
        });
      }
    }
    if (request.readiness !== undefined && request.mode !== 'agent') {
      problems.push({
        path: 'readiness',
        message: "applies to agent workers only (mode: 'agent')",
      });
    }
    if (entry === undefined || id.isErr() || policy.isErr() || problems.length > 0) {
      return err(validationFailed(problems));
    }
    const workerId = id.value;
    const spec: WorkerSpec = {
      workerId,
      mode: request.mode ?? 'job',
      ...(request.readiness === undefined ? {} : { readiness: request.readiness }),
      image: request.image ?? this.deps.defaultImage,
      ...(request.command === undefined ? {} : { command: request.command }),
      ...(request.env === undefined ? {} : { env: request.env }),
      ...(request.labels === undefined ? {} : { labels: request.labels }),
      ...(request.resources === undefined ? {} : { resources: request.resources }),
      policy: policy.value,
    };
    const fingerprint = fingerprintOf(entry.id, spec);
    // Creates of one id run one after another, so a concurrent repeat is answered as a repeat.
    const before = this.#creating.get(workerId);
    const run = (async () => {
      await before?.catch(() => undefined);
      return this.#createOnce(entry, workerId, spec, fingerprint, ctx);
    })();
    this.#creating.set(workerId, run);
    try {
      return await run;
    } finally {
      if (this.#creating.get(workerId) === run) this.#creating.delete(workerId);
    }
  }

  async #createOnce(
    entry: ProviderEntry,
    workerId: WorkerId,
    spec: WorkerSpec,
    fingerprint: string,
    ctx: OperationContext,
  ): Promise<Result<{ worker: WorkerView; created: boolean }, WorkerServiceError>> {
    const lifecycle = entry.lifecycle;
    if (lifecycle !== undefined) {
      // Tracking is rebuilt from the engine first; a create before that could collide with a
      // worker recovery is about to adopt.
      if (!lifecycle.recovery.recovered && !(await lifecycle.recovery.ensure())) {
        const cause = lifecycle.recovery.lastError;
        // An engine that does not answer is said as such, naming it.
        if (cause?.type === 'ProviderUnavailable' || cause?.type === 'ProviderTimeout')
          return err(cause);
        return err({
          type: 'ProviderNotRecovered',
          providerId: entry.id,
          message: `provider ${entry.id} has not recovered its workers yet${cause === undefined ? '' : `: ${describeError(cause)}`}; try again`,
        });
      }
      const existing = this.#find(workerId);
      if (existing !== undefined) return this.#repeat(existing.worker, spec, fingerprint, entry.id);
      const live = lifecycle.manager.listWorkers().filter((w) => !isTerminal(w.state)).length;
      const pending = this.#pending.get(entry.id) ?? 0;
      if (live + pending >= this.deps.maxWorkers)
        return err(tooMany(entry.id, this.deps.maxWorkers));
      this.#pending.set(entry.id, pending + 1);
      this.#fingerprints.set(workerId, fingerprint);
      try {
        const created = await lifecycle.managed.createWorker(spec, ctx);
        if (created.isErr()) {
          this.#fingerprints.delete(workerId);
          return err(created.error);
        }
      } finally {
        this.#pending.set(entry.id, (this.#pending.get(entry.id) ?? 1) - 1);
      }
      const worker = lifecycle.manager.getWorker(workerId);
      if (worker === undefined) return err(workerNotFound(workerId));
      return ok({ worker: workerView(worker), created: true });
    }

    // Lifecycle management off: the provider alone, as in the seed's fallback.
    const listed = await entry.provider.listManagedWorkers();
    if (listed.isErr()) return err(listed.error);
    if (listed.value.some((r) => r.labels[OWNERSHIP_LABELS.workerId] === workerId)) {
      return err({
        type: 'WorkerIdConflict',
        workerId,
        message: `worker ${workerId} already exists`,
      });
    }
    if (listed.value.filter((r) => r.status.state !== 'exited').length >= this.deps.maxWorkers) {
      return err(tooMany(entry.id, this.deps.maxWorkers));
    }
    const created = await entry.provider.createWorker(spec);
    if (created.isErr()) return err(created.error);
    const view = await this.#bareView(entry, workerId);
    return view === undefined ? err(workerNotFound(workerId)) : ok({ worker: view, created: true });
  }

  async list(request: ListRequest): Promise<Result<Page, WorkerServiceError>> {
    const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    if (after === null)
      return err(
        validationFailed([{ path: 'cursor', message: 'not a cursor this server issued' }]),
      );
    // Sorted by (creation time, id) on the raw records; only the page is turned into views.
    const rows: Row[] = [];
    for (const entry of this.deps.providers) {
      if (request.providerId !== undefined && entry.id !== request.providerId) continue;
      if (entry.lifecycle !== undefined) {
        for (const w of entry.lifecycle.manager.listWorkers({
          ...(request.state === undefined ? {} : { state: request.state }),
          ...(request.mode === undefined ? {} : { mode: request.mode }),
        })) {
          rows.push({ createdAt: w.createdAt, id: w.id, view: () => workerView(w) });
        }
      } else {
        const listed = await entry.provider.listManagedWorkers();
        if (listed.isErr()) return err(listed.error);
        for (const r of listed.value) {
          const view = resourceView(r, entry.id, entry.policy);
          if (view === undefined) continue;
          if (request.state !== undefined && view.state !== request.state) continue;
          if (request.mode !== undefined && view.mode !== request.mode) continue;
          rows.push({ createdAt: Date.parse(view.createdAt), id: view.id, view: () => view });
        }
      }
    }
    rows.sort((a, b) => compareKey(a, [b.createdAt, b.id]));
    const start = after === undefined ? 0 : rows.findIndex((row) => compareKey(row, after) > 0);
    const from = start === -1 ? rows.length : start;
    const page = rows.slice(from, from + request.limit);
    const items = page.map((row) => row.view());
    const last = page.at(-1);
    const more = from + request.limit < rows.length;
    return ok({ items, nextCursor: more && last !== undefined ? encodeCursor(last) : null });
  }

  async get(workerId: string): Promise<Result<WorkerView, WorkerServiceError>> {
    const found = this.#find(workerId);
    if (found !== undefined) return ok(workerView(found.worker));
    for (const entry of this.deps.providers) {
      if (entry.lifecycle !== undefined) continue;
      const view = await this.#bareView(entry, workerId);
      if (view !== undefined) return ok(view);
    }
    return err(workerNotFound(workerId));
  }

  async mark(
    workerId: string,
    to: 'ready' | 'busy',
    ctx: OperationContext,
  ): Promise<Result<WorkerView, WorkerServiceError>> {
    const found = this.#find(workerId);
    if (found === undefined) {
      if (!this.lifecycleEnabled) {
        return err({
          type: 'LifecycleDisabled',
          message:
            'lifecycle management is off (HODEI_LIFECYCLE_ENABLED=false): workers have no ready/busy state',
        });
      }
      return err(workerNotFound(workerId));
    }
    if (found.worker.mode === 'job') {
      return err({
        type: 'NotAnAgent',
        workerId,
        message: `worker ${workerId} runs a job: it goes ready and busy by itself; /ready and /busy are for agents`,
      });
    }
    const manager = found.entry.lifecycle!.manager;
    const moved = await (to === 'ready'
      ? manager.markWorkerReady(workerId, ctx)
      : manager.markWorkerBusy(workerId, ctx));
    return moved.map(workerView);
  }

  /**
   * Graceful destroy. Returns at once with the worker `terminating` (the rest runs in the
   * background) unless `wait`; a finished worker is removed at once.
   */
  async destroy(
    workerId: string,
    wait: boolean,
    ctx: OperationContext,
  ): Promise<Result<{ worker: WorkerView; finished: boolean }, WorkerServiceError>> {
    const found = this.#find(workerId);
    if (found === undefined) return this.#destroyBare(workerId, wait);
    const { entry, worker } = found;
    const lifecycle = entry.lifecycle!;
    const handle = lifecycle.manager.handleOf(worker);
    if (isTerminal(worker.state)) {
      const removed = await lifecycle.managed.destroyWorker(handle, undefined, ctx);
      if (removed.isErr()) return err(removed.error);
      this.#fingerprints.delete(workerId);
      return ok({ worker: workerView(worker), finished: true });
    }
    const terminating = await lifecycle.manager.startTermination(
      workerId,
      'ManualTermination',
      ctx,
    );
    if (terminating.isErr()) {
      // It finished by itself meanwhile: remove it as a finished worker.
      const now = lifecycle.manager.getWorker(workerId);
      if (
        terminating.error.type === 'InvalidTransition' &&
        now !== undefined &&
        isTerminal(now.state)
      ) {
        return this.destroy(workerId, wait, ctx);
      }
      if (terminating.error.type === 'WorkerNotFound') return err(workerNotFound(workerId));
      return err(terminating.error);
    }
    const job = (async () => {
      const result = await lifecycle.managed.destroyWorker(handle, undefined, ctx);
      if (result.isErr()) {
        this.deps.logger.warn('background destroy failed; the deadline pass will force it', {
          workerId,
          error: describeError(result.error),
        });
      } else {
        this.#fingerprints.delete(workerId);
      }
      return result;
    })();
    this.#track(job);
    if (!wait) return ok({ worker: workerView(terminating.value), finished: false });
    const done = await job;
    if (done.isErr()) return err(done.error);
    const after = lifecycle.manager.getWorker(workerId);
    const now = this.deps.now();
    return ok({
      worker: workerView(after ?? { ...terminating.value, state: 'terminated', terminatedAt: now }),
      finished: true,
    });
  }

  async logs(
    workerId: string,
    options: { follow: boolean; tail?: number; signal?: AbortSignal },
  ): Promise<Result<AsyncIterable<LogLine>, WorkerServiceError>> {
    const handle = await this.#handle(workerId);
    if (handle === undefined) return err(workerNotFound(workerId));
    return handle.provider.logs(handle.handle, {
      follow: options.follow,
      ...(options.tail === undefined ? {} : { tail: options.tail }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  async history(workerId: string): Promise<Result<readonly LifecycleEvent[], WorkerServiceError>> {
    const events = await this.deps.history.eventsOfWorker(workerId);
    if (events.isErr()) return err(events.error);
    if (events.value.length === 0 && this.#find(workerId) === undefined)
      return err(workerNotFound(workerId));
    return ok(events.value);
  }

  /** A deadline pass and a reconciliation on every provider, now. */
  async runPasses(): Promise<GcReport> {
    const byProvider: GcReport['byProvider'] = {};
    let workersCleaned = 0;
    let orphansDetected = 0;
    let errors = 0;
    let durationMs = 0;
    for (const entry of this.deps.providers) {
      const manager = entry.lifecycle?.manager;
      if (manager === undefined) continue;
      const started = this.deps.now();
      if (!(this.deps.mayRunPasses?.() ?? true) || !(await entry.lifecycle!.recovery.ensure())) {
        errors += 1;
        continue;
      }
      const reconciled = await manager.reconcile();
      const gc = await manager.runGcCycle();
      if (reconciled.isOk()) this.deps.observer?.reconcile(entry.id, reconciled.value);
      if (gc.isOk()) this.deps.observer?.gc(entry.id, gc.value);
      const stats = gc.isOk() ? gc.value : undefined;
      const lost = reconciled.isOk() ? reconciled.value.lost : 0;
      const orphans =
        (reconciled.isOk() ? reconciled.value.orphansDetected : 0) + (stats?.orphansDetected ?? 0);
      const errs = (reconciled.isErr() ? 1 : reconciled.value.errors) + (stats?.errors ?? 1);
      const spent = this.deps.now() - started;
      byProvider[entry.id] = {
        workersCleaned: stats?.workersCleaned ?? 0,
        orphansDetected: orphans,
        errors: errs,
        durationMs: spent,
        lifetimeExceeded: stats?.lifetimeExceeded ?? 0,
        idleTimedOut: stats?.idleTimedOut ?? 0,
        startupTimedOut: stats?.startupTimedOut ?? 0,
        forceTerminated: stats?.forceTerminated ?? 0,
        ttlExpired: stats?.ttlExpired ?? 0,
        lost,
      };
      workersCleaned += stats?.workersCleaned ?? 0;
      orphansDetected += orphans;
      errors += errs;
      durationMs += spent;
    }
    return { workersCleaned, orphansDetected, errors, durationMs, byProvider };
  }

  /**
   * Removes every tracked worker (HODEI_REMOVE_WORKERS_ON_SHUTDOWN): live ones are terminated
   * within their graceful timeout, cut to `maxGracePeriodMs` so shutdown stays within its
   * 10 s, and each is cleaned up as `ProviderShutdown`.
   */
  async removeAll(maxGracePeriodMs = 5_000): Promise<void> {
    const ctx: OperationContext = { actor: 'api' };
    await Promise.all(
      this.deps.providers.flatMap((entry) => {
        const lifecycle = entry.lifecycle;
        if (lifecycle === undefined) return [];
        return lifecycle.manager.listWorkers().map(async (w) => {
          const handle = lifecycle.manager.handleOf(w);
          if (!isTerminal(w.state)) {
            const started = await lifecycle.manager.startTermination(
              w.id,
              'ManualTermination',
              ctx,
            );
            if (started.isErr()) return;
          }
          // Shutdown has its own deadline: the graceful timeout is cut to fit in it.
          const gracePeriod = Math.min(w.policy.gracefulTerminationTimeout, maxGracePeriodMs);
          const removed = await entry.provider.destroyWorker(handle, { gracePeriod });
          if (removed.isErr()) {
            this.deps.logger.warn('could not remove a worker at shutdown', {
              workerId: w.id,
              error: removed.error.message,
            });
            return;
          }
          await lifecycle.manager.markWorkerTerminated(
            w.id,
            { exitCode: null, forced: false },
            ctx,
          );
          await lifecycle.manager.cleanupWorker(w.id, 'ProviderShutdown', ctx);
        });
      }),
    );
  }

  /** Forgets what is kept per worker once it is cleaned up (the GC's TTL cleanups too). */
  forget(workerId: string): void {
    this.#fingerprints.delete(workerId);
  }

  /** Waits for background destroys still running (for shutdown). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  #track(job: Promise<unknown>): void {
    this.#inFlight.add(job);
    void job.finally(() => this.#inFlight.delete(job));
  }

  #find(workerId: string): { entry: ProviderEntry; worker: Worker } | undefined {
    for (const entry of this.deps.providers) {
      const worker = entry.lifecycle?.manager.getWorker(workerId);
      if (worker !== undefined) return { entry, worker };
    }
    return undefined;
  }

  #repeat(
    worker: Worker,
    spec: WorkerSpec,
    fingerprint: string,
    providerId: string,
  ): Result<{ worker: WorkerView; created: boolean }, WorkerServiceError> {
    const known = this.#fingerprints.get(worker.id);
    // After a restart only what the labels recorded can be compared.
    const same =
      known !== undefined
        ? known === fingerprint
        : worker.providerId === providerId &&
          worker.mode === spec.mode &&
          worker.image === spec.image &&
          JSON.stringify(worker.policy) === JSON.stringify(spec.policy);
    if (!same) {
      return err({
        type: 'WorkerIdConflict',
        workerId: worker.id,
        message: `worker ${worker.id} exists with another spec`,
      });
    }
    return ok({ worker: workerView(worker), created: false });
  }

  async #bareView(entry: ProviderEntry, workerId: string): Promise<WorkerView | undefined> {
    const listed = await entry.provider.listManagedWorkers();
    if (listed.isErr()) return undefined;
    const r = listed.value.find((x) => x.labels[OWNERSHIP_LABELS.workerId] === workerId);
    return r === undefined ? undefined : resourceView(r, entry.id, entry.policy);
  }

  async #handle(
    workerId: string,
  ): Promise<{ provider: WorkerProvider; handle: WorkerHandle } | undefined> {
    const found = this.#find(workerId);
    if (found !== undefined) {
      return {
        provider: found.entry.provider,
        handle: found.entry.lifecycle!.manager.handleOf(found.worker),
      };
    }
    for (const entry of this.deps.providers) {
      if (entry.lifecycle !== undefined) continue;
      const listed = await entry.provider.listManagedWorkers();
      if (listed.isErr()) continue;
      const r = listed.value.find((x) => x.labels[OWNERSHIP_LABELS.workerId] === workerId);
      if (r !== undefined) {
        return {
          provider: entry.provider,
          handle: {
            workerId: workerId as WorkerHandle['workerId'],
            resourceId: r.resourceId,
            providerId: entry.id,
            createdAt: r.createdAt,
          },
        };
      }
    }
    return undefined;
  }

  async #destroyBare(
    workerId: string,
    wait: boolean,
  ): Promise<Result<{ worker: WorkerView; finished: boolean }, WorkerServiceError>> {
    for (const entry of this.deps.providers) {
      if (entry.lifecycle !== undefined) continue;
      const listed = await entry.provider.listManagedWorkers();
      if (listed.isErr()) return err(listed.error);
      const r = listed.value.find((x) => x.labels[OWNERSHIP_LABELS.workerId] === workerId);
      const view = r === undefined ? undefined : resourceView(r, entry.id, entry.policy);
      if (r === undefined || view === undefined) continue;
      const handle: WorkerHandle = {
        workerId: view.id as WorkerHandle['workerId'],
        resourceId: r.resourceId,
        providerId: entry.id,
        createdAt: r.createdAt,
      };
      const gracePeriod = entry.policy.gracefulTerminationTimeout;
      const job = (async () => await entry.provider.destroyWorker(handle, { gracePeriod }))();
      this.#track(job);
      if (!wait) return ok({ worker: { ...view, state: 'terminating' }, finished: false });
      const done = await job;
      if (done.isErr()) return err(done.error);
      return ok({ worker: { ...view, state: 'terminated' }, finished: true });
    }
    return err(workerNotFound(workerId));
  }
}

function policyOverride(p: PolicyRequest): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  if (p.maxLifetimeSeconds !== undefined) out['maxLifetime'] = p.maxLifetimeSeconds * SECOND;
  if (p.ttlAfterCompletionSeconds !== undefined) {
    out['ttlAfterCompletion'] =
      p.ttlAfterCompletionSeconds === null ? null : p.ttlAfterCompletionSeconds * SECOND;
  }
  if (p.idleTimeoutSeconds !== undefined) out['idleTimeout'] = p.idleTimeoutSeconds * SECOND;
  if (p.gracefulTerminationTimeoutSeconds !== undefined) {
    out['gracefulTerminationTimeout'] = p.gracefulTerminationTimeoutSeconds * SECOND;
  }
  if (p.startupTimeoutSeconds !== undefined)
    out['startupTimeout'] = p.startupTimeoutSeconds * SECOND;
  return out;
}

const toSecondsField = (field: string): string => `${field}Seconds`;

const tooMany = (providerId: string, limit: number): WorkerServiceError => ({
  type: 'TooManyWorkers',
  providerId,
  limit,
  message: `provider ${providerId} already runs ${limit} workers (HODEI_MAX_WORKERS)`,
});

function fingerprintOf(providerId: string, spec: WorkerSpec): string {
  const sorted = (o: Readonly<Record<string, string>> | undefined) =>
    o === undefined
      ? null
      : Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  const text = `${providerId}\n${JSON.stringify({
    mode: spec.mode,
    readiness: spec.readiness ?? null,
    image: spec.image,
    command: spec.command ?? null,
    env: sorted(spec.env),
    labels: sorted(spec.labels),
    resources: spec.resources ?? null,
    policy: spec.policy,
  })}`;
  return createHash('sha256').update(text).digest('base64url');
}

/** A worker in the listing order: creation time (epoch ms), then id. */
interface Row {
  readonly createdAt: number;
  readonly id: string;
  readonly view: () => WorkerView;
}

type CursorKey = readonly [number, string];

const encodeCursor = (row: Row): string =>
  Buffer.from(JSON.stringify([row.createdAt, row.id])).toString('base64url');

function decodeCursor(cursor: string): CursorKey | null {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'number' && typeof parsed[1] === 'string') {
      return [parsed[0], parsed[1]];
    }
    return null;
  } catch {
    return null;
  }
}

const compareKey = (
  row: { readonly createdAt: number; readonly id: string },
  key: CursorKey,
): number => (row.createdAt === key[0] ? compareText(row.id, key[1]) : row.createdAt - key[0]);

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
