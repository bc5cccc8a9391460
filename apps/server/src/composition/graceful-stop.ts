import type { Logger, WatchSubscription } from '@hodei/domain';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config/config.js';
import type { PassScheduler } from '../passes/pass-scheduler.js';
import type { ProviderEntry, WorkerService } from '../workers/worker-service.js';
import type { ShutdownList } from './shutdown-list.js';

export interface StopDeps {
  readonly config: ServerConfig;
  readonly app: FastifyInstance;
  readonly scheduler: PassScheduler;
  readonly service: WorkerService;
  readonly providers: readonly ProviderEntry[];
  readonly watches: readonly WatchSubscription[];
  readonly logger: Logger;
  readonly shutdown: ShutdownList;
}

/** The server's `stop`: runs once however often it is called, every caller waiting on it. */
export function gracefulStop(deps: StopDeps): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stopInOrder(deps));
}

async function stopInOrder(deps: StopDeps): Promise<void> {
  const { config, app, scheduler, service, providers, watches, logger, shutdown } = deps;
  // Within the 10 s of SPEC §8: each step gets a slice, and what does not finish in it is
  // left to the next start (a destroy under way is recovered as terminating and finished
  // by the force-remove rule).
  const step = (name: string, ms: number, work: () => Promise<unknown>) =>
    withinBudget(work(), ms).then((done) => {
      if (!done) logger.warn('shutdown step cut short', { step: name, budgetMs: ms });
    });
  await step('HTTP', 2_500, () => app.close()); // stop accepting, finish in-flight requests
  await step('passes', 1_500, () => scheduler.stop());
  await step('background destroys', 1_000, () => service.drain());
  // Stops a pass started and no longer waits for; queued ones stay terminating, for the next
  // start's recovery and the force-remove rule.
  await step('background stops', 1_000, () =>
    Promise.all(
      providers.flatMap((p) => (p.lifecycle === undefined ? [] : [p.lifecycle.manager.close()])),
    ),
  );
  if (config.removeWorkersOnShutdown)
    await step('remove workers', 3_000, () => service.removeAll(2_000));
  for (const w of watches) w.close();
  await step('notifications', 500, () =>
    Promise.all(
      providers.flatMap((p) => (p.lifecycle === undefined ? [] : [p.lifecycle.manager.whenIdle()])),
    ),
  );
  await shutdown.closeAll();
}

/** Whether `work` settled within `ms`; it is not cancelled, only no longer waited for. */
function withinBudget(work: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    timer.unref();
    void work.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}
