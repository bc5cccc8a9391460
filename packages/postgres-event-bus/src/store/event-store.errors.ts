import type { EventStoreError } from '@hodei/domain';

/** PostgreSQL cannot be reached or dropped the connection: worth retrying. */
export interface EventStoreUnavailable extends EventStoreError {
  readonly type: 'EventStoreUnavailable';
  readonly message: string;
  readonly retryable: true;
  readonly cause?: unknown;
}

/** PostgreSQL answered with an error that retrying will not fix. */
export interface EventStoreFailure {
  readonly type: 'EventStoreFailure';
  readonly message: string;
  readonly retryable: false;
  readonly code?: string;
  readonly cause?: unknown;
}

export interface EventTooLarge {
  readonly type: 'EventTooLarge';
  readonly eventId: string;
  readonly sizeBytes: number;
  readonly limitBytes: number;
  readonly message: string;
}

export interface EventNotSerializable {
  readonly type: 'EventNotSerializable';
  readonly eventId: string;
  /** Where in the event the offending value sits, e.g. `data.error`. */
  readonly path: string;
  readonly message: string;
}

export interface InvalidEvent {
  readonly type: 'InvalidEvent';
  readonly eventId: string;
  readonly message: string;
}

export interface WrongExpectedVersion {
  readonly type: 'WrongExpectedVersion';
  readonly streamId: string;
  readonly expectedVersion: number;
  readonly actualVersion: number;
  readonly message: string;
}

export interface InvalidAppend {
  readonly type: 'InvalidAppend';
  readonly message: string;
}

export interface InvalidCursor {
  readonly type: 'InvalidCursor';
  readonly cursor: string;
  readonly message: string;
}

export type EventRejected = EventTooLarge | EventNotSerializable | InvalidEvent;

export type AppendError =
  EventStoreUnavailable | EventStoreFailure | EventRejected | WrongExpectedVersion | InvalidAppend;

export type QueryError = EventStoreUnavailable | EventStoreFailure | InvalidCursor;

const messageOf = (cause: unknown): string =>
  cause instanceof Error ? cause.message : String(cause);

const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300', '53400', '40001', '40P01']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Sorts a pg/kysely failure into "try again later" and "this will not work". */
export function classifyDatabaseError(
  cause: unknown,
  operation: string,
): EventStoreUnavailable | EventStoreFailure {
  const code =
    typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
  const message = messageOf(cause);
  const isSqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code);
  const unavailable =
    (code !== undefined && (NETWORK_CODES.has(code) || UNAVAILABLE_CODES.has(code))) ||
    (isSqlState && code.startsWith('08')) ||
    (!isSqlState &&
      /terminat|timeout|connect|closed|ended|socket|Client has encountered/i.test(message));
  if (unavailable) {
    return {
      type: 'EventStoreUnavailable',
      message: `${operation}: PostgreSQL is unavailable: ${message}`,
      retryable: true,
      cause,
    };
  }
  return {
    type: 'EventStoreFailure',
    message: `${operation}: ${message}`,
    retryable: false,
    ...(code === undefined ? {} : { code }),
    cause,
  };
}
