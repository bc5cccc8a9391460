import type { ResultAsync } from 'neverthrow';
import type { LifecycleEvent, WorkerEphemeralPolicyChanged } from '../events/lifecycle-event.js';

export interface EventStoreError {
  readonly type: 'EventStoreUnavailable';
  readonly message: string;
  readonly cause?: unknown;
}

/**
 * Read side of a durable event log, used by `recover()` to restore busy/ready, the last
 * activity and the policy changes made at run time.
 */
export interface WorkerEventHistory {
  /**
   * For each worker id given, its last state-changing event (Ready, Busy, …) recorded for
   * this provider; workers with none are absent from the map.
   */
  lastStateEvents(
    providerId: string,
    workerIds: readonly string[],
  ): ResultAsync<ReadonlyMap<string, LifecycleEvent>, EventStoreError>;
  /**
   * For each worker id given, its last WorkerEphemeralPolicyChanged recorded for this
   * provider (of any life of that id: the caller compares it with the creation time); workers
   * with none are absent. Optional: without it, a recovered worker keeps its create-time
   * policy.
   */
  lastPolicyChanges?(
    providerId: string,
    workerIds: readonly string[],
  ): ResultAsync<ReadonlyMap<string, WorkerEphemeralPolicyChanged>, EventStoreError>;
}
