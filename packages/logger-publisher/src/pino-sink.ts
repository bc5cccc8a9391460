import { err, ok, okAsync, ResultAsync, type Result } from 'neverthrow';
import {
  pino,
  type DestinationStream,
  type LevelWithSilent,
  type Logger as PinoLogger,
} from 'pino';
import {
  describeCause,
  loggerCloseFailed,
  loggerSetupFailed,
  type LoggerCloseError,
  type LoggerSetupError,
} from './logger-publisher.errors.js';

/**
 * Where lines go: a file path (opened, appended to, and closed by `close()`), a file
 * descriptor (1 = stdout, 2 = stderr; never closed), or any stream with `write(string)`
 * (a `pino.destination()`, `pino.transport()`, a Node `Writable`; the caller ends it).
 */
export type PinoDestination = string | number | DestinationStream;

export interface PinoOutputOptions {
  /** Default: stdout. Ignored when `logger` is given. */
  readonly destination?: PinoDestination;
  /** Lines below this level are dropped. Default: `info`. */
  readonly level?: LevelWithSilent;
  /** pino's `name` field on every line. */
  readonly name?: string;
  /** Write through this pino instance (e.g. the server's) instead of creating one. */
  readonly logger?: PinoLogger;
}

/** pino's error serializer, for errors only: a value serialized already is written as it is. */
const serializeError = (value: unknown): unknown =>
  value instanceof Error ? pino.stdSerializers.err(value) : value;

interface ErrorEmitter {
  on(event: 'error', listener: (error: unknown) => void): unknown;
}

interface ClosableStream extends ErrorEmitter {
  once(event: 'close' | 'error', listener: (error?: unknown) => void): unknown;
  end(): unknown;
  destroy(): unknown;
}

const hasMethod = (value: unknown, name: string): boolean =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as Record<string, unknown>)[name] === 'function';

const isErrorEmitter = (value: unknown): value is ErrorEmitter => hasMethod(value, 'on');

/** A stream that can take no more writes (a destroyed or ended Writable or SonicBoom). */
const isBroken = (stream: unknown): boolean => {
  if (typeof stream !== 'object' || stream === null) return false;
  const s = stream as { destroyed?: unknown; writable?: unknown };
  return s.destroyed === true || s.writable === false;
};

/**
 * A pino logger and the stream under it: it notices the stream's `error` events (which would
 * otherwise crash the process) and turns them, and synchronous throws, into Results.
 */
export class PinoSink {
  readonly logger: PinoLogger;
  readonly #stream: unknown;
  /** Set when this sink opened the file, so `close()` must close it. */
  readonly #owned: ClosableStream | null;
  #pending: { readonly cause: unknown } | null = null;
  /** A reader that went away (EPIPE): pino turns later writes into no-ops, so refuse them. */
  #gone: { readonly cause: unknown } | null = null;
  #closed = false;

  private constructor(logger: PinoLogger, stream: unknown, owned: ClosableStream | null) {
    this.logger = logger;
    this.#stream = stream;
    this.#owned = owned;
    if (isErrorEmitter(stream)) {
      stream.on('error', (error) => {
        this.#pending = { cause: error };
        if ((error as { code?: unknown } | null)?.code === 'EPIPE') this.#gone = { cause: error };
      });
    }
  }

  static open(options: PinoOutputOptions = {}): Result<PinoSink, LoggerSetupError> {
    let owned: ClosableStream | null = null;
    try {
      if (options.logger !== undefined) {
        const logger =
          options.level === undefined
            ? options.logger
            : options.logger.child({}, { level: options.level });
        const stream: unknown = Reflect.get(options.logger, pino.symbols.streamSym);
        return ok(new PinoSink(logger, stream, null));
      }
      const destination = options.destination ?? 1;
      // Synchronous writes: when publish() returns Ok the line is in the kernel, and a write
      // error belongs to the call that caused it. Lifecycle events are few; this costs little.
      let stream: DestinationStream;
      if (typeof destination === 'string') {
        const file = pino.destination({ dest: destination, sync: true, mkdir: true, append: true });
        owned = file;
        stream = file;
      } else if (typeof destination === 'number') {
        stream = pino.destination({ dest: destination, sync: true });
      } else {
        stream = destination;
      }
      const logger = pino(
        {
          level: options.level ?? 'info',
          ...(options.name === undefined ? {} : { name: options.name }),
          timestamp: pino.stdTimeFunctions.isoTime,
          serializers: { err: serializeError, error: serializeError },
        },
        stream,
      );
      return ok(new PinoSink(logger, stream, owned));
    } catch (cause) {
      // e.g. an unknown level after the file was opened: do not leak its descriptor.
      owned?.destroy();
      const where =
        typeof options.destination === 'string'
          ? options.destination
          : typeof options.destination === 'number'
            ? `file descriptor ${options.destination}`
            : options.destination === undefined
              ? 'stdout'
              : 'stream';
      return err(
        loggerSetupFailed(
          `cannot open the log destination ${where}: ${describeCause(cause)}`,
          cause,
        ),
      );
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Runs one synchronous pino call. Err with the cause when the stream is unusable, the call
   * threw, or the stream reported an error — during the call (synchronous destinations) or
   * since the last call (asynchronous ones: then the line is not attempted).
   */
  write(log: () => void): Result<void, unknown> {
    const earlier = this.#takePending();
    if (earlier !== null) return err(earlier.cause);
    if (this.#gone !== null) return err(this.#gone.cause);
    if (isBroken(this.#stream)) return err(new Error('the log destination is closed'));
    try {
      log();
    } catch (cause) {
      return err(cause);
    }
    const now = this.#takePending();
    return now === null ? ok(undefined) : err(now.cause);
  }

  /**
   * Flushes pino's buffer; closes the file if this sink opened it (a descriptor or a stream
   * given by the caller stays open). Idempotent. Err when the stream failed since the last
   * write or while closing.
   */
  close(): ResultAsync<void, LoggerCloseError> {
    if (this.#closed) return okAsync(undefined);
    this.#closed = true;
    const closing = this.#owned === null ? this.#flush() : this.#end(this.#owned);
    return new ResultAsync(closing)
      .mapErr((cause) =>
        loggerCloseFailed(`closing the log destination failed: ${describeCause(cause)}`, cause),
      )
      .andThen(() => {
        const pending = this.#takePending();
        return pending === null
          ? ok(undefined)
          : err(
              loggerCloseFailed(
                `the log destination reported an error: ${describeCause(pending.cause)}`,
                pending.cause,
              ),
            );
      });
  }

  #takePending(): { readonly cause: unknown } | null {
    const pending = this.#pending;
    this.#pending = null;
    return pending;
  }

  #flush(): Promise<Result<void, unknown>> {
    return new Promise((resolve) => {
      try {
        this.logger.flush((error) => {
          resolve(error === undefined || error === null ? ok(undefined) : err(error));
        });
      } catch (cause) {
        resolve(err(cause));
      }
    });
  }

  #end(stream: ClosableStream): Promise<Result<void, unknown>> {
    if (isBroken(stream)) return Promise.resolve(ok(undefined));
    return new Promise((resolve) => {
      stream.once('close', () => resolve(ok(undefined)));
      stream.once('error', (error) => {
        // The remaining bytes cannot be written: release the descriptor anyway.
        try {
          stream.destroy();
        } catch {
          // already released
        }
        resolve(err(error ?? new Error('the log destination failed while closing')));
      });
      try {
        stream.end();
      } catch (cause) {
        resolve(err(cause));
      }
    });
  }
}
