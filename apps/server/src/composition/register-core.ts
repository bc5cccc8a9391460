import type { Logger } from '@hodei/domain';
import { systemClock, UuidV7IdGenerator } from '@hodei/domain/system';
import { createPinoLogger } from '@hodei/logger-publisher';
import { err, ok, type Result } from 'neverthrow';
import pino from 'pino';
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { ServerConfig } from '../config/config.js';
import { LiveEventStream } from '../events/live-event-stream.js';
import type { ServerOptions } from './hodei-server.js';
import { startFailed, type StartError } from './server.errors.js';
import { TOKENS } from './tokens.js';

/** What every other component takes: the config, the clock, ids, the loggers, the live stream. */
export function registerCore(
  c: DependencyContainer,
  config: ServerConfig,
  options: ServerOptions,
): Result<Logger, StartError> {
  const pinoLogger = pino(
    {
      level: config.logLevel,
      base: { service: 'hodei' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: options.logDestination ?? 1, sync: true }),
  );
  const logger = createPinoLogger({ logger: pinoLogger });
  if (logger.isErr()) return err(startFailed(`logger: ${logger.error.message}`));

  c.register(TOKENS.config, { useValue: config });
  c.register(TOKENS.clock, { useValue: systemClock });
  c.register(TOKENS.ids, {
    useFactory: instanceCachingFactory(() => new UuidV7IdGenerator(systemClock)),
  });
  c.register(TOKENS.pino, { useValue: pinoLogger });
  c.register(TOKENS.logger, { useValue: logger.value });
  c.register(TOKENS.live, {
    useFactory: instanceCachingFactory((d) => {
      // With events written to a store, only what it does not have yet is kept per worker.
      const bus = d.resolve(TOKENS.busPublisher);
      if (bus === undefined) return new LiveEventStream();
      return new LiveEventStream({
        unstored: () => {
          const state = bus.state();
          return state.spooledCount > 0 || !state.connected;
        },
      });
    }),
  });
  return ok(logger.value);
}
