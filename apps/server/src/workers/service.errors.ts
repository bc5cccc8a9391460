import type { ManagedWorkerError, Problem } from '@hodei/domain';

/** Everything a worker operation can answer besides success; mapped to HTTP in one switch. */
export type WorkerServiceError =
  | ManagedWorkerError
  | {
      readonly type: 'ValidationFailed';
      readonly message: string;
      readonly problems: readonly Problem[];
    }
  | { readonly type: 'WorkerIdConflict'; readonly workerId: string; readonly message: string }
  | {
      readonly type: 'TooManyWorkers';
      readonly providerId: string;
      readonly limit: number;
      readonly message: string;
    }
  | { readonly type: 'LifecycleDisabled'; readonly message: string }
  | { readonly type: 'NotAnAgent'; readonly workerId: string; readonly message: string }
  | {
      /** A policy the domain refused, named as the request's fields (seconds, its path). */
      readonly type: 'PolicyRefused';
      readonly error: 'InvalidPolicy' | 'PolicyLimitExceeded';
      readonly message: string;
      readonly problems: readonly Problem[];
    }
  | {
      readonly type: 'ProviderNotRecovered';
      readonly providerId: string;
      readonly message: string;
    };

export const validationFailed = (problems: readonly Problem[]): WorkerServiceError => ({
  type: 'ValidationFailed',
  message: problems.map((p) => `${p.path}: ${p.message}`).join('; '),
  problems,
});

export const workerNotFound = (workerId: string): WorkerServiceError => ({
  type: 'WorkerNotFound',
  workerId,
  message: `no worker ${workerId}`,
});

/** A one-line description of any error, for logs and messages. */
export const describeError = (error: { readonly type: string }): string =>
  'message' in error && typeof error.message === 'string' ? error.message : error.type;
