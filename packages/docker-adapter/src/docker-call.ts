import { ResultAsync } from 'neverthrow';
import type { ProviderId, WorkerProviderError } from '@hodei/domain';

/** Why one Docker API call did not succeed, before it is mapped to the port's errors. */
export type DockerCallFailure =
  | { readonly kind: 'timeout'; readonly operation: string; readonly timeoutMs: number }
  | { readonly kind: 'unreachable'; readonly operation: string; readonly cause: unknown }
  | {
      readonly kind: 'http';
      readonly operation: string;
      readonly statusCode: number;
      readonly message: string;
      readonly cause: unknown;
    }
  | { readonly kind: 'other'; readonly operation: string; readonly cause: unknown };

/** Socket errors that mean the daemon cannot be reached at all. */
const UNREACHABLE_CODES = new Set([
  'ENOENT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EACCES',
  'EPERM',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTSOCK',
]);

const fieldOf = (value: unknown, field: string): unknown =>
  typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[field]
    : undefined;

export const messageOf = (cause: unknown): string => {
  if (cause instanceof Error) return cause.message.trim();
  return typeof cause === 'string' ? cause : JSON.stringify(cause);
};

/** Sorts whatever dockerode rejected with into the few cases the adapter acts on. */
export function classifyDockerError(operation: string, cause: unknown): DockerCallFailure {
  const statusCode = fieldOf(cause, 'statusCode');
  if (typeof statusCode === 'number') {
    const json = fieldOf(cause, 'json');
    const daemonMessage = fieldOf(json, 'message');
    return {
      kind: 'http',
      operation,
      statusCode,
      message: typeof daemonMessage === 'string' ? daemonMessage : messageOf(cause),
      cause,
    };
  }
  const code = fieldOf(cause, 'code');
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return { kind: 'unreachable', operation, cause };
  }
  return { kind: 'other', operation, cause };
}

/** The error value a call that ran out of time rejects with; never leaves this module. */
class CallTimedOut extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

/**
 * Runs one Docker API call under a timeout. The call gets an AbortSignal (dockerode passes it
 * to the HTTP request) so a call that times out does not linger; nothing throws out of here.
 */
export function dockerCall<T>(
  operation: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
): ResultAsync<T, DockerCallFailure> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new CallTimedOut(timeoutMs));
      controller.abort();
    }, timeoutMs);
  });
  const attempt = (async () => {
    try {
      return await Promise.race([run(controller.signal), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  })();
  // The losing side of the race may reject later; it is handled here, never unhandled.
  timedOut.catch(() => undefined);
  return ResultAsync.fromPromise(attempt, (cause): DockerCallFailure =>
    cause instanceof CallTimedOut
      ? { kind: 'timeout', operation, timeoutMs: cause.timeoutMs }
      : classifyDockerError(operation, cause),
  );
}

export const isStatus = (failure: DockerCallFailure, ...codes: number[]): boolean =>
  failure.kind === 'http' && codes.includes(failure.statusCode);

/** Maps a failed call to the port's error union; the docker-specific wording is kept. */
export function toProviderError(
  failure: DockerCallFailure,
  providerId: ProviderId,
  endpoint: string,
): WorkerProviderError {
  switch (failure.kind) {
    case 'timeout':
      return {
        type: 'ProviderTimeout',
        operation: failure.operation,
        timeoutMs: failure.timeoutMs,
        message: `Docker call ${failure.operation} to ${endpoint} did not answer within ${failure.timeoutMs} ms`,
        retryable: true,
      };
    case 'unreachable':
      return {
        type: 'ProviderUnavailable',
        providerId,
        endpoint,
        message: `DockerUnavailable: Docker Engine at ${endpoint} is unavailable (${failure.operation}): ${messageOf(failure.cause)}`,
        retryable: true,
        cause: failure.cause,
      };
    case 'http':
      return {
        type: 'ProviderFailure',
        operation: failure.operation,
        message: `Docker ${failure.operation} failed with HTTP ${failure.statusCode}: ${failure.message}`,
        retryable: failure.statusCode >= 500,
        cause: failure.cause,
      };
    case 'other':
      return {
        type: 'ProviderFailure',
        operation: failure.operation,
        message: `Docker ${failure.operation} failed: ${messageOf(failure.cause)}`,
        retryable: false,
        cause: failure.cause,
      };
  }
}
