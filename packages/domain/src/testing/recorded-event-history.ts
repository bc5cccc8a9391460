import { okAsync, type ResultAsync } from 'neverthrow';
import {
  STATE_OF_EVENT,
  type LifecycleEvent,
  type WorkerEphemeralCleanedUp,
  type WorkerEphemeralPolicyChanged,
} from '../events/lifecycle-event.js';
import {
  isOfLife,
  workerIdOfRef,
  type EventStoreError,
  type WorkerEventHistory,
  type WorkerLifeRef,
} from '../ports/event-store.port.js';

/**
 * A WorkerEventHistory over events held in memory (a RecordingPublisher's `events`, say), in
 * the order given: what a durable log would answer recovery after a restart.
 */
export class RecordedEventHistory implements WorkerEventHistory {
  readonly #events: { readonly events: readonly LifecycleEvent[] };

  constructor(source: { readonly events: readonly LifecycleEvent[] }) {
    this.#events = source;
  }

  lastStateEvents(
    providerId: string,
    workers: readonly WorkerLifeRef[],
  ): ResultAsync<ReadonlyMap<string, LifecycleEvent>, EventStoreError> {
    return okAsync(
      this.#last(providerId, workers, (e): e is LifecycleEvent => e.type in STATE_OF_EVENT),
    );
  }

  lastPolicyChanges(
    providerId: string,
    workers: readonly WorkerLifeRef[],
  ): ResultAsync<ReadonlyMap<string, WorkerEphemeralPolicyChanged>, EventStoreError> {
    return okAsync(
      this.#last(
        providerId,
        workers,
        (e): e is WorkerEphemeralPolicyChanged => e.type === 'WorkerEphemeralPolicyChanged',
      ),
    );
  }

  lastCleanups(
    providerId: string,
    workers: readonly WorkerLifeRef[],
  ): ResultAsync<ReadonlyMap<string, WorkerEphemeralCleanedUp>, EventStoreError> {
    return okAsync(
      this.#last(
        providerId,
        workers,
        (e): e is WorkerEphemeralCleanedUp => e.type === 'WorkerEphemeralCleanedUp',
      ),
    );
  }

  #last<E extends LifecycleEvent>(
    providerId: string,
    workers: readonly WorkerLifeRef[],
    matches: (e: LifecycleEvent) => e is E,
  ): Map<string, E> {
    const wanted = new Map(workers.map((ref) => [workerIdOfRef(ref), ref]));
    const last = new Map<string, E>();
    for (const e of this.#events.events) {
      if (e.providerId !== providerId || !matches(e)) continue;
      const event: LifecycleEvent = e;
      const workerId = 'workerId' in event ? event.workerId : undefined;
      const ref = workerId === undefined ? undefined : wanted.get(workerId);
      // Only the life asked for: an earlier life under the same id must not leak into it.
      if (workerId !== undefined && ref !== undefined && isOfLife(event, ref))
        last.set(workerId, e);
    }
    return last;
  }
}
