import { err, ok, type Result } from 'neverthrow';
import {
  STATE_OF_EVENT,
  type LifecycleEvent,
  type WorkerEphemeralCleanedUp,
  type WorkerEphemeralPolicyChanged,
} from '../events/lifecycle-event.js';
import { validatePolicy, type EphemeralWorkerPolicy } from '../policy/policy.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStoreError, WorkerEventHistory, WorkerLife } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ManagedResource, WorkerProvider } from '../ports/worker-provider.port.js';
import { parseOwnership, type OwnershipFacts } from '../provider/ownership.js';
import type { ProviderId } from '../worker/ids.js';
import { isTerminal, type WorkerState } from '../worker/worker-state.js';
import { newWorker, type Worker } from '../worker/worker.js';
import type { CreateAttempts } from './create-attempts.js';
import type { LifecycleEventEmitter } from './lifecycle-event-emitter.js';
import { errorMessage, type LifecycleError } from './lifecycle.errors.js';
import type { OrphanSweep } from './orphan-sweep.js';
import { policySnapshot } from './policy-changes.js';
import { sharedPolicy } from './shared-policy.js';
import type { StatusObserver } from './status-observer.js';
import { publishCreated } from './transitions.js';
import type { WorkerRegistry } from './worker-registry.js';

export interface RecoveryReport {
  readonly recovered: number;
  /**
   * In a refreshing recovery: tracked workers rebuilt from the listing and the history
   * (counted in `alreadyTracked` too), and tracked ones whose resource was gone (dropped when
   * the log says they were cleaned up, reported lost otherwise). Zero in a start's recovery.
   */
  readonly refreshed?: number;
  readonly gone?: number;
  readonly alreadyTracked: number;
  /** Resources with our provider id whose labels could not be read: reported as orphans. */
  readonly unreadable: number;
}

export interface RecoveryDeps {
  readonly providerId: ProviderId;
  /** The provider's policy, shared by the workers that do not override it. */
  readonly policy: EphemeralWorkerPolicy;
  readonly registry: Pick<WorkerRegistry, 'has' | 'store' | 'get' | 'list' | 'remove' | 'locked'>;
  readonly events: Pick<LifecycleEventEmitter, 'publish' | 'workerMeta'>;
  readonly provider: Pick<WorkerProvider, 'listManagedWorkers'>;
  /** Applies an exit that happened while no server watched (after the recorded state). */
  readonly observer: Pick<StatusObserver, 'observe'>;
  /** Reports (and acts on) the resources whose labels cannot be read. */
  readonly orphans: Pick<OrphanSweep, 'handleUnreadable'>;
  /** Creates under way: their resources are theirs to track, never adopted by a recovery. */
  readonly attempts: Pick<CreateAttempts, 'isInFlight'>;
  /** Where each worker's last state is read; without it, state comes from the provider. */
  readonly history: WorkerEventHistory | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

type Found = { resource: ManagedResource; facts: ReturnType<typeof parseOwnership> };

/** How a recovery runs: `refresh` also rebuilds the workers already tracked (see `run`). */
export interface RecoveryOptions {
  readonly refresh?: boolean;
}

/** What the event history says of the workers to re-adopt. */
interface KnownHistory {
  readonly lastEvents: ReadonlyMap<string, LifecycleEvent>;
  readonly policyChanges: ReadonlyMap<string, WorkerEphemeralPolicyChanged>;
  /** True when the state events could be read: an absent life then has no record at all. */
  readonly available: boolean;
}

/**
 * Rebuilds tracking from the provider's labelled resources after a restart (SPEC §5): the
 * labels give the immutable facts and the create-time policy, the provider the state, the
 * event history (if any) the last busy/ready, the last activity and the policy changes made
 * at run time. Emits WorkerRecovered for each.
 */
export class Recovery {
  readonly #deps: RecoveryDeps;

  constructor(deps: RecoveryDeps) {
    this.#deps = deps;
  }

