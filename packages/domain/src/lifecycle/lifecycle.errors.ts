import type { PolicyError } from '../policy/policy.js';
import type { WorkerProviderError } from '../ports/worker-provider.port.js';
import type { InvalidTransition, WorkerState } from '../worker/worker-state.js';

export type LifecycleError =
  | InvalidTransition
  | { readonly type: 'WorkerNotFound'; readonly workerId: string; readonly message: string }
  | { readonly type: 'WorkerAlreadyTracked'; readonly workerId: string; readonly message: string }
  | {
      readonly type: 'WorkerNotFinished';
      readonly workerId: string;
      readonly state: WorkerState;
      readonly message: string;
    }
  | {
      readonly type: 'InvalidPolicy';
      readonly problems: readonly PolicyError[];
      readonly message: string;
    }
  | WorkerProviderError;

export const workerNotFound = (workerId: string): LifecycleError => ({
  type: 'WorkerNotFound',
  workerId,
  message: `no worker ${workerId} is tracked`,
});

/** The text a log line gives for any error of a port or of the manager. */
export const errorMessage = (e: { readonly type: string; readonly message?: string }): string =>
  e.message ?? e.type;
