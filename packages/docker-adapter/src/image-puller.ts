import { errAsync, okAsync, Result, type ResultAsync } from 'neverthrow';
import type { WorkerProviderError } from '@hodei/domain';
import { dockerCall, type DockerCallFailure } from './docker-call.js';
import { isImageAllowed } from './image-allowlist.js';
import { withDefaultTag } from './image-reference.js';
import type { DockerProviderContext, DockerStream } from './provider-context.js';
import { invalidWorkerSpec, providerError } from './provider-errors.js';
import { pullError } from './pull-failure.js';
import { registryAuthFor, type DockerRegistryAuth } from './registry-auth.js';
import { shareInFlight } from './share-in-flight.js';

/**
 * Pulls images for the provider, only those the allowed patterns let through (a pull makes
 * the daemon dial whatever registry the reference names), each under a timeout; concurrent
 * pulls of one image share one.
 */
export class ImagePuller {
  readonly #context: DockerProviderContext;
  readonly #pullTimeoutMs: number;
  readonly #allowed: readonly string[] | undefined;
  readonly #auths: readonly DockerRegistryAuth[];
  /** Pulls in flight, by image. */
  readonly #pulling = new Map<string, ResultAsync<void, WorkerProviderError>>();

  constructor(
    context: DockerProviderContext,
    pullTimeoutMs: number,
    allowed: readonly string[] | undefined,
    auths: readonly DockerRegistryAuth[] = [],
  ) {
    this.#context = context;
    this.#pullTimeoutMs = pullTimeoutMs;
    this.#allowed = allowed;
    this.#auths = auths;
  }

  pull(image: string): ResultAsync<void, WorkerProviderError> {
    if (!isImageAllowed(this.#allowed, image)) {
      return errAsync(
        invalidWorkerSpec([
          {
            path: 'image',
            message: `${image} is not on the engine and may not be pulled: it matches none of the allowed images (${(this.#allowed ?? []).join(', ')})`,
          },
        ]),
      );
    }
    return shareInFlight(this.#pulling, image, () => this.#start(image));
  }

  #start(image: string): ResultAsync<void, WorkerProviderError> {
    const engineError = (failure: DockerCallFailure): WorkerProviderError =>
      providerError(this.#context, failure);
    // Only this image's registry gets credentials: the daemon would hand them to any other.
    const auth = registryAuthFor(this.#auths, image);
    // The engine answers a failed pull with 200 and reports the failure inside the stream.
    return dockerCall('pullImage', this.#pullTimeoutMs, async (abortSignal) => {
      const stream = (await this.#context.docker.pull(withDefaultTag(image), {
        abortSignal,
        // docker-modem sends it as the X-Registry-Auth header, never in the URL.
        ...(auth === undefined ? {} : { authconfig: { ...auth } }),
      })) as DockerStream;
      return pullStreamProblem(stream);
    })
      .mapErr((failure) => pullError(image, { kind: 'call', failure }, engineError))
      .andThen((problem) =>
        problem === undefined
          ? okAsync(undefined)
          : errAsync(pullError(image, { kind: 'stream', message: problem }, engineError)),
      );
  }
}

/** Docker reports a failed pull inside the progress stream, as a line with `error`. */
async function pullStreamProblem(stream: DockerStream): Promise<string | undefined> {
  let rest = '';
  let problem: string | undefined;
  // Line by line as it comes: a large image's progress is never held whole.
  for await (const chunk of stream) {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) problem ??= lineProblem(line);
  }
  return problem ?? lineProblem(rest);
}

function lineProblem(line: string): string | undefined {
  if (line.trim() === '') return undefined;
  const parsed = Result.fromThrowable(
    () => JSON.parse(line) as { error?: unknown; errorDetail?: { message?: unknown } },
    () => undefined,
  )();
  if (parsed.isErr() || parsed.value.error === undefined) return undefined;
  const detail = parsed.value.errorDetail?.message ?? parsed.value.error;
  return typeof detail === 'string' ? detail : JSON.stringify(detail);
}
