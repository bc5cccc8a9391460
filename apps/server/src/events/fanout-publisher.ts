import { ResultAsync, ok, err, type Result } from 'neverthrow';
import type { LifecycleEvent, LifecycleEventPublisher, PublishError } from '@hodei/domain';

/**
 * Publishes every event to each publisher in turn (PostgreSQL, the logger, the live stream):
 * one failing does not stop the others; the first error is returned.
 */
export class FanoutPublisher implements LifecycleEventPublisher {
  constructor(readonly publishers: readonly LifecycleEventPublisher[]) {}

  publish(event: LifecycleEvent): ResultAsync<void, PublishError> {
    return this.#all((p) => p.publish(event));
  }

  publishBatch(events: readonly LifecycleEvent[]): ResultAsync<void, PublishError> {
    return this.#all((p) => p.publishBatch(events));
  }

  backpressure(): PublishError | null {
    for (const p of this.publishers) {
      const pressure = p.backpressure?.() ?? null;
      if (pressure !== null) return pressure;
    }
    return null;
  }

  close(): ResultAsync<void, PublishError> {
    return this.#all((p) => p.close());
  }

  #all(
    call: (p: LifecycleEventPublisher) => ResultAsync<void, PublishError>,
  ): ResultAsync<void, PublishError> {
    const run = async (): Promise<Result<void, PublishError>> => {
      let first: PublishError | undefined;
      for (const p of this.publishers) {
        const result = await call(p);
        if (result.isErr()) first ??= result.error;
      }
      return first === undefined ? ok(undefined) : err(first);
    };
    return new ResultAsync(run());
  }
}
