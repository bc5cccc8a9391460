import { err, ok, okAsync, type Result, type ResultAsync } from 'neverthrow';
import {
  DEFAULT_GC_HEARTBEAT_MS,
  emptyGcStats,
  gcPassDidWork,
  type GarbageCollectionStats,
} from '../events/gc-stats.js';
import type { TerminationReason } from '../events/reasons.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { WorkerProvider } from '../ports/worker-provider.port.js';
import type { Worker } from '../worker/worker.js';
import type { BackgroundStops } from './background-stops.js';
import { dueExpiryWarning, dueRule, ruleDeadline, type DueRule } from './deadlines.js';
import { forEachLimited } from './for-each-limited.js';
import type { LifecycleCounters } from './lifecycle-counters.js';
import type { LifecycleEventEmitter, OperationContext } from './lifecycle-event-emitter.js';
import { errorMessage, type LifecycleError } from './lifecycle.errors.js';
import type { OrphanSweep } from './orphan-sweep.js';
import type { StatusObserver } from './status-observer.js';
import { activityOf, type Transitions } from './transitions.js';
import { handleOf, type WorkerRegistry } from './worker-registry.js';

export interface DeadlinePassDeps {
  readonly registry: Pick<
    WorkerRegistry,
    | 'get'
    | 'locked'
    | 'popDue'
    | 'reschedule'
    | 'retryAt'
    | 'store'
    | 'removeResource'
    | 'expectGone'
  >;
  readonly transitions: Pick<Transitions, 'apply' | 'cleanUp'>;
  readonly observer: Pick<StatusObserver, 'stopTerminating'>;
  /** Orphans found since the last pass are counted in its stats. */
  readonly orphans: Pick<OrphanSweep, 'takeDetectedSincePass'>;
  readonly events: Pick<LifecycleEventEmitter, 'publish' | 'tryPublish' | 'meta' | 'workerMeta'>;
  readonly provider: Pick<WorkerProvider, 'stopWorker' | 'destroyWorker'>;
  /** Where the stops the pass decides run: the pass does not wait for them. */
  readonly stops: Pick<BackgroundStops, 'start' | 'takeFailures'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly counters: LifecycleCounters;
  /** Provider calls the pass makes at once. */
  readonly concurrency: number;
  /**
   * A pass that did nothing publishes GarbageCollectionCompleted only when none was published
   * for this long (default 5 min), as a heartbeat; 0 publishes every pass.
   */
  readonly heartbeatMs?: number;
  /**
   * False while the pass may not act (see `LifecycleManagerDeps.mayAct`): a due worker is
   * then left as it is and filed again, to be acted on by a later pass.
   */
  readonly mayAct?: () => boolean;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const RULE_STAT = {
  lifetime: 'lifetimeExceeded',
  idle: 'idleTimedOut',
  startup: 'startupTimedOut',
  forceRemove: 'forceTerminated',
  ttl: 'ttlExpired',
} as const satisfies Record<DueRule, keyof GarbageCollectionStats>;

/**
 * What the pass did to one due worker: a rule applied, a warning, nothing, a failure, or
 * `deferred` (it may not act now).
 */
type Outcome = DueRule | 'expiryWarning' | null | 'error' | 'deferred';

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The deadline pass (SPEC §5): takes the due workers off the deadline index and applies the
 * first due rule to each (1 lifetime, 2 idle, 3 startup, 4 force-remove, 5 TTL cleanup), or,
 * when none is due, the WorkerEphemeralExpiring warning due before a lifetime or idle deadline.
 * It decides and moves on: the stops of rules 1–3 run in the background, since one can take
 * the whole graceful timeout; a terminating worker ends by its exit (read after the stop,
 * pushed or reconciled) or by rule 4.
 */
export class DeadlinePass {
  readonly #deps: DeadlinePassDeps;
  readonly #heartbeatMs: number;
  /** When the last GarbageCollectionCompleted went out; the first heartbeat counts from start. */
  #lastRecordedAt: number;

  constructor(deps: DeadlinePassDeps) {
    this.#deps = deps;
    this.#heartbeatMs = Math.max(0, deps.heartbeatMs ?? DEFAULT_GC_HEARTBEAT_MS);
    this.#lastRecordedAt = deps.clock.now();
  }

