import { ResultAsync, errAsync } from 'neverthrow';
import type { LifecycleEvent } from '../events/lifecycle-event.js';
import type { LifecycleEventPublisher, PublishError } from '../ports/event-publisher.port.js';

const thrown = (cause: unknown): PublishError => ({
  type: 'PublisherUnavailable',
  message: `the publisher threw: ${cause instanceof Error ? cause.message : String(cause)}`,
  retryable: true,
  cause,
});

/** One publisher call as a ResultAsync even when it throws or its promise rejects. */
function guarded(call: () => ResultAsync<void, PublishError>): ResultAsync<void, PublishError> {
  try {
    return new ResultAsync(
      Promise.resolve(call()).catch((cause: unknown) => errAsync(thrown(cause))),
    );
  } catch (cause) {
    return errAsync(thrown(cause));
  }
}

/**
 * The manager's view of a publisher: a publisher that throws instead of returning `Err` (a
 * driver bug, a closed pool) fails that publish like any other failure, logged and counted by
 * the emitter, instead of breaking the change or pass that published (a deadline pass that
 * throws leaves the workers it had taken off the index unscheduled).
 */
export function guardPublisher(publisher: LifecycleEventPublisher): LifecycleEventPublisher {
  return {
    publish: (event: LifecycleEvent) => guarded(() => publisher.publish(event)),
    publishBatch: (events: readonly LifecycleEvent[]) =>
      guarded(() => publisher.publishBatch(events)),
    close: () => guarded(() => publisher.close()),
    ...(publisher.backpressure === undefined
      ? {}
      : { backpressure: () => publisher.backpressure?.() ?? null }),
  };
}
