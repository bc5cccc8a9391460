import { isTerminal, type Logger, type OperationContext } from '@hodei/domain';
import type { ProviderEntry } from './provider-entry.js';

/**
 * Removes every tracked worker (HODEI_REMOVE_WORKERS_ON_SHUTDOWN): live ones are terminated
 * within their graceful timeout, cut to `maxGracePeriodMs` so shutdown stays within its
 * 10 s, and each is cleaned up as `ProviderShutdown`.
 */
export async function removeAllWorkers(
  providers: readonly ProviderEntry[],
  logger: Logger,
  maxGracePeriodMs: number,
): Promise<void> {
  const ctx: OperationContext = { actor: 'api' };
  await Promise.all(
    providers.flatMap((entry) => {
      const lifecycle = entry.lifecycle;
      if (lifecycle === undefined) return [];
      return lifecycle.manager.listWorkers().map(async (w) => {
        const handle = lifecycle.manager.handleOf(w);
        if (!isTerminal(w.state)) {
          const started = await lifecycle.manager.startTermination(w.id, 'ManualTermination', ctx);
          if (started.isErr()) return;
        }
        // Shutdown has its own deadline: the graceful timeout is cut to fit in it.
        const gracePeriod = Math.min(w.policy.gracefulTerminationTimeout, maxGracePeriodMs);
        const removed = await entry.provider.destroyWorker(handle, { gracePeriod });
        if (removed.isErr()) {
          logger.warn('could not remove a worker at shutdown', {
            workerId: w.id,
            error: removed.error.message,
          });
          return;
        }
        await lifecycle.manager.markWorkerTerminated(w.id, { exitCode: null, forced: false }, ctx);
        await lifecycle.manager.cleanupWorker(w.id, 'ProviderShutdown', ctx);
      });
    }),
  );
}