  async run(): Promise<Result<GarbageCollectionStats, LifecycleError>> {
    const { registry, clock } = this.#deps;
    const started = clock.now();
    const stats: Mutable<GarbageCollectionStats> = { ...emptyGcStats() };
    const retry: string[] = [];
    const visits = new Map<string, number>();
    // A worker ended by rules 1–3 with no retention is cleaned up in the same cycle: pop
    // again, at most three visits per worker.
    for (let round = 0; round < 3; round++) {
      const now = clock.now();
      const due = registry.popDue(now).filter((id) => {
        const n = (visits.get(id) ?? 0) + 1;
        visits.set(id, n);
        return n <= 3;
      });
      if (due.length === 0) break;
      await forEachLimited(due, this.#deps.concurrency, async (id) => {
        const outcome = await this.#applyDueGuarded(id, now);
        if (outcome === 'error' || outcome === 'deferred') {
          if (outcome === 'error') stats.errors += 1;
          retry.push(id);
        } else if (outcome === 'expiryWarning') {
          stats.expiryWarnings += 1;
        } else if (outcome !== null) {
          stats[RULE_STAT[outcome]] += 1;
          if (outcome === 'ttl') stats.workersCleaned += 1;
        }
      });
    }
    // Failed actions are tried again next cycle, not in a loop within this one.
    for (const id of retry) registry.retryAt(id, clock.now());
    // Stops started by earlier passes that failed since: errors too, though the pass did not
    // wait for them.
    stats.errors += this.#deps.stops.takeFailures();
    stats.orphansDetected = this.#deps.orphans.takeDetectedSincePass();
    const ended = clock.now();
    stats.durationMs = ended - started;
    try {
      await this.#record(stats, ended);
    } catch (cause) {
      this.#deps.logger.error('deadline pass could not be recorded', { error: String(cause) });
    }
    return ok(stats);
  }

