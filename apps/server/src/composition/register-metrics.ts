import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { Metrics } from '../metrics/metrics.js';
import { TOKENS } from './tokens.js';

export function registerMetrics(c: DependencyContainer): void {
  c.register(TOKENS.metrics, {
    useFactory: instanceCachingFactory((d) => {
      const busPublisher = d.resolve(TOKENS.busPublisher);
      const observability = d.resolve(TOKENS.config).observability;
      const clock = d.resolve(TOKENS.clock);
      return new Metrics(
        // Read at scrape time: the providers are instrumented with these metrics, so they are
        // made after them.
        () => d.resolve(TOKENS.providers),
        () => {
          const s = busPublisher?.state();
          return s === undefined
            ? undefined
            : {
                spooled: s.spooledCount,
                oldestAgeMs: s.oldestSpooledAgeMs,
                connected: s.connected,
              };
        },
        {
          logger: d.resolve(TOKENS.logger),
          degradation: {
            afterFailures: observability.degradedAfterFailures,
            forMs: observability.degradedForMs,
          },
          now: () => clock.now(),
        },
      );
    }),
  });
}
