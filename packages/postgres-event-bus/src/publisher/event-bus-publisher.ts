import {
  type Actor,
  type Clock,
  type LifecycleEvent,
  type LifecycleEventPublisher,
  type Logger,
  type PublishError,
  silentLogger,
} from '@hodei/domain';
import { systemClock } from '@hodei/domain/system';
import { err, errAsync, ok, okAsync, type Result, ResultAsync } from 'neverthrow';
import type { MigrationError } from '../event-bus.js';
import type { AppendError } from '../store/event-store.errors.js';
import { type EventRowJson, toEventRow } from '../store/event-row.js';
import type { PostgresEventStore } from '../store/postgres-event-store.js';
import { FileSpool, type SpoolError } from './file-spool.js';

/** What the publisher needs of the bus: its store and its migrations. */
export interface PublisherBus {
  readonly store: PostgresEventStore;
  ready(): ResultAsync<void, MigrationError>;
}

export interface EventBusPublisherOptions {
  readonly bus: PublisherBus;
  /** Directory of the durable spool (the server passes `$HODEI_DATA_DIR`). */
  readonly spoolDirectory: string;
  readonly spoolFileName?: string;
  /** Past this many spooled events, API-initiated events are refused (default 10 000). */
  readonly maxSpooledEvents?: number;
  /** Replay attempts back off from this (default 250 ms) up to `maxRetryMs` (default 5 s). */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  /** Events replayed per transaction (default 100). */
  readonly replayBatchSize?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface EventBusPublisherState {
  /** Whether the last attempt to reach PostgreSQL succeeded. */
  readonly connected: boolean;
  readonly spooledCount: number;
  readonly spooledBytes: number;
  /** Age of the oldest spooled event in milliseconds, `null` when the spool is empty. */
  readonly oldestSpooledAgeMs: number | null;
  readonly closed: boolean;
}

/** A publish's events (copies, for the spool) and their validated rows (for PostgreSQL). */
interface Outgoing {
  readonly events: LifecycleEvent[];
  readonly rows: readonly EventRowJson[];
}

/** Safety actions that still proceed, and still spool, past the size bound (SPEC §7). */
const SAFETY_ACTORS: ReadonlySet<Actor | undefined> = new Set<Actor | undefined>([
  'gc',
  'watch',
  'recovery',
]);

const spoolToPublishError = (e: SpoolError): PublishError => ({
  type: 'PublisherUnavailable',
  message: `PostgreSQL is unreachable and the spool failed: ${e.message}`,
  retryable: true,
  cause: e,
});

/**
 * `LifecycleEventPublisher` over the PostgreSQL event log. While PostgreSQL is unreachable,
 * events go to a durable local spool and are replayed, in order, when it returns and at the
 * next start; the idempotent append makes a replay of an already-stored event harmless.
 */
export class EventBusPublisher implements LifecycleEventPublisher {
  readonly #bus: PublisherBus;
  readonly #spool: FileSpool;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxSpooled: number;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #replayBatch: number;
  #tail: Promise<unknown> = Promise.resolve();
  /** Tasks waiting in or running through the queue (spooling, replays, close). */
  #queued = 0;
  #connected = true;
  #closed = false;
  #drainTimer: NodeJS.Timeout | null = null;
  #drainDelay: number;

  private constructor(options: EventBusPublisherOptions, spool: FileSpool) {
    this.#bus = options.bus;
    this.#spool = spool;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#maxSpooled = options.maxSpooledEvents ?? 10_000;
    this.#retryMs = options.retryMs ?? 250;
    this.#maxRetryMs = options.maxRetryMs ?? 5_000;
    this.#replayBatch = options.replayBatchSize ?? 100;
    this.#drainDelay = this.#retryMs;
  }

