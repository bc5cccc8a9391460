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
  | PolicyLimitExceeded
  | PolicyNotChangeable
  | WorkerNotLive
  | WorkerReplaced
  | WorkerProviderError;

/**
 * An operation fenced by the resource it started on (`OperationContext.resourceId`) found
 * the worker under this id re-created with another resource: the new life is not touched.
 */
export interface WorkerReplaced {
  readonly type: 'WorkerReplaced';
  readonly workerId: string;
  /** The resource the operation started on. */
  readonly resourceId: string;
  readonly message: string;
}

/** A policy change past an operator's limit (`LifecycleManagerDeps.maxLifetimeCap`). */
export interface PolicyLimitExceeded {
  readonly type: 'PolicyLimitExceeded';
  readonly workerId: string;
  readonly field: 'maxLifetime';
  /** The cap, in milliseconds. */
  readonly limit: number;
  /** The refused value, in milliseconds. */
  readonly value: number;
  readonly message: string;
}

/** A policy change the worker's state no longer allows (terminating, or finished). */
export interface PolicyNotChangeable {
  readonly type: 'PolicyNotChangeable';
  readonly workerId: string;
  readonly state: WorkerState;
  /** The field refused, when the state allows others. */
  readonly field?: string;
  readonly message: string;
}

/** An activity heartbeat on a worker that is not creating, ready or busy. */
export interface WorkerNotLive {
  readonly type: 'WorkerNotLive';
  readonly workerId: string;
  readonly state: WorkerState;
  readonly message: string;
}

export const workerNotFound = (workerId: string): LifecycleError => ({
  type: 'WorkerNotFound',
  workerId,
  message: `no worker ${workerId} is tracked`,
});

/** The text a log line gives for any error of a port or of the manager. */
export const errorMessage = (e: { readonly type: string; readonly message?: string }): string =>
  e.message ?? e.type;
