import type { ResultAsync } from 'neverthrow';
import type { LifecycleEvent } from '../events/lifecycle-event.js';

export type PublishError =
  | {
      readonly type: 'PublisherUnavailable';
      readonly message: string;
      readonly retryable: true;
      readonly cause?: unknown;
    }
  | {
      /** The publisher's buffer is full: API-initiated work is refused until it drains. */
      readonly type: 'PublisherBackpressure';
      readonly message: string;
      readonly retryable: true;
    }
  | { readonly type: 'InvalidEvent'; readonly message: string; readonly eventId?: string }
  | { readonly type: 'PublisherClosed'; readonly message: string };

export interface LifecycleEventPublisher {
  publish(event: LifecycleEvent): ResultAsync<void, PublishError>;
  /** In order; all or, on error, as many as the publisher says it kept. */
  publishBatch(events: readonly LifecycleEvent[]): ResultAsync<void, PublishError>;
  /**
   * `PublisherBackpressure` when new API-initiated work should be refused; safety actions
   * (GC, watch) publish regardless. Publishers without a buffer omit it.
   */
  backpressure?(): PublishError | null;
  /** Flushes what is buffered and releases connections. */
  close(): ResultAsync<void, PublishError>;
}
