import {
  isLifecycleEventType,
  toCloudEvent,
  type LifecycleEvent,
  type LifecycleEventPublisher,
  type PublishError,
} from '@hodei/domain';
import { errAsync, ok, okAsync, type Result, type ResultAsync } from 'neverthrow';
import type { Logger as PinoLogger } from 'pino';
import { levelOfEvent, type EventLevelOverrides } from './event-levels.js';
import {
  describeCause,
  invalidEvent,
  publisherClosed,
  publisherUnavailable,
  type LoggerSetupError,
} from './logger-publisher.errors.js';
import { PinoSink, type PinoOutputOptions } from './pino-sink.js';
import { redactRecord, SECRET_KEY_PATTERN } from './redact-secrets.js';

/** The key of a log line that holds the CloudEvents envelope. */
export const EVENT_KEY = 'event';

export interface PinoEventPublisherOptions extends PinoOutputOptions {
  /** Per-type level overrides; see `DEFAULT_EVENT_LEVELS`. */
  readonly levels?: EventLevelOverrides;
  /** Keys whose values are replaced by `[Redacted]` at any depth of the event data. */
  readonly secretKeys?: RegExp;
}

/**
 * `LifecycleEventPublisher` writing one JSON line per event through pino:
 * `{"level":30,"time":"…","pid":…,"hostname":"…","event":{<CloudEvents envelope>},"msg":"<type>"}`.
 * Writes are synchronous, so `publish` resolves once the line is handed to the kernel.
 */
export class PinoEventPublisher implements LifecycleEventPublisher {
  readonly #sink: PinoSink;
  readonly #levels: EventLevelOverrides;
  readonly #secretKeys: RegExp;

  private constructor(sink: PinoSink, levels: EventLevelOverrides, secretKeys: RegExp) {
    this.#sink = sink;
    this.#levels = levels;
    this.#secretKeys = secretKeys;
  }

  /** Opens the destination (default stdout); Err when a file cannot be opened. */
  static create(
    options: PinoEventPublisherOptions = {},
  ): Result<PinoEventPublisher, LoggerSetupError> {
    return PinoSink.open(options).map(
      (sink) =>
        new PinoEventPublisher(
          sink,
          options.levels ?? {},
          options.secretKeys ?? SECRET_KEY_PATTERN,
        ),
    );
  }

  /** The pino instance lines go through, e.g. to hand to `createPinoLogger({ logger })`. */
  get logger(): PinoLogger {
    return this.#sink.logger;
  }

  publish(event: LifecycleEvent): ResultAsync<void, PublishError> {
    return this.publishBatch([event]);
  }

  /**
   * Validates every event first (an invalid one means nothing is written), then writes them in
   * order and stops at the first failure, whose message says how many were written.
   */
  publishBatch(events: readonly LifecycleEvent[]): ResultAsync<void, PublishError> {
    if (this.#sink.closed) return errAsync(publisherClosed());
    for (const event of events) {
      const problem = validate(event);
      if (problem !== null) return errAsync(problem);
    }
    for (const [index, event] of events.entries()) {
      const written = this.#write(event);
      if (written.isErr()) {
        const cause = written.error;
        // Events below the level count as published: they were handled as configured.
        const done =
          events.length === 1
            ? ''
            : `${index} of ${events.length} events published before the failure; `;
        return errAsync(
          publisherUnavailable(
            `${done}cannot write event ${event.eventId} to the log: ${describeCause(cause)}`,
            cause,
          ),
        );
      }
    }
    return okAsync(undefined);
  }

  /** Flushes, and closes the file if the publisher opened it. Idempotent. */
  close(): ResultAsync<void, PublishError> {
    return this.#sink.close().mapErr((e) => publisherUnavailable(e.message, e.cause));
  }

  #write(event: LifecycleEvent): Result<void, unknown> {
    const level = levelOfEvent(event, this.#levels);
    const logger = this.#sink.logger;
    if (!logger.isLevelEnabled(level)) return ok(undefined);
    const envelope = toCloudEvent(event);
    const line = {
      [EVENT_KEY]: { ...envelope, data: redactRecord(envelope.data, this.#secretKeys) },
    };
    return this.#sink.write(() => logger[level](line, event.type));
  }
}

function validate(event: LifecycleEvent): PublishError | null {
  const candidate: unknown = event;
  if (typeof candidate !== 'object' || candidate === null) return invalidEvent('not an object');
  const e = candidate as Record<string, unknown>;
  const eventId = typeof e['eventId'] === 'string' ? e['eventId'] : undefined;
  if (!isLifecycleEventType(e['type']))
    return invalidEvent(`unknown event type ${JSON.stringify(e['type'])}`, eventId);
  if (eventId === undefined || eventId === '') return invalidEvent('eventId is required');
  if (typeof e['occurredAt'] !== 'string' || typeof e['providerId'] !== 'string')
    return invalidEvent('occurredAt and providerId are required', eventId);
  return null;
}
