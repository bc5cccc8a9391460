import type { PublishError } from '@hodei/domain';

/** The destination could not be opened or an option was refused (at start, not per event). */
export interface LoggerSetupError {
  readonly type: 'LoggerSetupFailed';
  readonly message: string;
  readonly cause?: unknown;
}

/** Flushing or closing the destination failed; what was buffered may be lost. */
export interface LoggerCloseError {
  readonly type: 'LoggerCloseFailed';
  readonly message: string;
  readonly cause?: unknown;
}

const withCause = (cause: unknown): { readonly cause?: unknown } =>
  cause === undefined ? {} : { cause };

export const loggerSetupFailed = (message: string, cause?: unknown): LoggerSetupError => ({
  type: 'LoggerSetupFailed',
  message,
  ...withCause(cause),
});

export const loggerCloseFailed = (message: string, cause?: unknown): LoggerCloseError => ({
  type: 'LoggerCloseFailed',
  message,
  ...withCause(cause),
});

export const publisherUnavailable = (message: string, cause?: unknown): PublishError => ({
  type: 'PublisherUnavailable',
  message,
  retryable: true,
  ...withCause(cause),
});

export const publisherClosed = (): PublishError => ({
  type: 'PublisherClosed',
  message: 'the logger publisher is closed',
});

export const invalidEvent = (message: string, eventId?: string): PublishError => ({
  type: 'InvalidEvent',
  message,
  ...(eventId === undefined ? {} : { eventId }),
});

/** A short description of a thrown value for error messages. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${code}: ${cause.message}`
      : cause.message;
  }
  return String(cause);
}
