import { err, ok, type Result } from 'neverthrow';
import type { EphemeralWorkerPolicy } from '../policy/policy.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import type {
  ManagedResource,
  WorkerHandle,
  WorkerProvider,
} from '../ports/worker-provider.port.js';
import { isOwnedBy, OWNERSHIP_LABELS, parseOwnership } from '../provider/ownership.js';
import type { OrphanReason } from '../events/lifecycle-event.js';
import type { ProviderId, WorkerId } from '../worker/ids.js';
import type { CreateAttempts } from './create-attempts.js';
import { forEachLimited } from './for-each-limited.js';
import type { LifecycleCounters } from './lifecycle-counters.js';
import type { LifecycleEventEmitter } from './lifecycle-event-emitter.js';
import { errorMessage, type LifecycleError } from './lifecycle.errors.js';
import type { WorkerRegistry } from './worker-registry.js';

export interface OrphanReport {
  readonly detected: number;
  readonly removed: number;
  readonly errors: number;
}

export interface OrphanSweepDeps {
  readonly providerId: ProviderId;
  /** The provider's policy: its orphan switch, interval, grace period and action. */
  readonly policy: EphemeralWorkerPolicy;
  readonly registry: Pick<WorkerRegistry, 'trackedResources'>;
  readonly events: Pick<LifecycleEventEmitter, 'publish' | 'meta'>;
  readonly provider: Pick<WorkerProvider, 'listManagedWorkers' | 'destroyWorker'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly counters: LifecycleCounters;
  /** Creates under way (whose resources are left alone) and failed (whose are removed). */
  readonly attempts: Pick<CreateAttempts, 'isInFlight' | 'isToRemove' | 'toRemove' | 'drop'>;
  /** Provider calls a sweep makes at once. */
  readonly concurrency: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Finds resources with our labels that no tracked worker owns (SPEC §5), and reports or
 * removes them as the policy says.
 */
export class OrphanSweep {
  readonly #deps: OrphanSweepDeps;
  /** Orphans already reported, so each is reported once while it lasts. */
  readonly #reported = new Set<string>();
  /** Resources with unreadable labels already reported: once each while they are listed. */
  readonly #unreadableReported = new Set<string>();
  #detectedSincePass = 0;
  #lastCheck: number | null = null;

  constructor(deps: OrphanSweepDeps) {
    this.#deps = deps;
  }

  /** The orphans detected since the last call: the deadline pass reports them in its stats. */
  takeDetectedSincePass(): number {
    const detected = this.#detectedSincePass;
    this.#detectedSincePass = 0;
    return detected;
  }

  /**
   * The sweep as part of reconciliation, over its listing: when orphan detection is on and
   * its interval is due, else `undefined` (at once, so a pass without a sweep waits on
   * nothing more).
   */
  sweepIfDue(
    listing: readonly ManagedResource[],
    passStarted: number,
  ): Promise<OrphanReport> | undefined {
    const { policy, clock } = this.#deps;
    if (!policy.orphanDetectionEnabled) return undefined;
    const now = clock.now();
    if (this.#lastCheck === null || now - this.#lastCheck >= policy.orphanCheckInterval) {
      this.#lastCheck = now;
      return this.#sweep(listing, passStarted);
    }
    return undefined;
  }

