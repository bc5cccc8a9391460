import { err, ok, type Result } from 'neverthrow';
import { TERMINAL } from './api-object.js';
import { apiError, type ApiError } from './cluster-api.errors.js';
import type { IPod, LogEntry, PodLog } from './cluster-types.js';
import type { PodRuntime } from './pod-runtime.js';

/** The container's output, written when it starts (the simulation knows it in advance). */
export function recordOutput(runtime: PodRuntime, at: number): void {
  runtime.logs.push(
    ...runtime.run.output.map((line): LogEntry => ({ at, stream: 'stdout', line })),
  );
}

/** `kubectl logs`: a container that never started has none, and says so until the pod ends. */
export function readLog(
  pod: IPod,
  name: string,
  runtime: PodRuntime | undefined,
  options: { tailLines?: number },
): Result<PodLog, ApiError> {
  if (runtime === undefined || runtime.startedAt === null) {
    if (TERMINAL.includes(pod.status?.phase ?? '')) return ok({ lines: [], finished: true });
    return err(
      apiError(
        'BadRequest',
        `container "${containerName(pod)}" in pod "${name}" is waiting to start`,
      ),
    );
  }
  const lines =
    options.tailLines === undefined
      ? runtime.logs
      : runtime.logs.slice(Math.max(0, runtime.logs.length - options.tailLines));
  return ok({ lines: [...lines], finished: runtime.finishedAt !== null });
}

function containerName(pod: IPod): string {
  return pod.spec?.containers[0]?.name ?? 'main';
}
