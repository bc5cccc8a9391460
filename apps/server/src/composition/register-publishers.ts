import { PinoEventPublisher } from '@hodei/logger-publisher';
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { FanoutPublisher, type NamedPublisher } from '../events/fanout-publisher.js';
import { TOKENS } from './tokens.js';

/**
 * Every event goes to the event bus (when there is one), the log if asked, the live stream and
 * the metrics of workers' lives; each publisher's failures are counted under its name.
 */
export function registerPublishers(c: DependencyContainer): void {
  c.register(TOKENS.publisher, {
    useFactory: instanceCachingFactory((d) => {
      const publishers: NamedPublisher[] = [];
      const bp = d.resolve(TOKENS.busPublisher);
      if (bp !== undefined) publishers.push({ name: 'postgres', publisher: bp });
      if (d.resolve(TOKENS.config).publishers.includes('logger')) {
        const made = PinoEventPublisher.create({ logger: d.resolve(TOKENS.pino) });
        // Resolved at boot: a publisher that cannot be made stops the start, naming why.
        if (made.isErr()) throw new Error(`logger publisher: ${made.error.message}`);
        publishers.push({ name: 'logger', publisher: made.value });
      }
      publishers.push({ name: 'live', publisher: d.resolve(TOKENS.live) });
      const metrics = d.resolve(TOKENS.metrics);
      publishers.push({ name: 'metrics', publisher: metrics.events });
      return new FanoutPublisher(
        publishers,
        metrics.countPublishFailures(publishers.map((p) => p.name)),
      );
    }),
  });
}
