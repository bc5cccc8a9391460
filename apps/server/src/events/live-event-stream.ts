import type { ResultAsync } from 'neverthrow';
import { okAsync, errAsync } from 'neverthrow';
import {
  eventSubject,
  type LifecycleEvent,
  type LifecycleEventPublisher,
  type PublishError,
} from '@hodei/domain';
import { RecentEvents } from './recent-events.js';
import { sseFrame } from './sse-frames.js';
import { WorkerHistories } from './worker-histories.js';

/** A live event as every SSE client gets it: its SSE frame built once, shared by all. */
export interface LiveEvent {
  readonly event: LifecycleEvent;
  /** The worker it is about (`eventSubject`), for the `workerId` filter. */
  readonly subject: string | undefined;
  readonly frame: Buffer;
}

/** The event, and the same with its shared frame for SSE clients. */
export type LiveListener = (event: LifecycleEvent, live: LiveEvent) => void;

export interface LiveEventStreamOptions {
  /** Recent events kept for SSE resume without a database. */
  readonly bufferSize?: number;
  /** Events kept per worker for the history endpoint without a database. */
  readonly perWorker?: number;
  /** Workers whose history is kept, the least recently active dropped first. */
  readonly workers?: number;
  /**
   * With an event store: whether the events published now may be missing from it (spooled,
   * the database away). Only those are kept per worker, until the store has caught up; without
   * this option every event is (no database: the memory is the only history).
   */
  readonly unstored?: () => boolean;
}

/** Fields unique to each event; the others' strings are shared with the rest of the server. */
const OWN_STRINGS: ReadonlySet<string> = new Set(['eventId', 'occurredAt', 'correlationId']);

/**
 * The event rebuilt by `JSON.parse`, which gives it a shared hidden class and flat strings;
 * strings it shares with the server's other records (worker id, provider, type, image) are the
 * same strings again, not copies.
 */
function compactCopy(event: LifecycleEvent): LifecycleEvent {
  const copy = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  const original = event as unknown as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(copy)) {
    if (typeof copy[key] === 'string' && !OWN_STRINGS.has(key)) copy[key] = original[key];
  }
  return copy as unknown as LifecycleEvent;
}

/**
 * The always-on publisher behind `GET /v1/events`: fans each event out to live listeners and
 * keeps a bounded recent buffer and the per-worker history the event store does not have.
 * What it keeps are compact copies: an event as the domain builds it carries a hidden class
 * of its own and cons-string ids, several hundred bytes more than the same data parsed.
 */
export class LiveEventStream implements LifecycleEventPublisher {
  readonly #listeners = new Set<LiveListener>();
  readonly #recent: RecentEvents;
  readonly #histories: WorkerHistories;
  readonly #unstored: (() => boolean) | undefined;
  #closed = false;

  constructor(options: LiveEventStreamOptions = {}) {
    this.#recent = new RecentEvents(options.bufferSize ?? 10_000);
    this.#histories = new WorkerHistories({
      perWorker: options.perWorker ?? 500,
      workers: options.workers ?? 10_000,
    });
    this.#unstored = options.unstored;
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
    return this.#recent.after(eventId);
  }

  /** The last event published, if any is still in the buffer. */
  newest(): LifecycleEvent | undefined {
    return this.#recent.newest();
  }

  /** The worker's events kept here: all of them without a store, else those it lacks. */
  historyOf(workerId: string): readonly LifecycleEvent[] | undefined {
    this.#forgetStored();
    return this.#histories.of(workerId);
  }

  #accept(event: LifecycleEvent): void {
    const kept = compactCopy(event);
    this.#recent.add(kept);
    this.#keepHistory(kept);
    if (this.#listeners.size === 0) return;
    const live: LiveEvent = {
      event,
      subject: eventSubject(event),
      frame: Buffer.from(sseFrame(event)),
    };
    for (const listener of this.#listeners) listener(event, live);
  }

  #keepHistory(event: LifecycleEvent): void {
    if (!('workerId' in event) || event.workerId === undefined) return;
    if (event.type === 'OrphanWorkerDetected') return;
    if (this.#unstored !== undefined && !this.#unstored()) {
      this.#forgetStored();
      return;
    }
    this.#histories.add(event.workerId, event);
  }

  /** Once the store has everything (the spool drained), what was kept for it can go. */
  #forgetStored(): void {
    if (this.#unstored === undefined || this.#histories.size === 0) return;
    if (!this.#unstored()) this.#histories.clear();
  }
}