  /**
   * A start's recovery adopts the untracked resources and leaves the tracked workers alone.
   * A refreshing one (after this server could not act for a while: its provider lock was
   * lost, and another server may have acted meanwhile) also rebuilds every tracked worker
   * still listed from the listing and the history, as a start would, and settles the tracked
   * ones whose resource is gone (see `RecoveryRefresh`).
   */
  async run(options: RecoveryOptions = {}): Promise<Result<RecoveryReport, LifecycleError>> {
    const { provider, orphans } = this.#deps;
    const listing = await provider.listManagedWorkers();
    if (listing.isErr()) return err(listing.error);
    const refresh = options.refresh === true;
    // Gone ones first: an id another server cleaned up and created again is then adopted.
    const gone = refresh ? await this.#settleGone(listing.value) : 0;
    const { found, unreadable, alreadyTracked, tracked } = this.#classify(listing.value, refresh);
    await orphans.handleUnreadable(listing.value);
    const known = await this.#readHistory([...found, ...tracked]);
    for (const { resource, facts } of found) {
      if (facts.isOk()) await this.#adopt(resource, facts.value, known);
    }
    if (!refresh) return ok({ recovered: found.length, alreadyTracked, unreadable });
    for (const { resource, facts } of tracked) {
      if (facts.isOk()) await this.#refreshTracked(resource, facts.value, known);
    }
    return ok({
      recovered: found.length,
      alreadyTracked,
      unreadable,
      refreshed: tracked.length,
      gone,
    });
  }

  /**
   * Rebuilds a tracked worker whose resource is still listed, under its lock, and replaces
   * the tracked one (its deadlines refiled by the store). WorkerRecovered is emitted only
   * when the state changed: an unchanged worker has nothing new to record. An exit found is
   * applied (once: never when the history's life already has its terminal event).
   */
  async #refreshTracked(
    resource: ManagedResource,
    f: OwnershipFacts,
    known: KnownHistory,
  ): Promise<void> {
    const { registry, events, observer, logger } = this.#deps;
    const ctx = { actor: 'recovery' as const, resourceId: resource.resourceId };
    let exitToApply = false;
    const stored = await registry.locked(f.workerId, async () => {
      const before = registry.get(f.workerId);
      const rebuilt = this.#rebuild(resource, f, known);
      exitToApply = rebuilt.exitToApply;
      registry.store(rebuilt.worker);
      if (before === undefined || before.state !== rebuilt.worker.state) {
        await events.publish({
          ...events.workerMeta(f.workerId, ctx),
          type: 'WorkerRecovered',
          resourceId: resource.resourceId,
          recoveredState: rebuilt.worker.state,
        });
      }
      return ok(rebuilt.worker);
    });
    if (stored.isErr() || !exitToApply) return;
    const applied = await observer.observe(f.workerId, resource.status, ctx, resource.resourceId);
    if (applied.isErr()) {
      logger.warn('recovery could not apply an exit', {
        workerId: f.workerId,
        error: errorMessage(applied.error),
      });
    }
  }