  /** The sweep now, over a listing of its own, whatever its interval and switch say. */
  async sweepNow(): Promise<Result<OrphanReport, LifecycleError>> {
    const started = this.#deps.clock.now();
    const listing = await this.#deps.provider.listManagedWorkers();
    if (listing.isErr()) return err(listing.error);
    this.#lastCheck = started;
    return ok(await this.#sweep(listing.value, started));
  }

  async #sweep(listing: readonly ManagedResource[], passStarted: number): Promise<OrphanReport> {
    const now = this.#deps.clock.now();
    const candidates = this.#candidates(listing, passStarted, now);
    const report: Mutable<OrphanReport> = { detected: 0, removed: 0, errors: 0 };
    if (candidates.length === 0) return report;

    let confirmed = candidates;
    if (this.#deps.policy.orphanAction === 'remove') {
      // Re-read just before removal: only what is still there, still ours and still untracked.
      const again = await this.#deps.provider.listManagedWorkers();
      if (again.isErr()) return { detected: 0, removed: 0, errors: 1 };
      confirmed = this.#stillOrphaned(candidates, again.value);
    }
    await forEachLimited(confirmed, this.#deps.concurrency, (r) => this.#handle(r, now, report));
    return report;
  }

  /** Resources that look orphaned: ours, untracked, older than the pass and the grace period. */
  #candidates(
    listing: readonly ManagedResource[],
    passStarted: number,
    now: number,
  ): ManagedResource[] {
    const { registry, providerId, policy } = this.#deps;
    const tracked = registry.trackedResources();
    const present = new Set(listing.map((r) => r.resourceId));
    for (const id of this.#reported) if (!present.has(id)) this.#reported.delete(id);
    return listing.filter(
      (r) =>
        // Never anything without our labels, whatever the provider returned.
        isOwnedBy(r.labels, providerId) &&
        // Not judged by its worker id: an untracked resource labelled with a tracked worker's
        // id (a failed re-create's leftover, a duplicate) is an orphan all the same.
        !tracked.has(r.resourceId) &&
        // A create under way is not tracked yet; a failed one's leftovers are removed apart.
        !this.#deps.attempts.isInFlight(r.labels[OWNERSHIP_LABELS.workerId]) &&
        !this.#deps.attempts.isToRemove(r.labels[OWNERSHIP_LABELS.workerId]) &&
        // Unreadable labels are reported apart (handleUnreadable), once.
        parseOwnership(r.labels, providerId).isOk() &&
        r.createdAt < passStarted &&
        now - r.createdAt >= policy.orphanGracePeriod,
    );
  }

  /** The candidates a fresh listing still shows as ours and that are still untracked. */
  #stillOrphaned(
    candidates: readonly ManagedResource[],
    again: readonly ManagedResource[],
  ): ManagedResource[] {
    const { registry, providerId } = this.#deps;
    const still = new Map(again.map((r) => [r.resourceId, r]));
    const trackedNow = registry.trackedResources();
    return candidates.filter((r) => {
      const current = still.get(r.resourceId);
      return (
        current !== undefined &&
        isOwnedBy(current.labels, providerId) &&
        current.labels[OWNERSHIP_LABELS.workerId] === r.labels[OWNERSHIP_LABELS.workerId] &&
        !trackedNow.has(r.resourceId) &&
        !this.#deps.attempts.isInFlight(r.labels[OWNERSHIP_LABELS.workerId])
      );
    });
  }

