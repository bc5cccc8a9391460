import {
  isTerminal,
  type LifecycleError,
  type Logger,
  type OperationContext,
  type Worker,
} from '@hodei/domain';
import type { ProviderEntry } from './provider-entry.js';
import { checkPressure, type PressureGauge } from './publisher-pressure.js';

type Lifecycle = NonNullable<ProviderEntry['lifecycle']>;

/**
 * Removes every tracked worker (HODEI_REMOVE_WORKERS_ON_SHUTDOWN): live ones are terminated
 * within their graceful timeout, cut to `maxGracePeriodMs` so shutdown stays within its
 * 10 s, and each is cleaned up as `ProviderShutdown`. While the publisher reports backpressure
 * nothing is removed (the events would be lost): the workers stay for the next start to recover.
 */
export async function removeAllWorkers(
  providers: readonly ProviderEntry[],
  logger: Logger,
  maxGracePeriodMs: number,
  publisher?: PressureGauge,
): Promise<void> {
  const pressure = checkPressure(publisher);
  if (pressure.isErr()) {
    logger.warn('workers left running at shutdown: the event log cannot record their removal', {
      error: 'message' in pressure.error ? pressure.error.message : pressure.error.type,
    });
    return;
  }
  await Promise.all(
    providers.flatMap((entry) => {
      const lifecycle = entry.lifecycle;
      if (lifecycle === undefined) return [];
      return lifecycle.manager
        .listWorkers()
        .map((w) => removeOne(entry, lifecycle, w, logger, maxGracePeriodMs));
    }),
  );
}

/**
 * One worker's removal. Each step after an await is fenced by the resource it started on: if
 * the id was re-created meanwhile (`WorkerReplaced`), that life is gone and the new one is
 * left alone.
 */
async function removeOne(
  entry: ProviderEntry,
  lifecycle: Lifecycle,
  w: Worker,
  logger: Logger,
  maxGracePeriodMs: number,
): Promise<void> {
  const ctx: OperationContext = { actor: 'api', resourceId: w.resourceId };
  const handle = lifecycle.manager.handleOf(w);
  if (!isTerminal(w.state)) {
    const started = await lifecycle.manager.startTermination(w.id, 'ManualTermination', ctx);
    if (started.isErr()) return;
  }
  // Shutdown has its own deadline: the graceful timeout is cut to fit in it.
  const gracePeriod = Math.min(w.policy.gracefulTerminationTimeout, maxGracePeriodMs);
  // Our own removal: its absence is not taken for a loss.
  const removed = await lifecycle.manager.removeResource(w, () =>
    entry.provider.destroyWorker(handle, { gracePeriod }),
  );
  if (removed.isErr()) {
    logger.warn('could not remove a worker at shutdown', {
      workerId: w.id,
      error: removed.error.message,
    });
    return;
  }
  const marked = await lifecycle.manager.markWorkerTerminated(
    w.id,
    { exitCode: null, forced: false },
    ctx,
  );
  if (marked.isErr() && lifeIsGone(marked.error)) return;
  const cleaned = await lifecycle.manager.cleanupWorker(w.id, 'ProviderShutdown', ctx);
  if (cleaned.isErr() && !lifeIsGone(cleaned.error)) {
    logger.warn('could not clean up a worker at shutdown', {
      workerId: w.id,
      error: cleaned.error.type,
    });
  }
}

/** Another life holds the id now, or none does: nothing of this one is left to do. */
const lifeIsGone = (e: LifecycleError): boolean =>
  e.type === 'WorkerReplaced' || e.type === 'WorkerNotFound';