  /** Opens the spool and, if it holds events from a previous run, starts replaying them. */
  static open(options: EventBusPublisherOptions): Result<EventBusPublisher, PublishError> {
    return FileSpool.open(options.spoolDirectory, options.spoolFileName)
      .mapErr(spoolToPublishError)
      .map((spool) => {
        const publisher = new EventBusPublisher(options, spool);
        if (spool.droppedOnOpen > 0) {
          publisher.#logger.warn('event spool had damaged lines; they were dropped', {
            dropped: spool.droppedOnOpen,
          });
        }
        if (spool.count > 0) {
          publisher.#logger.info('replaying spooled events from a previous run', {
            count: spool.count,
          });
          publisher.#scheduleDrain(0);
        }
        return publisher;
      });
  }

  state(): EventBusPublisherState {
    const oldest = this.#spool.oldestSpooledAt;
    return {
      connected: this.#connected,
      spooledCount: this.#spool.count,
      spooledBytes: this.#spool.bytes,
      oldestSpooledAgeMs: oldest === null ? null : Math.max(0, this.#clock.now() - oldest),
      closed: this.#closed,
    };
  }

  backpressure(): PublishError | null {
    if (this.#spool.count < this.#maxSpooled) return null;
    return {
      type: 'PublisherBackpressure',
      message: `${this.#spool.count} events are waiting for PostgreSQL (limit ${this.#maxSpooled})`,
      retryable: true,
    };
  }

  publish(event: LifecycleEvent): ResultAsync<void, PublishError> {
    return this.publishBatch([event]);
  }

  publishBatch(events: readonly LifecycleEvent[]): ResultAsync<void, PublishError> {
    if (this.#closed) return errAsync({ type: 'PublisherClosed', message: 'publisher is closed' });
    if (events.length === 0) return okAsync(undefined);
    const rows: EventRowJson[] = [];
    for (const event of events) {
      const row = toEventRow(event, this.#bus.store.maxEventBytes);
      if (row.isErr()) {
        return errAsync({
          type: 'InvalidEvent',
          message: row.error.message,
          eventId: row.error.eventId,
        });
      }
      rows.push(row.value);
    }
    // Rows (for PostgreSQL) and copies (for the spool) are both taken now: a caller changing
    // an event after publish changes neither.
    const copy = events.map((e) => structuredClone(e));
    return new ResultAsync(this.#publish({ events: copy, rows }));
  }

  /**
   * With nothing spooled, publishes go straight to PostgreSQL, concurrently; once anything is
   * spooled (or an append finds the database away) they queue behind it, in order.
   */
  async #publish(batch: Outgoing): Promise<Result<void, PublishError>> {
    if (this.#spool.count === 0 && this.#queued === 0) {
      const stored = await this.#append(batch);
      if (stored.isOk()) return ok(undefined);
      if (!worthRetrying(stored.error)) return err(this.#refused(stored.error));
    }
    return this.#enqueue(() => this.#publishNow(batch));
  }

  #refused(error: AppendError | MigrationError): PublishError {
    return { type: 'PublisherUnavailable', message: error.message, retryable: true, cause: error };
  }

  /** Replays what is spooled now; Ok when the spool is empty afterwards. */
  flush(): ResultAsync<void, PublishError> {
    return new ResultAsync(
      this.#enqueue(async () => {
        await this.#drainOnce();
        return this.#spool.count === 0
          ? ok(undefined)
          : err<void, PublishError>({
              type: 'PublisherUnavailable',
              message: `${this.#spool.count} events still spooled: PostgreSQL is unreachable`,
              retryable: true,
            });
      }),
    );
  }

  /** Tries one last replay, then closes the spool; what is left is replayed at the next start. */
  close(): ResultAsync<void, PublishError> {
    if (this.#closed) return okAsync(undefined);
    this.#closed = true;
    if (this.#drainTimer !== null) clearTimeout(this.#drainTimer);
    this.#drainTimer = null;
    return new ResultAsync(
      this.#enqueue(async () => {
        if (this.#spool.count > 0) await this.#drainOnce();
        this.#spool.close();
        return ok<void, PublishError>(undefined);
      }),
    );
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.#queued += 1;
    const counted = () => task().finally(() => (this.#queued -= 1));
    const run = this.#tail.then(counted, counted);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #publishNow(batch: Outgoing): Promise<Result<void, PublishError>> {
    const { events } = batch;
    if (this.#spool.count === 0) {
      const stored = await this.#append(batch);
      if (stored.isOk()) return ok(undefined);
      if (!worthRetrying(stored.error)) return err(this.#refused(stored.error));
    }
    // PostgreSQL is unreachable, or older events are still spooled: keep the order.
    const safety = events.every((e) => SAFETY_ACTORS.has(e.actor));
    if (!safety && this.#spool.count + events.length > this.#maxSpooled) {
      return err(
        this.backpressure() ?? {
          type: 'PublisherBackpressure',
          message: `the spool cannot take ${events.length} more events (limit ${this.#maxSpooled})`,
          retryable: true,
        },
      );
    }
    const spooled = this.#spool.append(events, this.#clock.now());
    if (spooled.isErr()) return err(spoolToPublishError(spooled.error));
    this.#scheduleDrain(this.#drainDelay);
    return ok(undefined);
  }

  /** Appends the spooled events, or a publish's rows (converted once, when validated). */
  async #append(
    batch: readonly LifecycleEvent[] | Outgoing,
  ): Promise<Result<void, AppendError | MigrationError>> {
    const store = this.#bus.store;
    const result = await this.#bus
      .ready()
      .andThen(() => ('rows' in batch ? store.appendRows(batch.rows) : store.appendBatch(batch)));
    const unavailable = result.isErr() && result.error.type === 'EventStoreUnavailable';
    if (unavailable && this.#connected) {
      this.#logger.warn('PostgreSQL unreachable: spooling lifecycle events locally', {
        error: result.error.message,
      });
    } else if (!unavailable && !this.#connected) {
      this.#logger.info('PostgreSQL reachable again');
    }
    this.#connected = !unavailable;
    return result.map(() => undefined);
  }

  /** One replay pass: batches, oldest first, until the spool is empty or an append fails. */
  async #drainOnce(): Promise<void> {
    while (this.#spool.count > 0) {
      const batch = this.#spool.peek(this.#replayBatch);
      const last = batch.at(-1);
      if (last === undefined) return;
      const stored = await this.#append(batch.map((r) => r.event));
      if (stored.isErr()) {
        if (stored.error.type !== 'EventStoreUnavailable') {
          this.#logger.error('a spooled event is refused by PostgreSQL; retrying later', {
            error: stored.error.message,
          });
        }
        return;
      }
      const acked = this.#spool.ack(last.seq);
      if (acked.isErr()) {
        this.#logger.error('cannot acknowledge replayed events in the spool', {
          error: acked.error.message,
        });
        return;
      }
    }
  }

  #scheduleDrain(delay: number): void {
    if (this.#drainTimer !== null || this.#closed) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = null;
      void this.#enqueue(async () => {
        await this.#drainOnce();
        if (this.#spool.count > 0) {
          this.#drainDelay = Math.min(this.#drainDelay * 2, this.#maxRetryMs);
          this.#scheduleDrain(this.#drainDelay);
        } else {
          this.#drainDelay = this.#retryMs;
        }
      });
    }, delay);
    this.#drainTimer.unref();
  }
}

/**
 * Failures that a later attempt can get past: the database away, and server-side failures
 * (disk full, a read-only standby after a failover, a statement timeout). Those are spooled
 * rather than lost; only what PostgreSQL will never take (too large, not serialisable, a
 * wrong expected version) is refused.
 */
function worthRetrying(error: AppendError | MigrationError): boolean {
  return error.type === 'EventStoreUnavailable' || error.type === 'EventStoreFailure';
}