  /** Removes (if the policy says so) and reports one orphan, once while it lasts. */
  async #handle(r: ManagedResource, now: number, report: Mutable<OrphanReport>): Promise<void> {
    const { policy } = this.#deps;
    let action: 'reported' | 'removed' = 'reported';
    if (policy.orphanAction === 'remove') {
      if (!(await this.#remove(r, policy.gracefulTerminationTimeout, report))) return;
      action = 'removed';
    } else if (this.#reported.has(r.resourceId)) {
      return;
    }
    this.#reported.add(r.resourceId);
    report.detected += 1;
    await this.#publish(r, now, action, 'Untracked');
  }

  /**
   * Resources with our provider id whose labels cannot be read (a missing or corrupt policy
   * label): nothing tracks them and recovery cannot, so each is reported once while it is
   * listed, and removed when the policy's orphanAction says so, whatever the orphan
   * switch says; a removal that fails is tried again at the next call.
   */
  async handleUnreadable(listing: readonly ManagedResource[]): Promise<OrphanReport> {
    const { providerId, policy, registry } = this.#deps;
    const report: Mutable<OrphanReport> = { detected: 0, removed: 0, errors: 0 };
    const tracked = registry.trackedResources();
    const now = this.#deps.clock.now();
    // Forget what is no longer listed: the set stays as small as what is left to report.
    const present = new Set(listing.map((r) => r.resourceId));
    for (const id of this.#unreadableReported) {
      if (!present.has(id)) this.#unreadableReported.delete(id);
    }
    const unreadable = listing.flatMap((r) => {
      if (!isOwnedBy(r.labels, providerId) || tracked.has(r.resourceId)) return [];
      if (this.#unreadableReported.has(r.resourceId)) return [];
      const facts = parseOwnership(r.labels, providerId);
      return facts.isErr() ? [{ r, detail: facts.error.message }] : [];
    });
    await forEachLimited(unreadable, this.#deps.concurrency, async ({ r, detail }) => {
      let action: 'reported' | 'removed' = 'reported';
      if (policy.orphanAction === 'remove') {
        if (!(await this.#remove(r, policy.gracefulTerminationTimeout, report))) return;
        action = 'removed';
      }
      this.#unreadableReported.add(r.resourceId);
      report.detected += 1;
      await this.#publish(r, now, action, 'UnreadableLabels', detail);
    });
    return report;
  }

  /**
   * Removes (grace 0) what failed creates left: each untracked resource of ours labelled with
   * a failed attempt's worker id, until a listing shows none (the attempt is then dropped).
   * A tracked worker under the id (an older life, still retained) does not end the attempt:
   * its own resource is left alone by its resource id, the attempt's leftovers are removed.
   */
  async removeFailedCreates(listing: readonly ManagedResource[]): Promise<OrphanReport> {
    const { providerId, registry, attempts } = this.#deps;
    const report: Mutable<OrphanReport> = { detected: 0, removed: 0, errors: 0 };
    const tracked = registry.trackedResources();
    const now = this.#deps.clock.now();
    const left: ManagedResource[] = [];
    for (const workerId of attempts.toRemove()) {
      if (attempts.isInFlight(workerId)) continue;
      const mine = listing.filter(
        (r) =>
          isOwnedBy(r.labels, providerId) &&
          r.labels[OWNERSHIP_LABELS.workerId] === workerId &&
          !tracked.has(r.resourceId),
      );
      if (mine.length === 0) attempts.drop(workerId);
      else left.push(...mine);
    }
    await forEachLimited(left, this.#deps.concurrency, async (r) => {
      if (!(await this.#remove(r, 0, report))) return;
      report.detected += 1;
      await this.#publish(r, now, 'removed', 'FailedCreate');
    });
    return report;
  }

  /** Removes one resource through the bare provider (ours only); false when that failed. */
  async #remove(
    r: ManagedResource,
    gracePeriod: number,
    report: Mutable<OrphanReport>,
  ): Promise<boolean> {
    const { providerId, provider } = this.#deps;
    const handle: WorkerHandle = {
      workerId: (r.labels[OWNERSHIP_LABELS.workerId] ?? '') as WorkerId,
      resourceId: r.resourceId,
      providerId,
      createdAt: r.createdAt,
    };
    const gone = await provider.destroyWorker(handle, { gracePeriod });
    if (gone.isErr()) {
      report.errors += 1;
      this.#deps.logger.warn('could not remove an orphan', {
        resourceId: r.resourceId,
        error: errorMessage(gone.error),
      });
      return false;
    }
    report.removed += 1;
    return true;
  }

  async #publish(
    r: ManagedResource,
    now: number,
    action: 'reported' | 'removed',
    reason: OrphanReason,
    detail?: string,
  ): Promise<void> {
    const { events, counters } = this.#deps;
    const claimed = r.labels[OWNERSHIP_LABELS.workerId];
    counters.orphansDetected += 1;
    this.#detectedSincePass += 1;
    await events.publish({
      ...events.meta({ actor: 'gc' }),
      type: 'OrphanWorkerDetected',
      ...(claimed === undefined ? {} : { workerId: claimed }),
      resourceId: r.resourceId,
      lastSeen: new Date(now).toISOString(),
      orphanedDurationSecs: Math.max(0, Math.floor((now - r.createdAt) / 1000)),
      action,
      reason,
      ...(detail === undefined ? {} : { detail }),
    });
  }
}
