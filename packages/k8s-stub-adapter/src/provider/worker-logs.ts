import type { LogLine, LogOptions, WorkerHandle, WorkerProviderError } from '@hodei/domain';
import { err, ok, type Result } from 'neverthrow';
import type { IPod } from '../cluster/cluster-types.js';
import type { ClusterScope } from './cluster-scope.js';
import { newest } from './object-fields.js';

/** The worker pod's output; with `follow`, until its container ends or the pod goes. */
export function workerLogs(
  scope: ClusterScope,
  handle: WorkerHandle,
  options: LogOptions,
): Result<AsyncIterable<LogLine>, WorkerProviderError> {
  const pod = scope
    .resolveOwned(handle, 'logs')
    .andThen((resource): Result<IPod | null, WorkerProviderError> => {
      switch (resource.kind) {
        case 'gone':
          return err({
            type: 'ProviderFailure',
            operation: 'logs',
            message: `no Job or pod ${handle.resourceId} for worker ${handle.workerId}`,
            retryable: false,
          });
        case 'pod':
          return ok(resource.pod);
        case 'job':
          return scope.podsOfJob(resource.job, 'logs').map((pods) => newest(pods) ?? null);
      }
    });
  if (pod.isErr()) return err(pod.error);
  const name = pod.value?.metadata?.name;
  if (name === undefined) return ok(emptyLines());
  const first = scope.cluster.readPodLog(scope.namespace, name);
  if (first.isErr() && first.error.reason !== 'BadRequest')
    return err(scope.error(first.error, 'readPodLog'));
  return ok(streamLogs(scope, name, options));
}

async function* streamLogs(
  scope: ClusterScope,
  podName: string,
  options: LogOptions,
): AsyncGenerator<LogLine> {
  let sent = 0;
  let tail = options.tail;
  for (;;) {
    // Subscribe before reading, so that a change between the read and the wait is not lost.
    const change = nextPodChange(scope, podName);
    try {
      const read = scope.cluster.readPodLog(scope.namespace, podName);
      const lines = read.isOk() ? read.value.lines : [];
      let fresh = lines.slice(sent);
      if (tail !== undefined) {
        fresh = fresh.slice(Math.max(0, fresh.length - tail));
        tail = undefined;
      }
      sent = lines.length;
      for (const entry of fresh) yield { stream: entry.stream, line: entry.line };
      const over = read.isErr() ? read.error.reason !== 'BadRequest' : read.value.finished;
      if (options.follow !== true || over || options.signal?.aborted === true) return;
      await Promise.race([change.happened, aborted(options.signal)]);
    } finally {
      change.close();
    }
  }
}

/** Resolves at the next watch event about this pod (the simulation moves on `tick()`). */
function nextPodChange(
  scope: ClusterScope,
  podName: string,
): { happened: Promise<void>; close(): void } {
  let close = (): void => undefined;
  const happened = new Promise<void>((resolve) => {
    const sub = scope.cluster.watch('Pod', { namespace: scope.namespace }, (event) => {
      if (event.object.metadata?.name === podName) resolve();
    });
    if (sub.isErr()) resolve();
    else close = () => sub.value.close();
  });
  return { happened, close: () => close() };
}

function emptyLines(): AsyncIterable<LogLine> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.resolve({ done: true, value: undefined }),
    }),
  };
}

/** Resolves when `signal` aborts; never without one. */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined) return;
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
