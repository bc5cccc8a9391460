import { err, ok, type Result } from 'neverthrow';
import type { LifecycleEvent, WorkerEphemeralPolicyChanged } from '../events/lifecycle-event.js';
import { validatePolicy, type EphemeralWorkerPolicy } from '../policy/policy.js';
import type { Clock } from '../ports/clock.port.js';
import type { EventStoreError, WorkerEventHistory } from '../ports/event-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ManagedResource, WorkerProvider } from '../ports/worker-provider.port.js';
import { parseOwnership } from '../provider/ownership.js';
import type { ProviderId } from '../worker/ids.js';
import type { WorkerState } from '../worker/worker-state.js';
import { newWorker, type Worker } from '../worker/worker.js';
import type { LifecycleEventEmitter } from './lifecycle-event-emitter.js';
import type { LifecycleError } from './lifecycle.errors.js';
import { policySnapshot } from './policy-changes.js';
import { sharedPolicy } from './shared-policy.js';
import type { WorkerRegistry } from './worker-registry.js';

export interface RecoveryReport {
  readonly recovered: number;
  readonly alreadyTracked: number;
  /** Resources with our provider id whose labels could not be read: left to orphan detection. */
  readonly unreadable: number;
}

export interface RecoveryDeps {
  readonly providerId: ProviderId;
  /** The provider's policy, shared by the workers that do not override it. */
  readonly policy: EphemeralWorkerPolicy;
  readonly registry: Pick<WorkerRegistry, 'has' | 'store'>;
  readonly events: Pick<LifecycleEventEmitter, 'publish' | 'workerMeta'>;
  readonly provider: Pick<WorkerProvider, 'listManagedWorkers'>;
  /** Where each worker's last state is read; without it, state comes from the provider. */
  readonly history: WorkerEventHistory | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

type Found = { resource: ManagedResource; facts: ReturnType<typeof parseOwnership> };

/** What the event history says of the workers to re-adopt. */
interface KnownHistory {
  readonly lastEvents: ReadonlyMap<string, LifecycleEvent>;
  readonly policyChanges: ReadonlyMap<string, WorkerEphemeralPolicyChanged>;
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

  async run(): Promise<Result<RecoveryReport, LifecycleError>> {
    const { providerId, registry, events, provider, clock } = this.#deps;
    const listing = await provider.listManagedWorkers();
    if (listing.isErr()) return err(listing.error);
    const { found, unreadable, alreadyTracked } = this.#classify(listing.value);
    const { lastEvents, policyChanges } = await this.#readHistory(found);
    const now = clock.now();
    for (const { resource, facts } of found) {
      if (facts.isErr()) continue;
      const f = facts.value;
      const last = lastEvents.get(f.workerId);
      const lastAt = last === undefined ? now : Date.parse(last.occurredAt);
      const base = newWorker({
        id: f.workerId,
        providerId,
        mode: f.mode,
        readiness: f.readiness,
        resourceId: resource.resourceId,
        image: resource.image,
        policy: sharedPolicy(
          this.#changedPolicy(f.workerId, f.policy, f.createdAt, policyChanges.get(f.workerId)),
          this.#deps.policy,
        ),
        createdAt: f.createdAt,
      });
      const worker = idleFromRecovery(
        withLastActivity(recoveredWorker(base, resource, last, lastAt, now), last),
        now,
      );
      registry.store(worker);
      await events.publish({
        ...events.workerMeta(worker.id, { actor: 'recovery' }),
        type: 'WorkerRecovered',
        resourceId: resource.resourceId,
        recoveredState: worker.state,
      });
    }
    return ok({ recovered: found.length, alreadyTracked, unreadable });
  }

  /** Each worker's last state event and last policy change; empty maps where unreadable. */
  async #readHistory(found: readonly Found[]): Promise<KnownHistory> {
    const { providerId, history, logger } = this.#deps;
    if (history === undefined || found.length === 0) {
      return { lastEvents: new Map(), policyChanges: new Map() };
    }
    const ids = found.flatMap((f) => (f.facts.isOk() ? [f.facts.value.workerId] : []));
    const [lastStates, lastChanges] = await Promise.all([
      settled(() => history.lastStateEvents(providerId, ids)),
      settled<ReadonlyMap<string, WorkerEphemeralPolicyChanged>>(
        () => history.lastPolicyChanges?.(providerId, ids) ?? ok(new Map()),
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
  #classify(listing: readonly ManagedResource[]): {
    found: Found[];
    unreadable: number;
    alreadyTracked: number;
  } {
    const { providerId, registry, logger } = this.#deps;
    const found: Found[] = [];
    let unreadable = 0;
    let alreadyTracked = 0;
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
      if (registry.has(facts.value.workerId)) {
        alreadyTracked += 1;
        continue;
      }
      found.push({ resource, facts });
    }
    return { found, unreadable, alreadyTracked };
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
