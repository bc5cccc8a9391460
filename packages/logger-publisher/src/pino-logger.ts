import type { LogFields, Logger } from '@hodei/domain';
import type { Result, ResultAsync } from 'neverthrow';
import type { Logger as PinoLogger } from 'pino';
import type { LoggerCloseError, LoggerSetupError } from './logger-publisher.errors.js';
import { PinoSink, type PinoOutputOptions } from './pino-sink.js';
import { redactRecord, SECRET_KEY_PATTERN } from './redact-secrets.js';
import { serializeRecordErrors } from './serialize-errors.js';

export interface PinoLoggerOptions extends PinoOutputOptions {
  /** Keys whose values are replaced by `[Redacted]` at any depth of the fields. */
  readonly secretKeys?: RegExp;
}

/** The domain `Logger` port over pino, plus what the owner needs at shutdown. */
export interface PinoLoggerAdapter extends Logger {
  readonly pino: PinoLogger;
  /** Flushes, and closes the file if this adapter opened it; later calls are dropped. */
  close(): ResultAsync<void, LoggerCloseError>;
}

type Method = 'debug' | 'info' | 'warn' | 'error';

/**
 * Adapts pino to the domain `Logger` port. Fields are merged into the line, with errors at any
 * depth serialized (message and causes, stack, code) and secret-looking keys redacted; a failing
 * destination never throws into the caller (the line is dropped).
 */
export function createPinoLogger(
  options: PinoLoggerOptions = {},
): Result<PinoLoggerAdapter, LoggerSetupError> {
  return PinoSink.open(options).map((sink) => {
    const secretKeys = options.secretKeys ?? SECRET_KEY_PATTERN;
    const log =
      (method: Method) =>
      (message: string, fields?: LogFields): void => {
        if (sink.closed || !sink.logger.isLevelEnabled(method)) return;
        const safe =
          fields === undefined ? {} : redactRecord(serializeRecordErrors(fields), secretKeys);
        // A log call must not fail the operation it describes: errors are dropped here.
        sink.write(() => sink.logger[method](safe, message));
      };
    return {
      pino: sink.logger,
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      close: () => sink.close(),
    };
  });
}
