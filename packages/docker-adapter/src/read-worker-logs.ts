import { errAsync, type ResultAsync } from 'neverthrow';
import type { LogLine, LogOptions, WorkerHandle, WorkerProviderError } from '@hodei/domain';
import { dockerCall } from './docker-call.js';
import { inspectOwnedContainer } from './inspect-container.js';
import { followLogLines, logLinesOf } from './log-lines.js';
import type { DockerProviderContext, DockerStream } from './provider-context.js';
import { invalidWorkerSpec, providerError } from './provider-errors.js';

/** A worker's output, read once or followed, from a container that is checked to be ours. */
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
  const tail = options.tail === undefined ? {} : { tail: options.tail };
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
    const container = context.docker.getContainer(info.Id);
    if (options.follow === true) {
      return dockerCall(
        'logs',
        context.callTimeoutMs,
        (abortSignal) =>
          container.logs({
            follow: true,
            stdout: true,
            stderr: true,
            ...tail,
            abortSignal,
          }) as Promise<DockerStream>,
      )
        .mapErr((failure) => providerError(context, failure))
        .map((stream): AsyncIterable<LogLine> => {
          // A reader that goes away ends the stream now, not at the container's next line.
          const signal = options.signal;
          if (signal?.aborted === true) (stream as { destroy?: () => void }).destroy?.();
          signal?.addEventListener(
            'abort',
            () => (stream as { destroy?: () => void }).destroy?.(),
            { once: true },
          );
          return followLogLines(stream, multiplexed);
        });
    }
    return dockerCall('logs', context.callTimeoutMs, (abortSignal) =>
      container.logs({ follow: false, stdout: true, stderr: true, ...tail, abortSignal }),
    )
      .mapErr((failure) => providerError(context, failure))
      .map((body): AsyncIterable<LogLine> => {
        const bytes: Buffer = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
        return iterate(logLinesOf(bytes, multiplexed));
      });
  });
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  await Promise.resolve();
  yield* items;
}