  /**
   * The tracked workers whose resource is no longer listed: one the log says was cleaned up
   * (by another server) is dropped silently, its life already complete in the log; any other
   * is handled as missing (WorkerLost, once, for its life). Without the cleanups query, all
   * are taken as missing.
   */
  async #settleGone(listing: readonly ManagedResource[]): Promise<number> {
    const { registry, observer, history, providerId, logger } = this.#deps;
    const listed = new Set(listing.map((r) => r.resourceId));
    const gone = registry.list().filter((w) => !listed.has(w.resourceId));
    if (gone.length === 0) return 0;
    const lives: WorkerLife[] = gone.map((w) => ({
      workerId: w.id,
      resourceId: w.resourceId,
      createdAt: w.createdAt,
    }));
    const cleanups = await settled<ReadonlyMap<string, WorkerEphemeralCleanedUp>>(
      () => history?.lastCleanups?.(providerId, lives) ?? ok(new Map()),
    );
    const cleaned = cleanups.unwrapOr(new Map<string, WorkerEphemeralCleanedUp>());
    for (const w of gone) {
      const ctx = { actor: 'recovery' as const, resourceId: w.resourceId };
      if (cleaned.has(w.id)) {
        await registry.locked(w.id, () => {
          const current = registry.get(w.id);
          if (current?.resourceId === w.resourceId) registry.remove(w.id);
          return Promise.resolve(ok(undefined));
        });
        continue;
      }
      const lost = await observer.observe(w.id, { state: 'missing' }, ctx, w.resourceId);
      if (lost.isErr()) {
        logger.warn('recovery could not report a lost worker', {
          workerId: w.id,
          error: errorMessage(lost.error),
        });
      }
    }
    return gone.length;
  }

  /**
   * Tracks one resource again. A life the history has no record of (a create cut short by a
   * crash) gets its WorkerEphemeralCreated first; an exit while no server watched is applied
   * after the recorded state, so its exit code is recorded, unless that life already ended.
   */
  async #adopt(resource: ManagedResource, f: OwnershipFacts, known: KnownHistory): Promise<void> {
    const { registry, events, observer } = this.#deps;
    const { worker, exitToApply, last } = this.#rebuild(resource, f, known);
    registry.store(worker);
    const ctx = { actor: 'recovery' as const, resourceId: resource.resourceId };
    if (known.available && last === undefined) {
      await publishCreated(events, worker, ctx);
    }
    await events.publish({
      ...events.workerMeta(worker.id, ctx),
      type: 'WorkerRecovered',
      resourceId: resource.resourceId,
      recoveredState: worker.state,
    });
    if (exitToApply) {
      const applied = await observer.observe(worker.id, resource.status, ctx, resource.resourceId);
      if (applied.isErr()) {
        this.#deps.logger.warn('recovery could not apply an exit', {
          workerId: worker.id,
          error: errorMessage(applied.error),
        });
      }
    }
  }

  /**
   * The worker a listed resource is tracked as, as a start's recovery rebuilds it: state from
   * the last event of its life, the run-time policy changes, and whether an exit found is
   * still to be applied (the life's history has no terminal event yet).
   */
  #rebuild(
    resource: ManagedResource,
    f: OwnershipFacts,
    known: KnownHistory,
  ): { worker: Worker; exitToApply: boolean; last: LifecycleEvent | undefined } {
    const { providerId, clock } = this.#deps;
    const now = clock.now();
    const last = known.lastEvents.get(f.workerId);
    const lastAt = last === undefined ? now : Date.parse(last.occurredAt);
    const base = newWorker({
      id: f.workerId,
      providerId,
      mode: f.mode,
      readiness: f.readiness,
      resourceId: resource.resourceId,
      image: resource.image,
      policy: sharedPolicy(
        this.#changedPolicy(f.workerId, f.policy, f.createdAt, known.policyChanges.get(f.workerId)),
        this.#deps.policy,
      ),
      createdAt: f.createdAt,
    });
    const lastState = last === undefined ? undefined : STATE_OF_EVENT[last.type];
    const exitToApply =
      known.available &&
      resource.status.state === 'exited' &&
      !(lastState !== undefined && isTerminal(lastState));
    const seen: ManagedResource = exitToApply
      ? {
          ...resource,
          status: { state: lastState === undefined ? 'creating' : 'running', health: 'none' },
        }
      : resource;
    const worker = idleFromRecovery(
      withLastActivity(recoveredWorker(base, seen, last, lastAt, now), last),
      now,
    );
    return { worker, exitToApply, last };
  }

  /** Each worker's last state event and last policy change; empty maps where unreadable. */
  async #readHistory(found: readonly Found[]): Promise<KnownHistory> {
    const { providerId, history, logger } = this.#deps;
    if (history === undefined || found.length === 0) {
      return { lastEvents: new Map(), policyChanges: new Map(), available: false };
    }
    // Each worker's events of this life only: an earlier life under the id must not leak in.
    const lives: WorkerLife[] = found.flatMap(({ resource, facts }) =>
      facts.isOk()
        ? [
            {
              workerId: facts.value.workerId,
              resourceId: resource.resourceId,
              createdAt: facts.value.createdAt,
            },
          ]
        : [],
    );
    const [lastStates, lastChanges] = await Promise.all([
      settled(() => history.lastStateEvents(providerId, lives)),
      settled<ReadonlyMap<string, WorkerEphemeralPolicyChanged>>(
        () => history.lastPolicyChanges?.(providerId, lives) ?? ok(new Map()),
      ),
    ]);
    if (lastStates.isErr()) {
      logger.warn('event history unavailable: recovering state from the provider only', {
        error: lastStates.error.message,
      });
    }
    if (lastChanges.isErr()) {
      logger.warn('policy changes unavailable: recovering the create-time policies', {
        error: lastChanges.error.message,
      });
    }
    return {
      lastEvents: lastStates.unwrapOr(new Map()),
      policyChanges: lastChanges.unwrapOr(new Map()),
      available: lastStates.isOk(),
    };
  }

  /**
   * The labels' create-time policy with the last change made at run time, when that change
   * is of this life of the id: an earlier worker under the same id must not leak into it.
   */
  #changedPolicy(
    workerId: string,
    labelled: EphemeralWorkerPolicy,
    createdAt: number,
    change: WorkerEphemeralPolicyChanged | undefined,
  ): EphemeralWorkerPolicy {
    if (change === undefined || !(Date.parse(change.occurredAt) >= createdAt)) return labelled;
    const changed = validatePolicy({ ...labelled, ...policySnapshot(change.current) });
    if (changed.isOk()) return changed.value;
    this.#deps.logger.warn('a recorded policy change is invalid: keeping the create-time policy', {
      workerId,
      error: changed.error.map((p) => p.message).join('; '),
    });
    return labelled;
  }

  /** Splits a listing into the resources to re-adopt, the unreadable and the tracked. */
  #classify(
    listing: readonly ManagedResource[],
    refresh: boolean,
  ): {
    found: Found[];
    unreadable: number;
    alreadyTracked: number;
    /** The listed resources of tracked workers, when refreshing; empty otherwise. */
    tracked: Found[];
  } {
    const { providerId, registry, logger, attempts } = this.#deps;
    const found: Found[] = [];
    let unreadable = 0;
    let alreadyTracked = 0;
    const tracked: Found[] = [];
    for (const resource of listing) {
      const facts = parseOwnership(resource.labels, providerId);
      if (facts.isErr()) {
        unreadable += 1;
        logger.warn('a labelled resource could not be recovered', {
          resourceId: resource.resourceId,
          error: facts.error.message,
        });
        continue;
      }
      // Adopted now, it would be removed by the create, which tracks it itself (or has what
      // it left removed when it fails).
      if (attempts.isInFlight(facts.value.workerId)) continue;
      if (registry.has(facts.value.workerId)) {
        alreadyTracked += 1;
        if (refresh) tracked.push({ resource, facts });
        continue;
      }
      found.push({ resource, facts });
    }
    return { found, unreadable, alreadyTracked, tracked };
  }
}

