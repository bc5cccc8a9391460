import type { Logger } from '@hodei/domain';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config/config.js';
import type { PassScheduler } from '../passes/pass-scheduler.js';
import type { ProviderEntry, WorkerService } from '../workers/worker-service.js';
import type { ActingGate } from './acting-gate.js';
import type { ProviderWatches } from './provider-watches.js';
import type { ShutdownList } from './shutdown-list.js';

export interface StopDeps {
  readonly config: ServerConfig;
  readonly app: FastifyInstance;
  readonly scheduler: PassScheduler;
  readonly service: WorkerService;
  readonly providers: readonly ProviderEntry[];
  readonly watches: ProviderWatches;
  readonly gate: ActingGate;
  readonly logger: Logger;
  readonly shutdown: ShutdownList;
}

/** The server's `stop`: runs once however often it is called, every caller waiting on it. */
export function gracefulStop(deps: StopDeps): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stopInOrder(deps));
}

async function stopInOrder(deps: StopDeps): Promise<void> {
  const { config, app, scheduler, service, providers, watches, logger, shutdown, gate } = deps;
  // First no new action: API writes answer 503, provider changes are refused, so a pass under
  // way runs through its remaining workers without acting and publishes before the
  // publishers close. Removing workers on shutdown is the one action left, opened for it.
  gate.close('shutting down');
  // Within the 10 s of SPEC §8: each step gets a slice, and what does not finish in it is
  // left to the next start (a destroy under way is recovered as terminating and finished
  // by the force-remove rule).
  const step = (name: string, ms: number, work: () => Promise<unknown>) =>
    withinBudget(work(), ms).then((done) => {
      if (!done) logger.warn('shutdown step cut short', { step: name, budgetMs: ms });
    });
  await step('HTTP', 2_000, () => app.close()); // stop accepting, finish in-flight requests
  // Waited for longer than the rest: a pass cut short would publish after the close.
  await step('passes', 3_000, () => scheduler.stop());
  await step('background destroys', 1_000, () => service.drain());
  // Stops a pass started and no longer waits for; queued ones stay terminating, for the next
  // start's recovery and the force-remove rule.
  await step('background stops', 1_000, () =>
    Promise.all(
      providers.flatMap((p) => (p.lifecycle === undefined ? [] : [p.lifecycle.manager.close()])),
    ),
  );
  if (config.removeWorkersOnShutdown) {
    gate.open('shutting down');
    await step('remove workers', 2_000, () => service.removeAll(1_500));
    gate.close('shutting down');
  }
  watches.close();
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