  /**
   * `#applyDue`, with a port that throws (or rejects) instead of returning an error counted
   * as a failed action: the worker was taken off the index, and is retried next cycle like
   * any failure, not lost; the other due workers are acted on all the same.
   */
  async #applyDueGuarded(workerId: string, now: number): Promise<Outcome> {
    try {
      return await this.#applyDue(workerId, now);
    } catch (cause) {
      this.#deps.counters.thrown += 1;
      this.#deps.logger.error('deadline pass action threw', { workerId, error: String(cause) });
      return 'error';
    }
  }

  /**
   * Publishes the pass when it did something, else only as a heartbeat: idle passes every few
   * seconds were most of the event log, and said nothing.
   */
  async #record(stats: GarbageCollectionStats, now: number): Promise<void> {
    if (!gcPassDidWork(stats) && now - this.#lastRecordedAt < this.#heartbeatMs) return;
    this.#lastRecordedAt = now;
    const { events } = this.#deps;
    await events.publish({
      ...events.meta({ actor: 'gc' }),
      type: 'GarbageCollectionCompleted',
      ...stats,
    });
  }

  /**
   * Applies the first due rule to one worker, or else its due warning: what it did, `null`
   * if nothing, or `error`.
   */
  async #applyDue(workerId: string, now: number): Promise<Outcome> {
    const { registry } = this.#deps;
    const w = registry.get(workerId);
    if (w === undefined) return null;
    const rule = dueRule(w, now);
    const warning = rule === null ? dueExpiryWarning(w, now) : null;
    if (rule === null && warning === null) {
      registry.reschedule(workerId);
      return null;
    }
    // Not acting (shutting down, lock lost): the worker keeps its deadline for a later pass.
    if (!this.#mayAct()) return 'deferred';
    // Every change is fenced by this life's resource: a worker re-created under the id while
    // the pass awaits is another worker.
    const ctx: OperationContext = { actor: 'gc', resourceId: w.resourceId };
    if (rule === null) {
      const warned = await this.#warn(w, ctx);
      if (warned === 'sent') return 'expiryWarning';
      if (warned === 'notSent') return 'error'; // the emitter logged it; retried next cycle
      registry.reschedule(workerId);
      return null;
    }
    const result = await this.#runRule(rule, w, ctx);
    if (result.isErr()) {
      this.#deps.logger.warn('deadline pass action failed', {
        workerId,
        rule,
        error: errorMessage(result.error),
      });
      return 'error';
    }
    if (!result.value) {
      // Something else moved the worker meanwhile; its deadline follows its new state.
      registry.reschedule(workerId);
      return null;
    }
    return rule;
  }

  /**
   * Warns that a lifetime or idle termination is near, once for that deadline: the worker
   * stores the deadline warned of (per rule), so only a deadline that moves is warned of
   * again. Checked again under the worker's lock, like the rules: `notDue` if the warning no
   * longer is. The warning is the event itself, so it is recorded only once published:
   * `notSent` leaves it owed, for the next cycle.
   */
  async #warn(w: Worker, ctx: OperationContext): Promise<'sent' | 'notDue' | 'notSent'> {
    const { registry, events, clock } = this.#deps;
    const result = await registry.locked(
      w.id,
      async (): Promise<Result<'sent' | 'notDue' | 'notSent', LifecycleError>> => {
        const current = registry.get(w.id);
        if (current?.resourceId !== w.resourceId) return ok('notDue');
        const warning = dueExpiryWarning(current, clock.now());
        if (warning === null) return ok('notDue');
        const sent = await events.tryPublish({
          ...events.workerMeta(w.id, ctx),
          type: 'WorkerEphemeralExpiring',
          rule: warning.rule,
          at: iso(warning.deadline),
          lastActivity: activityOf(current),
        });
        if (!sent) return ok('notSent');
        registry.store(
          warning.rule === 'lifetime'
            ? { ...current, lifetimeWarnedFor: warning.deadline }
            : { ...current, idleWarnedFor: warning.deadline },
        );
        return ok('sent');
      },
    );
    return result.unwrapOr('notDue');
  }

  /**
   * Applies `rule` to the worker. The rule is checked again under the worker's lock, so a
   * call that moved the worker since the pass looked (a busy agent, a destroy under way, an
   * exit) is never overridden: `false` then, and nothing done.
   */
  #runRule(rule: DueRule, w: Worker, ctx: OperationContext): ResultAsync<boolean, LifecycleError> {
    switch (rule) {
      case 'lifetime':
      case 'idle':
        return this.#terminate(rule, w, ctx);
      case 'startup':
        return this.#failStartup(w, ctx);
      case 'forceRemove':
        return this.#forceRemove(w, ctx);
      case 'ttl':
        return this.#expireTtl(w, ctx);
    }
  }

  /**
   * The worker as it is now, if it is the same life and `rule` still applies to it, and the
   * pass may still act (it may have stopped while the pass waited for the worker's lock).
   */
  #stillDue(w: Worker, rule: DueRule): Worker | undefined {
    const current = this.#deps.registry.get(w.id);
    return this.#mayAct() &&
      current?.resourceId === w.resourceId &&
      dueRule(current, this.#deps.clock.now()) === rule
      ? current
      : undefined;
  }

  #mayAct(): boolean {
    return this.#deps.mayAct?.() ?? true;
  }

  /** Rules 1 and 2: terminate, then stop the resource in the background. */
  #terminate(
    rule: 'lifetime' | 'idle',
    w: Worker,
    ctx: OperationContext,
  ): ResultAsync<boolean, LifecycleError> {
    const { registry, transitions, events } = this.#deps;
    const reason: TerminationReason = rule === 'lifetime' ? 'LifetimeExceeded' : 'IdleTimeout';
    return registry
      .locked(w.id, async (): Promise<Result<Worker | undefined, LifecycleError>> => {
        const current = this.#stillDue(w, rule);
        if (current === undefined) return ok(undefined);
        if (rule === 'idle') {
          await events.publish({
            ...events.workerMeta(w.id, ctx),
            type: 'WorkerEphemeralIdle',
            idleSince: new Date(current.lastActivityAt).toISOString(),
            lastActivity: activityOf(current),
          });
        }
        return transitions.apply(
          w.id,
          { to: 'terminating', reason },
          ctx,
          deadlineOf(current, rule),
        );
      })
      .map((terminating) => {
        if (terminating === undefined) return false;
        this.#stopTerminating(terminating, ctx);
        return true;
      });
  }

  /** Starts the stop of a terminating worker; once it has exited, it is marked terminated. */
  #stopTerminating(w: Worker, ctx: OperationContext): void {
    const { registry, observer, stops } = this.#deps;
    stops.start({ workerId: w.id, resourceId: w.resourceId }, 'terminate', () => {
      // Its turn may come after its exit or a force-remove ended it: then nothing to stop.
      const current = registry.get(w.id);
      return current?.state === 'terminating' && current.resourceId === w.resourceId
        ? observer.stopTerminating(current, ctx)
        : okAsync(undefined);
    });
  }

  /**
   * Rule 3: a worker not running after its startup timeout fails, and its resource stops
   * (in the background).
   */
  #failStartup(w: Worker, ctx: OperationContext): ResultAsync<boolean, LifecycleError> {
    const { registry, transitions, provider, stops } = this.#deps;
    return registry
      .locked(w.id, async (): Promise<Result<Worker | undefined, LifecycleError>> => {
        const current = this.#stillDue(w, 'startup');
        if (current === undefined) return ok(undefined);
        return transitions.apply(
          w.id,
          {
            to: 'failed',
            error: `not running after startupTimeout (${w.policy.startupTimeout} ms)`,
            reason: 'StartupTimeout',
          },
          ctx,
          deadlineOf(current, 'startup'),
        );
      })
      .map((failed) => {
        if (failed === undefined) return false;
        stops.start({ workerId: failed.id, resourceId: failed.resourceId }, 'failStartup', () => {
          // Cleaned up meanwhile (no retention): its resource is already removed.
          if (registry.get(failed.id)?.resourceId !== failed.resourceId) return okAsync(undefined);
          // A stop may delete what never started (a pod not yet scheduled): no loss then.
          registry.expectGone(failed);
          return provider.stopWorker(handleOf(failed), {
            gracePeriod: failed.policy.gracefulTerminationTimeout,
          });
        });
        return true;
      });
  }

  /** Rule 4: a worker still terminating past its graceful timeout is removed by force. */
  #forceRemove(w: Worker, ctx: OperationContext): ResultAsync<boolean, LifecycleError> {
    const { registry, transitions, provider } = this.#deps;
    // Under the worker's lock, so the provider's own exit notification cannot mark it
    // terminated first as if it had stopped by itself.
    return registry.locked(w.id, async (): Promise<Result<boolean, LifecycleError>> => {
      const current = this.#stillDue(w, 'forceRemove');
      if (current === undefined) return ok(false);
      const removed = await registry.removeResource(current, () =>
        provider.destroyWorker(handleOf(current), { gracePeriod: 0 }),
      );
      if (removed.isErr()) return err(removed.error);
      return (
        await transitions.apply(w.id, { to: 'terminated', exitCode: null }, ctx, {
          forced: true,
          ...deadlineOf(current, 'forceRemove'),
        })
      ).map(() => true);
    });
  }

  /** Rule 5: a finished worker past its retention is removed and no longer tracked. */
  #expireTtl(w: Worker, ctx: OperationContext): ResultAsync<boolean, LifecycleError> {
    const { registry, transitions, provider, clock } = this.#deps;
    return registry.locked(w.id, async (): Promise<Result<boolean, LifecycleError>> => {
      const current = this.#stillDue(w, 'ttl');
      if (current === undefined) return ok(false);
      const started = clock.now();
      const removed = await registry.removeResource(current, () =>
        provider.destroyWorker(handleOf(current), { gracePeriod: 0 }),
      );
      if (removed.isErr()) return err(removed.error);
      const { deadlineAt } = deadlineOf(current, 'ttl');
      return (await transitions.cleanUp(w.id, 'TtlExpired', ctx, started, deadlineAt)).map(
        () => true,
      );
    });
  }
}

/** The deadline of the rule the pass applies, for the event of the change (the reap lag). */
function deadlineOf(w: Worker, rule: DueRule): { deadlineAt?: number } {
  const at = ruleDeadline(w, rule);
  return at === null ? {} : { deadlineAt: at };
}
