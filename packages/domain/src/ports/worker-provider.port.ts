import type { ResultAsync } from 'neverthrow';
import type { EphemeralWorkerPolicy } from '../policy/policy.js';
import type { ProviderId, WorkerId } from '../worker/ids.js';
import type { Readiness, WorkerMode } from '../worker/worker-mode.js';

/** What a provider needs to create one worker. */
export interface WorkerSpec {
  readonly workerId: WorkerId;
  readonly mode: WorkerMode;
  /** Agents only: ready when the container runs (default) or when the agent says so. */
  readonly readiness?: Readiness;
  readonly image: string;
  readonly command?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
  readonly resources?: WorkerResources;
  /** The effective policy; the provider records it with the resource for recovery. */
  readonly policy: EphemeralWorkerPolicy;
}

export interface WorkerResources {
  readonly memoryMb?: number;
  readonly cpus?: number;
  readonly pidsLimit?: number;
}

export interface WorkerHandle {
  readonly workerId: WorkerId;
  readonly resourceId: string;
  readonly providerId: ProviderId;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

export type HealthStatus = 'none' | 'starting' | 'healthy' | 'unhealthy';

/** A resource's state as the provider sees it. */
export type WorkerStatus =
  | { readonly state: 'creating' }
  | { readonly state: 'running'; readonly health: HealthStatus }
  | {
      readonly state: 'exited';
      readonly exitCode: number | null;
      /** Epoch milliseconds, when the provider knows. */
      readonly finishedAt: number | null;
      readonly oomKilled: boolean;
    }
  | { readonly state: 'missing' };

export type PresentWorkerStatus = Exclude<WorkerStatus, { readonly state: 'missing' }>;

/** A resource carrying this provider's ownership labels (see `ownership.ts`). */
export interface ManagedResource {
  readonly resourceId: string;
  /** The ownership facts and the caller's labels (annotations included, for Kubernetes). */
  readonly labels: Readonly<Record<string, string>>;
  readonly status: PresentWorkerStatus;
  readonly image: string;
  /** Epoch milliseconds, as the provider recorded it. */
  readonly createdAt: number;
}

export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface LogOptions {
  readonly follow?: boolean;
  /** Ends a followed stream (the reader went away); without it, it ends with the resource. */
  readonly signal?: AbortSignal;
  /** Only the last N lines; all when absent. */
  readonly tail?: number;
}

export interface DestroyOptions {
  /** Milliseconds between SIGTERM and SIGKILL. */
  readonly gracePeriod: number;
}

/** Push notifications about our resources (Docker events, Kubernetes watch). */
export type ProviderWatchEvent =
  | { readonly type: 'started'; readonly workerId: WorkerId; readonly resourceId: string }
  | {
      readonly type: 'exited';
      readonly workerId: WorkerId;
      readonly resourceId: string;
      readonly exitCode: number | null;
      readonly oomKilled: boolean;
      /** Epoch milliseconds, when the provider says. */
      readonly finishedAt?: number;
    }
  | { readonly type: 'removed'; readonly workerId: WorkerId; readonly resourceId: string }
  | {
      /**
       * The stream came back after a gap: notifications may have been missed. The manager
       * reconciles at once instead of at its next interval.
       */
      readonly type: 'resynced';
    }
  | {
      readonly type: 'health';
      readonly workerId: WorkerId;
      readonly resourceId: string;
      readonly health: HealthStatus;
    };

export interface WatchSubscription {
  close(): void;
}

export interface ProviderHealth {
  readonly providerId: ProviderId;
  readonly detail: string;
}

export interface Problem {
  readonly path: string;
  readonly message: string;
}

export type WorkerProviderError =
  | {
      readonly type: 'InvalidWorkerSpec';
      readonly message: string;
      readonly problems: readonly Problem[];
    }
  | {
      readonly type: 'ImagePullFailed';
      readonly image: string;
      readonly message: string;
      readonly cause?: unknown;
    }
  | { readonly type: 'WorkerAlreadyExists'; readonly workerId: WorkerId; readonly message: string }
  | {
      /** A resource that does not carry this provider's ownership labels: never touched. */
      readonly type: 'ResourceNotOwned';
      readonly resourceId: string;
      readonly message: string;
    }
  | {
      /** The engine or API cannot be reached; `endpoint` names the socket, host or cluster. */
      readonly type: 'ProviderUnavailable';
      readonly providerId: ProviderId;
      readonly endpoint: string;
      readonly message: string;
      readonly retryable: true;
      readonly cause?: unknown;
    }
  | {
      readonly type: 'ProviderTimeout';
      readonly operation: string;
      readonly timeoutMs: number;
      readonly message: string;
      readonly retryable: true;
    }
  | {
      readonly type: 'ProviderFailure';
      readonly operation: string;
      readonly message: string;
      readonly retryable: boolean;
      readonly cause?: unknown;
    };

/**
 * Creates and removes the resources behind workers (SPEC §4). Every method returns a Result;
 * none throws. A provider touches only resources with its own ownership labels.
 */
export interface WorkerProvider<E extends { readonly type: string } = WorkerProviderError> {
  readonly providerId: ProviderId;
  /** Creates and starts the resource. A creation that fails half-way leaves nothing. */
  createWorker(spec: WorkerSpec): ResultAsync<WorkerHandle, E>;
  /** Stops the resource (SIGTERM, then SIGKILL after the grace period) and keeps it, for logs. */
  stopWorker(handle: WorkerHandle, options: DestroyOptions): ResultAsync<void, E>;
  /** Stops and removes the resource. Idempotent: a resource already gone is success. */
  destroyWorker(handle: WorkerHandle, options: DestroyOptions): ResultAsync<void, E>;
  getWorkerStatus(handle: WorkerHandle): ResultAsync<WorkerStatus, E>;
  /** Resources with this provider's ownership labels, whether tracked or not. */
  listManagedWorkers(): ResultAsync<readonly ManagedResource[], E>;
  logs(handle: WorkerHandle, options?: LogOptions): ResultAsync<AsyncIterable<LogLine>, E>;
  watch?(listener: (event: ProviderWatchEvent) => void): WatchSubscription;
  health(): ResultAsync<ProviderHealth, E>;
}
