import { errAsync, okAsync, Result, type ResultAsync } from 'neverthrow';
import type { WorkerProviderError } from '@hodei/domain';
import { dockerCall, messageOf } from './docker-call.js';
import { withDefaultTag } from './image-reference.js';
import type { DockerProviderContext, DockerStream } from './provider-context.js';
import { providerError } from './provider-errors.js';
import { shareInFlight } from './share-in-flight.js';

/** Pulls images for the provider; concurrent pulls of one image share one. */
export class ImagePuller {
  readonly #context: DockerProviderContext;
  readonly #pullTimeoutMs: number;
  /** Pulls in flight, by image. */
  readonly #pulling = new Map<string, ResultAsync<void, WorkerProviderError>>();

  constructor(context: DockerProviderContext, pullTimeoutMs: number) {
    this.#context = context;
    this.#pullTimeoutMs = pullTimeoutMs;
  }

  pull(image: string): ResultAsync<void, WorkerProviderError> {
    return shareInFlight(this.#pulling, image, () => this.#start(image));
  }

  #start(image: string): ResultAsync<void, WorkerProviderError> {
    const failed = (reason: string, cause: unknown): WorkerProviderError => ({
      type: 'ImagePullFailed',
      image,
      message: `could not pull image ${image}: ${reason}`,
      cause,
    });
    // The engine answers a failed pull with 200 and reports the failure inside the stream.
    return dockerCall('pullImage', this.#pullTimeoutMs, async (abortSignal) => {
      const stream = (await this.#context.docker.pull(withDefaultTag(image), {
        abortSignal,
      })) as DockerStream;
      return pullStreamProblem(stream);
    })
      .mapErr((failure): WorkerProviderError => {
        if (failure.kind === 'unreachable') return providerError(this.#context, failure);
        const reason =
          failure.kind === 'timeout'
            ? `did not finish within ${failure.timeoutMs} ms`
            : failure.kind === 'http'
              ? failure.message
              : messageOf(failure.cause);
        return failed(reason, failure);
      })
      .andThen((problem) =>
        problem === undefined ? okAsync(undefined) : errAsync(failed(problem, problem)),
      );
  }
}

/** Docker reports a failed pull inside the progress stream, as a line with `error`. */
async function pullStreamProblem(stream: DockerStream): Promise<string | undefined> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = Result.fromThrowable(
      () => JSON.parse(line) as { error?: unknown; errorDetail?: { message?: unknown } },
      () => undefined,
    )();
    if (parsed.isOk() && parsed.value.error !== undefined) {
      const detail = parsed.value.errorDetail?.message ?? parsed.value.error;
      return typeof detail === 'string' ? detail : JSON.stringify(detail);
    }
  }
  return undefined;
}
