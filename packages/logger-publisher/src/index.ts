export { PinoEventPublisher, EVENT_KEY } from './pino-event-publisher.js';
export type { PinoEventPublisherOptions } from './pino-event-publisher.js';
export { createPinoLogger } from './pino-logger.js';
export type { PinoLoggerAdapter, PinoLoggerOptions } from './pino-logger.js';
export type { PinoDestination, PinoOutputOptions } from './pino-sink.js';
export { DEFAULT_EVENT_LEVELS, levelOfEvent } from './event-levels.js';
export type { EventLevelOverrides, EventLogLevel } from './event-levels.js';
export { REDACTED, redactSecrets, SECRET_KEY_PATTERN } from './redact-secrets.js';
export type { LoggerCloseError, LoggerSetupError } from './logger-publisher.errors.js';
