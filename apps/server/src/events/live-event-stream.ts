import type { ResultAsync } from 'neverthrow';
import { okAsync, errAsync } from 'neverthrow';
import type { LifecycleEvent, LifecycleEventPublisher, PublishError } from '@hodei/domain';

export type LiveListener = (event: LifecycleEvent) => void;

export interface LiveEventStreamOptions {
  /** Recent events kept for SSE resume without a database. */
  readonly bufferSize?: number;
  /** Events kept per worker for the history endpoint without a database. */
  readonly perWorker?: number;
  /** Workers whose history is kept, the least recently active dropped first. */
  readonly workers?: number;
}

/**
 * The always-on publisher behind `GET /v1/events`: fans each event out to live listeners and
 * keeps a bounded recent buffer and per-worker history for when no database is configured.
 */
export class LiveEventStream implements LifecycleEventPublisher {
  readonly #listeners = new Set<LiveListener>();
  readonly #buffer: LifecycleEvent[] = [];
  readonly #byId = new Map<string, number>();
  readonly #history = new Map<string, LifecycleEvent[]>();
  #dropped = 0;
  #closed = false;
  readonly #bufferSize: number;
  readonly #perWorker: number;
  readonly #workers: number;

  constructor(options: LiveEventStreamOptions = {}) {
    this.#bufferSize = options.bufferSize ?? 10_000;
    this.#perWorker = options.perWorker ?? 500;
    this.#workers = options.workers ?? 10_000;
  }

  publish(event: LifecycleEvent): ResultAsync<void, PublishError> {
    return this.publishBatch([event]);
  }

  publishBatch(events: readonly LifecycleEvent[]): ResultAsync<void, PublishError> {
    if (this.#closed)
      return errAsync({ type: 'PublisherClosed', message: 'the live stream is closed' });
    for (const event of events) this.#accept(event);
    return okAsync(undefined);
  }

  close(): ResultAsync<void, PublishError> {
    this.#closed = true;
    this.#listeners.clear();
    return okAsync(undefined);
  }

  subscribe(listener: LiveListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events after `eventId` still in the buffer, oldest first; `undefined` if it fell out. */
  after(eventId: string): LifecycleEvent[] | undefined {
    const absolute = this.#byId.get(eventId);
    if (absolute === undefined) return undefined;
    return this.#buffer.slice(absolute - this.#dropped + 1);
  }

  /** The last event published, if any is still in the buffer. */
  newest(): LifecycleEvent | undefined {
    return this.#buffer.at(-1);
  }

  historyOf(workerId: string): readonly LifecycleEvent[] | undefined {
    return this.#history.get(workerId);
  }

  #accept(event: LifecycleEvent): void {
    this.#byId.set(event.eventId, this.#dropped + this.#buffer.length);
    this.#buffer.push(event);
    if (this.#buffer.length > this.#bufferSize) {
      const old = this.#buffer.shift();
      if (old !== undefined) this.#byId.delete(old.eventId);
      this.#dropped += 1;
    }
    if (
      'workerId' in event &&
      event.workerId !== undefined &&
      event.type !== 'OrphanWorkerDetected'
    ) {
      const list = this.#history.get(event.workerId) ?? [];
      this.#history.delete(event.workerId);
      list.push(event);
      if (list.length > this.#perWorker) list.shift();
      this.#history.set(event.workerId, list);
      if (this.#history.size > this.#workers) {
        const oldest = this.#history.keys().next().value;
        if (oldest !== undefined) this.#history.delete(oldest);
      }
    }
    for (const listener of this.#listeners) listener(event);
  }
}