/**
 * A history call as a Result even when it throws or rejects (a driver bug, a dropped
 * connection): recovery then goes on from the labels, as for an error it returns.
 */
async function settled<T>(
  call: () => PromiseLike<Result<T, EventStoreError>> | Result<T, EventStoreError>,
): Promise<Result<T, EventStoreError>> {
  try {
    return await call();
  } catch (cause: unknown) {
    return err({ type: 'EventStoreUnavailable', message: String(cause), cause });
  }
}

/**
 * A running ready agent's idle clock starts again at the recovery: heartbeats leave no
 * event, so the history's last activity may be long past for an agent kept alive by them,
 * and judging it by that would end it at once. A restart thus gives an idle agent at most
 * one more idle timeout. A later recorded activity (a clock that went back) is kept.
 */
function idleFromRecovery(w: Worker, now: number): Worker {
  if (w.mode !== 'agent' || w.state !== 'ready' || w.lastActivityAt >= now) return w;
  return { ...w, lastActivityAt: now, lastActivityBy: 'recovery' };
}

/** The state a re-adopted worker resumes in. */
function recoveredWorker(
  base: Worker,
  resource: ManagedResource,
  last: LifecycleEvent | undefined,
  lastAt: number,
  now: number,
): Worker {
  const status = resource.status;
  switch (status.state) {
    case 'creating':
      return base;
    case 'exited':
      return {
        ...base,
        state: 'terminated',
        readyAt: null,
        terminatedAt: status.finishedAt ?? now,
        exitCode: status.exitCode,
        terminationReason: base.mode === 'job' ? 'JobCompleted' : null,
      };
    case 'running': {
      if (last?.type === 'WorkerEphemeralTerminating') {
        return {
          ...base,
          state: 'terminating',
          readyAt: lastAt,
          terminatingAt: lastAt,
          terminationReason: last.reason,
        };
      }
      const state: WorkerState =
        last?.type === 'WorkerEphemeralBusy'
          ? 'busy'
          : last?.type === 'WorkerEphemeralReady'
            ? 'ready'
            : base.mode === 'job'
              ? 'busy'
              : base.readiness === 'external'
                ? 'creating'
                : 'ready';
      return state === 'creating'
        ? base
        : { ...base, state, readyAt: lastAt, lastActivityAt: lastAt };
    }
  }
}

/** The last activity the last state event carries, when it is of this life of the worker. */
function withLastActivity(w: Worker, last: LifecycleEvent | undefined): Worker {
  if (last === undefined || !('lastActivity' in last) || last.lastActivity === undefined) return w;
  const at = Date.parse(last.lastActivity.at);
  if (Number.isNaN(at) || at < w.createdAt) return w;
  return { ...w, lastActivityAt: at, lastActivityBy: last.lastActivity.by };
}
