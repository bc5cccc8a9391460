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
import type { SpoolLocked } from './spool-lock.js';
import type { WriteFn } from './write-all.js';

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
  /**
   * While the spool cannot be written (a full disk) and PostgreSQL is away, accepted events
   * wait in memory, in order, and are retried; past this many (default 10 000) further events
   * are refused and logged. API-initiated work is refused meanwhile (`backpressure()`).
   */
  readonly maxBufferedEvents?: number;
  /** The spool's write call (a seam for tests). */
  readonly spoolWrite?: WriteFn;
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
  /** Events accepted while the spool could not be written, held in memory until it can. */
  readonly bufferedCount: number;
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

const spoolToPublishError = (e: SpoolError): PublishError & { type: 'PublisherUnavailable' } => ({
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
  readonly #maxBuffered: number;
  /** Accepted events the spool could not take, oldest first; they go after the spooled ones. */
  #buffered: LifecycleEvent[] = [];
  /** Why the spool could not be written last time; cleared once the buffer is empty. */
  #spoolFault: SpoolError | null = null;
  /** Accepted publishes not yet done; close waits for them (they may fall back to the spool). */
  readonly #inFlight = new Set<Promise<unknown>>();
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
    this.#maxBuffered = options.maxBufferedEvents ?? 10_000;
    this.#drainDelay = this.#retryMs;
  }

  /**
   * Opens the spool (exclusively: `SpoolLocked` when another live process holds it) and, if it
   * holds events from a previous run, starts replaying them.
   */
  static open(
    options: EventBusPublisherOptions,
  ): Result<EventBusPublisher, PublishError | SpoolLocked> {
    const opened = FileSpool.open(options.spoolDirectory, {
      ...(options.spoolFileName === undefined ? {} : { fileName: options.spoolFileName }),
      ...(options.spoolWrite === undefined ? {} : { write: options.spoolWrite }),
    });
    return opened
      .mapErr((e): PublishError | SpoolLocked =>
        e.type === 'SpoolLocked' ? e : spoolToPublishError(e),
      )
      .map((spool) => {
        const publisher = new EventBusPublisher(options, spool);
        const stale = spool.lockTakenOver;
        if (stale !== null) {
          publisher.#logger.warn('took over the stale lock of the event spool', { ...stale });
        }
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
      bufferedCount: this.#buffered.length,
      oldestSpooledAgeMs: oldest === null ? null : Math.max(0, this.#clock.now() - oldest),
      closed: this.#closed,
    };
  }

  backpressure(): PublishError | null {
    const fault = this.#spoolFault;
    if (fault !== null || this.#buffered.length > 0) {
      return {
        type: 'PublisherBackpressure',
        message:
          `the event spool cannot be written (${fault?.message ?? 'retrying'}); ` +
          `${this.#buffered.length} events wait in memory`,
        retryable: true,
      };
    }
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
    const publishing = this.#publish({ events: copy, rows });
    this.#inFlight.add(publishing);
    const done = () => this.#inFlight.delete(publishing);
    publishing.then(done, done);
    return new ResultAsync(publishing);
  }

  /**
   * With nothing spooled, publishes go straight to PostgreSQL, concurrently; once anything is
   * spooled (or an append finds the database away) they queue behind it, in order.
   */
  async #publish(batch: Outgoing): Promise<Result<void, PublishError>> {
    if (this.#spool.count === 0 && this.#queued === 0 && this.#buffered.length === 0) {
      const stored = await this.#append(batch);
      if (stored.isOk()) return ok(undefined);
      if (!worthRetrying(stored.error)) return err(this.#refused(stored.error));
    }
    return this.#enqueue(() => this.#publishNow(batch));
  }

  #refused(error: AppendError | MigrationError): PublishError {
    return { type: 'PublisherUnavailable', message: error.message, retryable: true, cause: error };
  }

  /** Replays what is spooled (and buffered) now; Ok when nothing waits afterwards. */
  flush(): ResultAsync<void, PublishError> {
    return new ResultAsync(
      this.#enqueue(async () => {
        await this.#drainOnce();
        return this.#leftover('still spooled: PostgreSQL is unreachable');
      }),
    );
  }

  #leftover(why: string): Result<void, PublishError> {
    const waiting = this.#spool.count + this.#buffered.length;
    if (waiting === 0) return ok(undefined);
    return err({
      type: 'PublisherUnavailable',
      message: `${waiting} events ${why}`,
      retryable: true,
    });
  }

  /**
   * Refuses new publishes, waits for the accepted ones, tries one last replay, then closes the
   * spool; what is spooled is replayed at the next start. Events still only in memory (the
   * spool unwritable, PostgreSQL away) are lost: logged, and the close answers Err.
   */
  close(): ResultAsync<void, PublishError> {
    if (this.#closed) return okAsync(undefined);
    this.#closed = true;
    if (this.#drainTimer !== null) clearTimeout(this.#drainTimer);
    this.#drainTimer = null;
    const closing = async (): Promise<Result<void, PublishError>> => {
      await Promise.allSettled([...this.#inFlight]);
      return this.#enqueue(async () => {
        if (this.#spool.count > 0 || this.#buffered.length > 0) await this.#drainOnce();
        this.#spool.close();
        if (this.#buffered.length > 0) {
          this.#logger.error('lifecycle events lost at close: neither spooled nor stored', {
            count: this.#buffered.length,
            error: this.#spoolFault?.message,
          });
        }
        return this.#buffered.length === 0 ? ok(undefined) : this.#leftover('lost at close');
      });
    };
    return new ResultAsync(closing());
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
    if (this.#spool.count === 0 && this.#buffered.length === 0) {
      const stored = await this.#append(batch);
      if (stored.isOk()) return ok(undefined);
      if (!worthRetrying(stored.error)) return err(this.#refused(stored.error));
    }
    if (this.#buffered.length > 0) return this.#buffer(events);
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
    if (spooled.isErr()) {
      if (this.#spoolFault === null) {
        this.#logger.error('the event spool cannot be written: holding events in memory', {
          error: spooled.error.message,
        });
      }
      this.#spoolFault = spooled.error;
      return this.#buffer(events);
    }
    this.#scheduleDrain(this.#drainDelay);
    return ok(undefined);
  }

  /** Keeps events in memory, behind those already there, up to the bound. */
  #buffer(events: LifecycleEvent[]): Result<void, PublishError> {
    this.#scheduleDrain(this.#retryMs);
    if (this.#buffered.length + events.length > this.#maxBuffered) {
      const refused = spoolToPublishError(
        this.#spoolFault ?? { type: 'SpoolUnavailable', message: 'the event spool is unwritable' },
      );
      const error = {
        ...refused,
        message: `${refused.message}; ${this.#buffered.length} events already wait in memory (limit ${this.#maxBuffered})`,
      };
      this.#logger.error('lifecycle events refused: the memory buffer is full', {
        count: events.length,
        eventIds: events.map((e) => e.eventId),
        error: error.message,
      });
      return err(error);
    }
    this.#buffered.push(...events);
    return ok(undefined);
  }

  /**
   * Moves buffered events to the spool, or, when the spool is still unwritable and nothing is
   * spooled before them, straight to PostgreSQL; either way in order.
   */
  async #drainBuffered(): Promise<void> {
    if (this.#buffered.length === 0) return;
    const moved = this.#spool.append(this.#buffered, this.#clock.now());
    if (moved.isOk()) {
      this.#logger.info('the event spool is writable again', { moved: this.#buffered.length });
      this.#buffered = [];
      this.#spoolFault = null;
      return;
    }
    this.#spoolFault = moved.error;
    if (this.#spool.count > 0) return;
    while (this.#buffered.length > 0) {
      const batch = this.#buffered.slice(0, this.#replayBatch);
      const stored = await this.#append(batch);
      if (stored.isErr()) return;
      this.#buffered = this.#buffered.slice(batch.length);
    }
    this.#spoolFault = null;
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
    await this.#drainBuffered();
    await this.#drainSpool();
    await this.#drainBuffered();
  }

  async #drainSpool(): Promise<void> {
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
        if (this.#spool.count > 0 || this.#buffered.length > 0) {
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
