import { errAsync, okAsync, type ResultAsync } from 'neverthrow';
import type { LifecycleEvent, LifecycleEventType } from '../events/lifecycle-event.js';
import type { LifecycleEventPublisher, PublishError } from '../ports/event-publisher.port.js';

/** Keeps every event it is given; can be told to fail. */
export class RecordingPublisher implements LifecycleEventPublisher {
  readonly events: LifecycleEvent[] = [];
  #failing: PublishError | null = null;
  #closed = false;

  publish(event: LifecycleEvent): ResultAsync<void, PublishError> {
    return this.publishBatch([event]);
  }

  publishBatch(events: readonly LifecycleEvent[]): ResultAsync<void, PublishError> {
    if (this.#closed) return errAsync({ type: 'PublisherClosed', message: 'publisher is closed' });
    if (this.#failing !== null) return errAsync(this.#failing);
    this.events.push(...events.map((e) => structuredClone(e)));
    return okAsync(undefined);
  }

  close(): ResultAsync<void, PublishError> {
    this.#closed = true;
    return okAsync(undefined);
  }

  /** Every publish fails with `error` until `recover()`. */
  failWith(
    error: PublishError = { type: 'PublisherUnavailable', message: 'injected', retryable: true },
  ): void {
    this.#failing = error;
  }

  recover(): void {
    this.#failing = null;
  }

  ofType<T extends LifecycleEventType>(type: T): Extract<LifecycleEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<LifecycleEvent, { type: T }> => e.type === type);
  }

  typesFor(workerId: string): LifecycleEventType[] {
    return this.events.filter((e) => 'workerId' in e && e.workerId === workerId).map((e) => e.type);
  }

  clear(): void {
    this.events.length = 0;
  }
}
