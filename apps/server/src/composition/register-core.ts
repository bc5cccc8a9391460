import type { Logger } from '@hodei/domain';
import { systemClock, UuidV7IdGenerator } from '@hodei/domain/system';
import { createPinoLogger } from '@hodei/logger-publisher';
import { err, ok, type Result } from 'neverthrow';
import { isatty } from 'node:tty';
import pino, { type DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import type { ServerConfig } from '../config/config.js';
import type { LogFormat } from '../config/observability-config.js';
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
    logStream(config.observability.logFormat, options.logDestination ?? 1),
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

/**
 * Where the server's lines go, written synchronously (a line is out before the next step):
 * JSON, or pino-pretty's lines for a human — by default when the destination is a terminal.
 */
export function logStream(format: LogFormat, destination: number | string): DestinationStream {
  const out = pino.destination({ dest: destination, sync: true });
  const terminal = typeof destination === 'number' && isatty(destination);
  if (format === 'json' || (format === 'auto' && !terminal)) return out;
  // pino-pretty's formatter, not its stream: that one writes later, and loses the last lines
  // of a process that exits.
  const pretty = prettyFactory({
    colorize: terminal,
    translateTime: 'SYS:standard',
    ignore: 'pid,hostname',
  });
  return { write: (line: string) => out.write(pretty(line)) };
}
