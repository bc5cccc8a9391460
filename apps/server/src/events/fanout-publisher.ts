import { ResultAsync, ok, err, type Result } from 'neverthrow';
import type { LifecycleEvent, LifecycleEventPublisher, PublishError } from '@hodei/domain';

/** One destination of the fan-out, with the name its failures are counted under. */
export interface NamedPublisher {
  /** `postgres`, `logger`, `live`, `metrics`: the `publisher` label of the failures. */
  readonly name: string;
  readonly publisher: LifecycleEventPublisher;
}

/** Told of every event a publisher failed to take, naming the publisher. */
export type PublishFailureListener = (
  publisher: string,
  events: readonly LifecycleEvent[],
  error: PublishError,
) => void;

/**
 * Publishes every event to each publisher in turn (PostgreSQL, the logger, the live stream,
 * the metrics): one failing does not stop the others; the first error is returned, and each
 * failure is reported with the name of the publisher that failed.
 */
export class FanoutPublisher implements LifecycleEventPublisher {
  readonly #onFailure: PublishFailureListener | undefined;

  constructor(
    readonly publishers: readonly NamedPublisher[],
    onFailure?: PublishFailureListener,
  ) {
    this.#onFailure = onFailure;
  }

  /** The names of the publishers, in publishing order. */
  get names(): readonly string[] {
    return this.publishers.map((p) => p.name);
  }

  publish(event: LifecycleEvent): ResultAsync<void, PublishError> {
    return this.#all((p) => p.publish(event), [event]);
  }

  publishBatch(events: readonly LifecycleEvent[]): ResultAsync<void, PublishError> {
    return this.#all((p) => p.publishBatch(events), events);
  }

  backpressure(): PublishError | null {
    for (const { publisher } of this.publishers) {
      const pressure = publisher.backpressure?.() ?? null;
      if (pressure !== null) return pressure;
    }
    return null;
  }

  close(): ResultAsync<void, PublishError> {
    return this.#all((p) => p.close(), []);
  }

  #all(
    call: (p: LifecycleEventPublisher) => ResultAsync<void, PublishError>,
    events: readonly LifecycleEvent[],
  ): ResultAsync<void, PublishError> {
    const run = async (): Promise<Result<void, PublishError>> => {
      let first: PublishError | undefined;
      for (const { name, publisher } of this.publishers) {
        const result = await call(publisher);
        if (result.isOk()) continue;
        first ??= result.error;
        if (events.length > 0) this.#onFailure?.(name, events, result.error);
      }
      return first === undefined ? ok(undefined) : err(first);
    };
    return new ResultAsync(run());
  }
}
