import type { ResultAsync } from 'neverthrow';
import type {
  LifecycleEvent,
  WorkerEphemeralCleanedUp,
  WorkerEphemeralPolicyChanged,
} from '../events/lifecycle-event.js';

export interface EventStoreError {
  readonly type: 'EventStoreUnavailable';
  readonly message: string;
  readonly cause?: unknown;
}

/**
 * One life of a worker id: the resource it ran on and when that resource was created. An
 * event is of this life when it names the resource, or, for an older event that names none,
 * when it happened at or after the creation.
 */
export interface WorkerLife {
  readonly workerId: string;
  readonly resourceId: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** A worker asked about: a life of it, or a bare id for its events of any life. */
export type WorkerLifeRef = string | WorkerLife;

/** The worker id a reference names. */
export const workerIdOfRef = (ref: WorkerLifeRef): string =>
  typeof ref === 'string' ? ref : ref.workerId;

/** True when `event` (a worker event) is of the life `ref` names; any event for a bare id. */
export function isOfLife(
  event: { readonly occurredAt: string; readonly resourceId?: string },
  ref: WorkerLifeRef,
): boolean {
  if (typeof ref === 'string') return true;
  if (event.resourceId !== undefined) return event.resourceId === ref.resourceId;
  return Date.parse(event.occurredAt) >= ref.createdAt;
}

/**
 * Read side of a durable event log, used by `recover()` to restore busy/ready, the last
 * activity and the policy changes made at run time.
 */
export interface WorkerEventHistory {
  /**
   * For each worker given, its last state-changing event (Created, Ready, Busy, …) recorded
   * for this provider, of the life given (see `WorkerLife`); workers with none are absent
   * from the map, keyed by worker id. Every life starts with Created, so an absent life has
   * no record at all.
   */
  lastStateEvents(
    providerId: string,
    workers: readonly WorkerLifeRef[],
  ): ResultAsync<ReadonlyMap<string, LifecycleEvent>, EventStoreError>;
  /**
   * For each worker given, its last WorkerEphemeralPolicyChanged recorded for this provider,
   * of the life given; workers with none are absent. Optional: without it, a recovered worker
   * keeps its create-time policy.
   */
  lastPolicyChanges?(
    providerId: string,
    workers: readonly WorkerLifeRef[],
  ): ResultAsync<ReadonlyMap<string, WorkerEphemeralPolicyChanged>, EventStoreError>;
  /**
   * For each worker given, its WorkerEphemeralCleanedUp of the life given; workers with none
   * are absent. Optional: a refreshing recovery uses it to tell a worker another server
   * cleaned up (its life complete in the log) from one lost; without it, it is taken as lost.
   */
  lastCleanups?(
    providerId: string,
    workers: readonly WorkerLifeRef[],
  ): ResultAsync<ReadonlyMap<string, WorkerEphemeralCleanedUp>, EventStoreError>;
}
