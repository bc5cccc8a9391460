import { systemClock } from '@hodei/domain/system';
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { Metrics } from '../metrics/metrics.js';
import { PassScheduler, type PassObserver } from '../passes/pass-scheduler.js';
import { WorkerService } from '../workers/worker-service.js';
import { historySource } from './event-history.js';
import { TOKENS } from './tokens.js';

/** The use cases behind the API (with the history they read) and the scheduled passes. */
export function registerServices(c: DependencyContainer): void {
  c.register(TOKENS.history, {
    useFactory: instanceCachingFactory((d) =>
      historySource(
        d.resolve(TOKENS.live),
        d.resolve(TOKENS.eventBus),
        d.resolve(TOKENS.config).databaseUrl,
      ),
    ),
  });

  c.register(TOKENS.service, {
    useFactory: instanceCachingFactory((d) => {
      const config = d.resolve(TOKENS.config);
      const gate = d.resolve(TOKENS.actingGate);
      return new WorkerService({
        providers: d.resolve(TOKENS.providers),
        ids: d.resolve(TOKENS.ids),
        defaultImage: config.workerImage,
        maxWorkers: config.maxWorkers,
        ...(config.maxLifetimeCapMs === undefined
          ? {}
          : { maxLifetimeCap: config.maxLifetimeCapMs }),
        history: d.resolve(TOKENS.history),
        // Its backpressure refuses every API-initiated change before anything changes.
        publisher: d.resolve(TOKENS.publisher),
        logLimits: config.logLimits,
        logger: d.resolve(TOKENS.logger),
        now: () => systemClock.now(),
        observer: passObserver(d.resolve(TOKENS.metrics)),
        mayRunPasses: () => gate.acting,
      });
    }),
  });

  c.register(TOKENS.scheduler, {
    useFactory: instanceCachingFactory((d) => {
      const config = d.resolve(TOKENS.config);
      const gate = d.resolve(TOKENS.actingGate);
      return new PassScheduler(
        d.resolve(TOKENS.providers),
        { gcIntervalMs: config.gcIntervalMs, reconcileIntervalMs: config.reconcileIntervalMs },
        passObserver(d.resolve(TOKENS.metrics)),
        d.resolve(TOKENS.logger),
        () => gate.acting,
      );
    }),
  });
}

/** Pass durations, on demand or scheduled, go to the metrics. */
function passObserver(metrics: Metrics): PassObserver {
  return {
    gc: (p, s) => metrics.observeGc(p, s),
    reconcile: (p, s) => metrics.observeReconcile(p, s),
  };
}
