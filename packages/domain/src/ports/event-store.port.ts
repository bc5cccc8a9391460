import type { ResultAsync } from 'neverthrow';
import type { LifecycleEvent } from '../events/lifecycle-event.js';

export interface EventStoreError {
  readonly type: 'EventStoreUnavailable';
  readonly message: string;
  readonly cause?: unknown;
}

/** Read side of a durable event log, used by `recover()` to restore busy/ready and activity. */
export interface WorkerEventHistory {
  /**
   * For each worker id given, its last state-changing event (Ready, Busy, …) recorded for
   * this provider; workers with none are absent from the map.
   */
  lastStateEvents(
    providerId: string,
    workerIds: readonly string[],
  ): ResultAsync<ReadonlyMap<string, LifecycleEvent>, EventStoreError>;
}
