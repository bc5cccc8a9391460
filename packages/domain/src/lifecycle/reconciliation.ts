import { err, ok, type Result } from 'neverthrow';
import type { ReconcileStats } from '../events/gc-stats.js';
import type { Clock } from '../ports/clock.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { WorkerProvider, WorkerStatus } from '../ports/worker-provider.port.js';
import type { CreateAttempts } from './create-attempts.js';
import { forEachLimited } from './for-each-limited.js';
import type { OperationContext } from './lifecycle-event-emitter.js';
import { errorMessage, type LifecycleError } from './lifecycle.errors.js';
import type { OrphanSweep } from './orphan-sweep.js';
import type { StatusObserver } from './status-observer.js';
import type { WorkerRegistry } from './worker-registry.js';

export interface ReconciliationDeps {
  readonly registry: Pick<WorkerRegistry, 'list' | 'listingAsked' | 'sawListing'>;
  readonly observer: Pick<StatusObserver, 'observe'>;
  readonly orphans: Pick<OrphanSweep, 'sweepIfDue' | 'handleUnreadable' | 'removeFailedCreates'>;
  /** Creates under way: their workers are not judged by a listing that may predate them. */
  readonly attempts: Pick<CreateAttempts, 'isInFlight'>;
  readonly provider: Pick<WorkerProvider, 'listManagedWorkers'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Provider calls the pass makes at once. */
  readonly concurrency: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Compares tracking with one listing of the provider (SPEC §5): lost and exited workers,
 * workers that started while no notification came, then orphans when their interval is due.
 */
export class Reconciliation {
  readonly #deps: ReconciliationDeps;

  constructor(deps: ReconciliationDeps) {
    this.#deps = deps;
  }

  async run(): Promise<Result<ReconcileStats, LifecycleError>> {
    const { registry, observer, provider, clock, logger } = this.#deps;
    const started = clock.now();
    // Only workers tracked before the listing was asked for can be judged by it.
    const judged = registry.list().filter((w) => !this.#deps.attempts.isInFlight(w.id));
    const turn = registry.listingAsked();
    const listing = await provider.listManagedWorkers();
    if (listing.isErr()) return err(listing.error);
    const byResource = new Map(listing.value.map((r) => [r.resourceId, r]));
    // A removal of ours that failed and left the resource: its absence is a loss again.
    registry.sawListing(turn, new Set(byResource.keys()));
    const stats: Mutable<ReconcileStats> = {
      lost: 0,
      exited: 0,
      started: 0,
      orphansDetected: 0,
      orphansRemoved: 0,
      errors: 0,
      durationMs: 0,
    };
    const ctx: OperationContext = { actor: 'gc' };
    await forEachLimited(judged, this.#deps.concurrency, async (before) => {
      const resource = byResource.get(before.resourceId);
      const status: WorkerStatus = resource?.status ?? { state: 'missing' };
      const result = await observer.observe(before.id, status, ctx, before.resourceId);
      if (result.isErr()) {
        stats.errors += 1;
        logger.warn('reconciliation could not apply a status', {
          workerId: before.id,
          error: errorMessage(result.error),
        });
        return;
      }
      const after = result.value;
      if (after === undefined || after.state === before.state) return;
      if (status.state === 'missing') stats.lost += 1;
      else if (status.state === 'exited') stats.exited += 1;
      else stats.started += 1;
    });
    // What failed creates left and unreadable resources are handled at every pass, whatever
    // the orphan switch says: nothing else would ever remove or report them.
    const reports = [
      await this.#deps.orphans.removeFailedCreates(listing.value),
      await this.#deps.orphans.handleUnreadable(listing.value),
    ];
    const sweep = this.#deps.orphans.sweepIfDue(listing.value, started);
    if (sweep !== undefined) reports.push(await sweep);
    for (const orphans of reports) {
      stats.orphansDetected += orphans.detected;
      stats.orphansRemoved += orphans.removed;
      stats.errors += orphans.errors;
    }
    stats.durationMs = clock.now() - started;
    return ok(stats);
  }
}
