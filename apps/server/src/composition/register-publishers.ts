import type { LifecycleEventPublisher } from '@hodei/domain';
import { PinoEventPublisher } from '@hodei/logger-publisher';
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { FanoutPublisher } from '../events/fanout-publisher.js';
import { TOKENS } from './tokens.js';

/** Every event goes to the event bus (when there is one), the log if asked, and the live stream. */
export function registerPublishers(c: DependencyContainer): void {
  c.register(TOKENS.publisher, {
    useFactory: instanceCachingFactory((d) => {
      const publishers: LifecycleEventPublisher[] = [];
      const bp = d.resolve(TOKENS.busPublisher);
      if (bp !== undefined) publishers.push(bp);
      if (d.resolve(TOKENS.config).publishers.includes('logger')) {
        const made = PinoEventPublisher.create({ logger: d.resolve(TOKENS.pino) });
        // Resolved at boot: a publisher that cannot be made stops the start, naming why.
        if (made.isErr()) throw new Error(`logger publisher: ${made.error.message}`);
        publishers.push(made.value);
      }
      publishers.push(d.resolve(TOKENS.live));
      return new FanoutPublisher(publishers);
    }),
  });
}
