import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import { errAsync, type ResultAsync } from 'neverthrow';
import type { LogLine, LogOptions, WorkerHandle, WorkerProviderError } from '@hodei/domain';
import { dockerCall } from './docker-call.js';
import { inspectOwnedContainer } from './inspect-container.js';
import { modemDial } from './modem-dial.js';
import { streamLogLines } from './log-lines.js';
import type { DockerProviderContext } from './provider-context.js';
import { invalidWorkerSpec, providerError } from './provider-errors.js';

/**
 * A worker's output, read once or followed, from a container that is checked to be ours. Both
 * come as a stream split into lines as it is read: a finished log is never held whole.
 */
export function readWorkerLogs(
  context: DockerProviderContext,
  handle: WorkerHandle,
  options: LogOptions,
): ResultAsync<AsyncIterable<LogLine>, WorkerProviderError> {
  if (options.tail !== undefined && !(Number.isInteger(options.tail) && options.tail >= 0)) {
    return errAsync(
      invalidWorkerSpec([{ path: 'tail', message: 'must be a non-negative integer' }]),
    );
  }
  return inspectOwnedContainer(context, handle).andThen((info) => {
    if (info === null) {
      return errAsync<AsyncIterable<LogLine>, WorkerProviderError>({
        type: 'ProviderFailure',
        operation: 'logs',
        message: `no container ${handle.resourceId} for worker ${handle.workerId}`,
        retryable: false,
      });
    }
    const multiplexed = info.Config.Tty !== true;
    return dockerCall('logs', context.callTimeoutMs, (abortSignal) =>
      openLogStream(context.docker, info.Id, options, abortSignal),
    )
      .mapErr((failure) => providerError(context, failure))
      .map((stream): AsyncIterable<LogLine> => {
        // A reader that goes away, or the provider closing, ends the stream now, not at the
        // container's next line; the iteration then ends as if the log had.
        let ended = false;
        const end = (): void => {
          ended = true;
          stream.destroy();
        };
        endWith(stream, options.signal, end);
        endWith(stream, context.closing, end);
        return quietlyEnded(streamLogLines(stream, multiplexed), () => ended);
      });
  });
}

/**
 * `GET /containers/{id}/logs` answered as a stream. dockerode's `logs()` buffers the whole
 * body unless following, so the request goes through its modem with `isStream` instead.
 */
function openLogStream(
  docker: Docker,
  containerId: string,
  options: LogOptions,
  abortSignal: AbortSignal,
): Promise<IncomingMessage> {
  return modemDial<IncomingMessage>(docker, {
    path: `/containers/${encodeURIComponent(containerId)}/logs?`,
    method: 'GET',
    isStream: true,
    abortSignal,
    statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
    options: {
      follow: options.follow === true,
      stdout: true,
      stderr: true,
      ...(options.tail === undefined ? {} : { tail: options.tail }),
    },
  });
}

/** Calls `end` when `signal` aborts, and stops listening once the stream is closed. */
function endWith(stream: IncomingMessage, signal: AbortSignal | undefined, end: () => void): void {
  if (signal === undefined) return;
  if (signal.aborted) {
    end();
    return;
  }
  signal.addEventListener('abort', end, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', end));
}

/** The lines, ending without the premature-close error when the stream was ended on purpose. */
async function* quietlyEnded(
  lines: AsyncIterable<LogLine>,
  endedOnPurpose: () => boolean,
): AsyncGenerator<LogLine> {
  try {
    yield* lines;
  } catch (error) {
    if (!endedOnPurpose()) throw error;
  }
}
